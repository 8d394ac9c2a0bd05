import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Testbed } from '../kit/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { type CliOptions, useCliTestbed } from './harness.js';

// `token` is what scripts call: it must refresh an expired token by itself, and turn a dead grant
// into exit 3 with the command to run, never into a token that does not work.
const t = useCliTestbed();
let bed: Testbed;
let home: string;
beforeEach(async () => {
  ({ bed, home } = t);
  await t.configureKit({ timeout: null });
});
afterEach(() => {
  bed.as.setAccessTokenTtl(3600);
});
const browser = scriptedBrowserHook();
const cli = (args: string[], env: CliOptions['env'] = {}, options: CliOptions = {}) =>
  t.cli(args, { env, ...options });

/** Logs in with a 1 s access token, then waits until it has expired. */
async function loginWithExpiredToken(): Promise<void> {
  bed.as.setAccessTokenTtl(1);
  const login = await cli(['login', 'kit'], {}, { openBrowser: browser });
  expect(login.code, login.stderr).toBe(0);
  bed.as.setAccessTokenTtl(3600);
  await new Promise((r) => setTimeout(r, 1_200));
  const status = JSON.parse((await cli(['status', 'kit', '--json'])).stdout).servers[0];
  expect(status.state).toBe('expired');
}

describe('mcp-oauth token', () => {
  it('refreshes an expired token and prints the new one (accepted by the MCP server)', async () => {
    await loginWithExpiredToken();
    const refreshes = bed.as.stats.refreshSuccesses;
    const token = await cli(['--json', 'token', 'kit']);
    expect(token.code, token.stderr).toBe(0);
    const printed = JSON.parse(token.stdout) as Record<string, unknown>;
    expect(Object.keys(printed)).toEqual(['server', 'accessToken', 'expiresAt', 'expiresIn']);
    expect(bed.as.stats.refreshSuccesses).toBe(refreshes + 1);
    expect(printed.expiresIn).toBeGreaterThan(3000);

    const response = await fetch(bed.mcp.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${printed.accessToken as string}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'cli-test', version: '1' },
        },
      }),
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it('a grant the server revoked: exit 3, nothing on stdout, status says needs_reauth and what to run', async () => {
    await loginWithExpiredToken();
    await bed.as.revokeAllGrants();
    const token = await cli(['token', 'kit']);
    expect(token.code).toBe(3);
    expect(token.stdout).toBe('');
    expect(token.stderr).toMatch(
      /^error: MCP server 'kit' needs a new login \(.*invalid_grant.*\)\. Run: mcp-oauth --home \S+ login kit\n$/,
    );

    const status = await cli(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/\nkit +needs_reauth +- +/);
    expect(status.stderr).toContain(`kit: needs a new login`);
    expect(status.stderr).toContain(`Run: mcp-oauth --home ${home} login kit`);
  });
});
