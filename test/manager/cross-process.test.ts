import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OAuthManager } from '../../src/index.js';
import { withInternalSeams } from '../../src/internal.js';
import { fileNameFor } from '../../src/store/file-names.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer, type TestMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { type Child, startChild } from '../support/children.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

async function testbed(accessTokenTtlSeconds = 3600) {
  const as: TestAuthorizationServer = await startAuthorizationServer({ accessTokenTtlSeconds });
  cleanups.push(() => as.close());
  const mcp: TestMcpServer = await startMcpServer({ authorizationServer: as.issuer });
  cleanups.push(() => mcp.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  // The first login happens in the parent, through the same browser hook users have.
  const manager = new OAuthManager({ home, interactive: 'never', openBrowser: scriptedBrowserHook() });
  manager.getOrBuildProvider('demo', mcp.url);
  await manager.login('demo');
  await manager.close();
  as.resetStats();
  const recordPath = join(home, 'credentials', `${fileNameFor({ server: 'demo' })}.json`);
  const readRecord = async () => JSON.parse(await readFile(recordPath, 'utf8'));
  return { as, mcp, home, readRecord };
}

async function children(count: number, env: Record<string, string>): Promise<Child[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startChild(env)));
  cleanups.push(() => Promise.all(started.map((c) => c.stop())));
  return started;
}

/** Sets every child's clock, waits until all have it (the barrier), then starts all calls at once. */
async function round(kids: Child[], now: number | undefined, calls: number) {
  if (now !== undefined) await Promise.all(kids.map((c) => c.request({ type: 'clock', now }, 'clock-set')));
  const done = kids.map((c) => c.next<{ ok: number; failed: number; errors: string[] }>('done'));
  for (const c of kids) c.process.send({ type: 'go', calls });
  return Promise.all(done);
}

