import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { type Logger, NeedsReauthError, OAuthManager } from '../../src/index.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { connectV2, textOf } from '../support/mcp-client.js';
import { tempHome } from '../support/temp-home.js';
import { startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

describe('secrets never leave', () => {
  it('no access token, refresh token or code appears in logs (every level), errors, events or status', async () => {
    const lines: string[] = [];
    const capture =
      (level: string) =>
      (message: string, fields?: Record<string, unknown>): void => {
        lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
      };
    const logger: Logger = {
      debug: capture('debug'),
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
    };
    const { as, clock, manager, provider, recordPath } = await startBed(cleanups, {
      login: false,
      manager: { logger },
    });
    const events: unknown[] = [];
    manager.on('credentials-changed', (e) => events.push(e));
    manager.on('needs-reauth', (e) => events.push(e));
    manager.on('reconnect-required', (e) => events.push(e));
    await manager.login('demo');
    const secrets = new Set<string>();
    const collect = async () => {
      const r = JSON.parse(await readFile(recordPath, 'utf8'));
      secrets.add(r.tokens.accessToken);
      if (r.tokens.refreshToken) secrets.add(r.tokens.refreshToken);
    };
    await collect();
    clock.advance(3600_000 + 1);
    await provider.token();
    await collect();
    await as.revokeAllGrants();
    clock.advance(3600_000 + 1);
    const error = (await provider.token().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(NeedsReauthError);
    const status = await manager.status('demo');
    const haystack = [
      ...lines,
      error.message,
      String(error.stack),
      JSON.stringify(events),
      JSON.stringify(status),
    ].join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(secrets.size).toBe(4);
    for (const secret of secrets) expect(haystack).not.toContain(secret);
    expect(haystack).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});

describe('the same provider on the v2 SSE transport', () => {
  it('calls a tool over SSE and recovers a 401 with one refresh', async () => {
    const { as, mcp, provider } = await startBed(cleanups, { mcp: { transport: 'sse' } });
    const client = new Client({ name: 'sse-host', version: '1.0.0' });
    await client.connect(
      new SSEClientTransport(new URL(mcp.url), { authProvider: provider, fetch: provider.fetch }),
    );
    cleanups.push(() => client.close());
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over sse' } }))).toBe('over sse');
    mcp.rejectToken((await provider.token())!);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: String(i) } })),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(as.stats.refreshRequests).toBe(1);
    expect(mcp.stats.toolCalls.echo).toBe(21);
  });
});

describe('close()', () => {
  it('releases watchers and timers: a process that used the manager exits by itself', async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const script = `
      import { OAuthManager } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).pathname)};
      const manager = new OAuthManager({ home: ${JSON.stringify(home)}, interactive: 'never' });
      manager.getOrBuildProvider('x', 'https://example.com/mcp');
      await manager.accessToken('x').catch(() => {});
      await manager.status('x');
      await manager.close();
      console.log('closed');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    const exit = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running after 15 s');
      }, 15_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code ?? -1);
      });
    });
    expect(out.trim()).toBe('closed');
    expect(exit).toBe(0);
  });
});

describe('an MCP server seen by two managers in one process', () => {
  it('a login in one manager reaches the other through the store watch (credentials-changed, then usable)', async () => {
    const as = await startAuthorizationServer();
    cleanups.push(() => as.close());
    const mcp = await startMcpServer({ authorizationServer: as.issuer });
    cleanups.push(() => mcp.close());
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const a = new OAuthManager({ home, interactive: 'never', openBrowser: scriptedBrowserHook() });
    const b = new OAuthManager({ home, interactive: 'never' });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    a.getOrBuildProvider('demo', mcp.url);
    const pb = b.getOrBuildProvider('demo', mcp.url);
    // Never logged in: no token (the request would go out bare); accessToken() needs a login.
    expect(await pb.token()).toBeUndefined();
    await expect(b.accessToken('demo')).rejects.toBeInstanceOf(NeedsReauthError);
    const reconnect = new Promise((resolve) => b.once('reconnect-required', resolve));
    await a.login('demo');
    await reconnect;
    const client = await connectV2(mcp.url, pb);
    cleanups.push(() => client.close());
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'b works' } }))).toBe('b works');
  });
});

describe('close() and a refresh in flight', () => {
  it('waits for a background refresh to persist its rotation before returning', async () => {
    const { as, clock, manager, recordPath } = await startBed(cleanups);
    const before = JSON.parse(await readFile(recordPath, 'utf8'));
    clock.advance(3600_000 - 30_000); // inside the skew window: a background refresh starts
    expect(await manager.accessToken('demo')).toBe(before.tokens.accessToken);
    await manager.close();
    const after = JSON.parse(await readFile(recordPath, 'utf8'));
    expect(after.tokens.accessToken).not.toBe(before.tokens.accessToken);
    expect(after.generation).toBe(before.generation + 1);
    expect(as.stats.refreshSuccesses).toBe(1);
  });
});

describe('an insecure home folder', () => {
  it('is reported as InsecureHomeError with the chmod to run, not as a server needing a login', async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const { mkdir, chmod } = await import('node:fs/promises');
    await mkdir(home, { recursive: true });
    await chmod(home, 0o777);
    const manager = new OAuthManager({ home, interactive: 'never' });
    cleanups.push(() => manager.close());
    manager.getOrBuildProvider('x', 'https://example.com/mcp');
    const { InsecureHomeError } = await import('../../src/index.js');
    const error = await manager.status('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsecureHomeError);
    expect((error as Error).message).toContain(`chmod 700 ${home}`);
  });
});
