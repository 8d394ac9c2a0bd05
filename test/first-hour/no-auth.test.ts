import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, NeedsReauthError, OAuthManager } from '../../src/index.js';
import { runCli, writeConfig } from '../cli/harness.js';
import { tempHome } from '../support/temp-home.js';
import { startPublicMcpServer } from './odd-servers.js';

// A real MCP server of the SDK with no authentication, on 127.0.0.1: connect() and the CLI work
// with no credential and no login; the first unauthenticated answer is recorded as `no_auth`
// (observations/ in the home, beside the credentials), a later 401 clears it.

let home: string;
let cleanup: () => Promise<void>;
let server: Awaited<ReturnType<typeof startPublicMcpServer>>;
beforeEach(async () => {
  ({ home, cleanup } = await tempHome());
  server = await startPublicMcpServer();
  await writeConfig(home, `servers:\n  public:\n    url: ${server.url}\n`);
});
afterEach(async () => {
  await server.close();
  await cleanup();
});

const textOf = (result: unknown) =>
  ((result as { content: Array<{ text: string }> }).content[0] ?? { text: '' }).text;

describe('connect() to a server that needs no authentication', () => {
  for (const interactive of ['never', 'auto'] as const) {
    it(`interactive '${interactive}': no credential, no login, the tool answers; status no_auth`, async () => {
      const manager = new OAuthManager({
        home,
        interactive,
        openBrowser: async () => {
          throw new Error('no browser may open for a server without authentication');
        },
      });
      try {
        const client = await connect('public', { manager });
        expect(textOf(await client.callTool({ name: 'echo', arguments: {} }))).toBe('hello');
        await client.close();
        expect(server.withAuthorization).toBe(0);
        expect((await manager.status('public')).state).toBe('no_auth');
      } finally {
        await manager.close();
      }
      // No credential was written; the observation is a side record another process reads.
      expect(await readdir(join(home, 'credentials')).catch(() => [])).toEqual([]);
      expect(await readdir(join(home, 'observations'))).toHaveLength(1);
      const status = await runCli(['--home', home, 'status', '--json']);
      expect(JSON.parse(status.stdout).servers[0]).toMatchObject({ name: 'public', state: 'no_auth' });
      const token = await runCli(['--home', home, 'token', 'public']);
      expect(token.code).toBe(2);
      expect(token.stderr).toContain('needs no token');
    });
  }

  it('a later 401 clears the observation and the normal flow starts (NeedsReauthError with the command)', async () => {
    const manager = new OAuthManager({ home, interactive: 'never' });
    try {
      const client = await connect('public', { manager });
      await client.callTool({ name: 'echo', arguments: {} });
      expect((await manager.status('public')).state).toBe('no_auth');
      server.requireAuthentication();
      const error = await client.callTool({ name: 'echo', arguments: {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NeedsReauthError);
      expect((error as NeedsReauthError).command).toContain('login public');
      expect((await manager.status('public')).state).toBe('logged_out');
      await client.close().catch(() => {});
    } finally {
      await manager.close();
    }
    const status = await runCli(['--home', home, 'status', 'public', '--json']);
    expect(JSON.parse(status.stdout).servers[0].state).toBe('logged_out');
  });

  it('a URL change forgets the observation (it was made for the old URL)', async () => {
    const manager = new OAuthManager({ home, interactive: 'never' });
    try {
      const client = await connect('public', { manager });
      await client.callTool({ name: 'echo', arguments: {} });
      await client.close();
    } finally {
      await manager.close();
    }
    await writeConfig(home, `servers:\n  public:\n    url: ${server.origin}/other/mcp\n`);
    const status = await runCli(['--home', home, 'status', 'public', '--json']);
    expect(JSON.parse(status.stdout).servers[0].state).toBe('logged_out');
  });
});