describe('processes sharing one home folder', () => {
  it('8 processes × 50 calls × 20 rounds on an injected clock: refresh requests == 20, zero invalid_grant', async () => {
    const { as, mcp, home, readRecord } = await testbed(3600);
    const kids = await children(8, { CHILD_HOME: home, CHILD_MCP_URL: mcp.url });
    const rounds = 20;
    for (let r = 0; r < rounds; r++) {
      // Move every clock just past the current token's expiry: each round expires exactly once
      // (the real lifetime is 1 h, so the refreshed token cannot expire again within the round).
      const { tokens } = await readRecord();
      const results = await round(kids, tokens.expiresAt + 1, 50);
      for (const result of results) expect(result).toEqual({ type: 'done', ok: 50, failed: 0, errors: [] });
      expect(as.stats.refreshRequests).toBe(r + 1);
    }
    expect(as.stats.refreshRequests).toBe(rounds);
    expect(as.stats.invalidGrant).toBe(0);
    expect(new Set(as.stats.refreshTokensSeen).size).toBe(as.stats.refreshTokensSeen.length);
    expect(mcp.stats.toolCalls.echo).toBe(8 * 50 * rounds);
  }, 180_000);

  it('one round with a real short lifetime, no injected clock: exactly 1 refresh, zero invalid_grant', async () => {
    // The first token lives 4 s of real time; the refreshed one lives 1 h, so however slow the
    // round is on a loaded machine, it can only see this one expiry.
    const { as, mcp, home, readRecord } = await testbed(4);
    as.setAccessTokenTtl(3600);
    const kids = await children(8, { CHILD_HOME: home, CHILD_MCP_URL: mcp.url, CHILD_REAL_CLOCK: '1' });
    const { tokens } = await readRecord();
    await new Promise((r) => setTimeout(r, Math.max(0, tokens.expiresAt - Date.now()) + 200));
    const results = await round(kids, undefined, 50);
    for (const result of results) expect(result.failed).toBe(0);
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.invalidGrant).toBe(0);
  }, 60_000);

  it('another process logs out: once credentials-changed is seen, no request carries the old token and NeedsReauthError is raised', async () => {
    const { mcp, home } = await testbed(3600);
    const [a, b] = await children(2, { CHILD_HOME: home, CHILD_MCP_URL: mcp.url });
    await a!.request({ type: 'watch' }, 'watching');
    const { token: old } = await a!.request<{ token: string }>({ type: 'token' }, 'token');
    const results = await round([a!], Date.now(), 5);
    expect(results[0]!.failed).toBe(0);
    const changed = a!.next('credentials-changed');
    await b!.request({ type: 'logout' }, 'logged-out');
    await changed;
    const requestsWithOld = mcp.stats.requestsWithToken(old);
    const after = await a!.request<{ error?: string; message?: string }>({ type: 'token' }, 'token');
    expect(after.error).toBe('NeedsReauthError');
    expect(after.message).toContain('login demo');
    const calls = await round([a!], undefined, 5);
    expect(calls[0]!.failed).toBe(5);
    expect(mcp.stats.requestsWithToken(old)).toBe(requestsWithOld);
  }, 60_000);

  it('a process SIGKILLed after taking the refresh lock: the kernel frees its lock, the others make 1 refresh, zero invalid_grant', async () => {
    const { as, mcp, home, readRecord } = await testbed(3600);
    const env = { CHILD_HOME: home, CHILD_MCP_URL: mcp.url };
    const [victim] = await children(1, { ...env, CHILD_HOOK: 'kill-after-lock' });
    const { tokens } = await readRecord();
    const past = tokens.expiresAt + 1;
    await victim!.request({ type: 'clock', now: past }, 'clock-set');
    victim!.process.send({ type: 'token' });
    expect((await victim!.exited).signal).toBe('SIGKILL');
    const others = await children(3, env);
    const results = await round(others, past, 20);
    for (const result of results) expect(result.failed).toBe(0);
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.invalidGrant).toBe(0);
  }, 60_000);

  it('a process SIGKILLed after its refresh request reached the server: no retry loop, at worst needs_reauth', async () => {
    const { as, mcp, home, readRecord } = await testbed(3600);
    const env = { CHILD_HOME: home, CHILD_MCP_URL: mcp.url };
    const [victim] = await children(1, { ...env, CHILD_HOOK: 'kill-after-refresh-response' });
    const { tokens } = await readRecord();
    const past = tokens.expiresAt + 1;
    await victim!.request({ type: 'clock', now: past }, 'clock-set');
    victim!.process.send({ type: 'token' });
    expect((await victim!.exited).signal).toBe('SIGKILL');
    expect(as.stats.refreshRequests).toBe(1);
    const others = await children(3, env);
    await round(others, past, 20);
    await round(others, undefined, 20);
    // The rotated refresh token died with the victim: the survivors' one attempt is refused
    // (reuse detection), the record turns needs_reauth, and nobody retries.
    expect(as.stats.refreshRequests).toBe(2);
    expect(new Set(as.stats.refreshTokensSeen).size).toBe(1);
    expect(as.stats.invalidGrant).toBe(1);
    expect((await readRecord()).state).toBe('needs_reauth');
  }, 60_000);

  it('a refresh in flight while another process logs out and in again does not overwrite the new credential', async () => {
    const { mcp, home, readRecord } = await testbed(3600);
    // The writer bypasses the lock (benchmark-only mode) to force the interleaving the lock
    // otherwise prevents: this proves the compare-and-set alone protects the new credential.
    const [writer] = await children(1, { CHILD_HOME: home, CHILD_MCP_URL: mcp.url, CHILD_LOCK: '0' });
    const { tokens } = await readRecord();
    let released: () => void = () => {};
    const gate = new Promise<void>((r) => {
      released = r;
    });
    let reachedServer: () => void = () => {};
    const reached = new Promise<void>((r) => {
      reachedServer = r;
    });
    const { FakeClock } = await import('../support/fake-clock.js');
    const clock = new FakeClock();
    clock.set(tokens.expiresAt + 1);
    const refresher = new OAuthManager(
      withInternalSeams(
        { home, clock, interactive: 'never' },
        {
          testHooks: {
            afterRefreshResponse: async () => {
              reachedServer();
              await gate;
            },
          },
        },
      ),
    );
    cleanups.push(() => refresher.close());
    const provider = refresher.getOrBuildProvider('demo', mcp.url);
    const inFlight = provider.token();
    await reached;
    await writer!.request({ type: 'logout' }, 'logged-out');
    await writer!.request({ type: 'login' }, 'logged-in');
    const fresh = await readRecord();
    released();
    const got = await inFlight;
    const after = await readRecord();
    expect(after.recordId).toBe(fresh.recordId);
    expect(after.generation).toBe(fresh.generation);
    expect(after.tokens.accessToken).toBe(fresh.tokens.accessToken);
    expect(got).toBe(fresh.tokens.accessToken);
  }, 60_000);
});
