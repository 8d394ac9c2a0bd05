/**
 * Fleets on one Redis: real child processes with different home folders stand for different
 * machines; the test kit's real authorization server (rotating refresh tokens with reuse
 * detection) and MCP server; the core suite's injected clock decides when tokens expire.
 *
 * Sizes: the 8-machine round runs 8 × 50 calls × 5 expiry rounds in CI (about a minute on a
 * loaded 2-core machine); REDIS_FLEET_ROUNDS=20 runs the full size (measured: passes in
 * 231 s on the same machine).
 */
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { OAuthManager } from '../../src/index.js';
import { RedisCredentialStore } from '../../src/store/redis-credential-store.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer, type TestMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { type Child, startChild } from '../support/children.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { waitFor } from './helpers.js';

const cleanups = useCleanups();
const HOST = new URL('./redis-host-child.ts', import.meta.url).pathname;
const ROUNDS = Number(process.env.REDIS_FLEET_ROUNDS ?? 5);
let prefixes = 0;

interface Bed {
  as: TestAuthorizationServer;
  mcp: TestMcpServer;
  redis: RedisServer;
  prefix: string;
  store: RedisCredentialStore;
  /** The stored record (read through a store of the parent). */
  record(): Promise<{ tokens: { expiresAt: number; refreshToken: string; accessToken: string } }>;
  /** Resolves once the parent's own store client answers again (after a restart). */
  reconnected(): Promise<void>;
}

async function bed(options: { persistence?: boolean } = {}): Promise<Bed> {
  const redis = await startRedisServer({ persistence: options.persistence ?? false });
  cleanups.push(() => redis.stop());
  const as = await startAuthorizationServer({ accessTokenTtlSeconds: 3600 });
  cleanups.push(() => as.close());
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  cleanups.push(() => mcp.close());
  const prefix = `fleet${++prefixes}:`;
  const store = new RedisCredentialStore({ url: redis.url, prefix });
  cleanups.push(() => store.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  // The first login, on a machine of its own, through the browser hook users have.
  const manager = new OAuthManager({ home, store, interactive: 'never', openBrowser: scriptedBrowserHook() });
  manager.getOrBuildProvider('demo', mcp.url);
  await manager.login('demo');
  await manager.close();
  as.resetStats();
  return {
    as,
    mcp,
    redis,
    prefix,
    store,
    record: async () => (await store.get({ server: 'demo' })) as never,
    /**
     * Until this test's own client has reconnected after a restart: its reads fail at once while
     * it reconnects (the store has no offline queue), which says nothing about the machines.
     */
    reconnected: async () => {
      for (let waited = 0; ; waited += 100) {
        try {
          return void (await store.get({ server: 'demo' }));
        } catch (error) {
          if (!(error instanceof StoreUnavailableError) || waited >= 10_000) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
  };
}

/** `count` machines: each its own home folder, all on the bed's Redis and prefix. */
async function machines(b: Bed, count: number, env: Record<string, string> = {}): Promise<Child[]> {
  const started = await Promise.all(
    Array.from({ length: count }, async () => {
      const { home, cleanup } = await tempHome();
      cleanups.push(cleanup);
      return startChild(
        {
          CHILD_HOME: home,
          CHILD_MCP_URL: b.mcp.url,
          CHILD_REDIS_URL: b.redis.url,
          CHILD_REDIS_PREFIX: b.prefix,
          ...env,
        },
        HOST,
      );
    }),
  );
  cleanups.push(() => Promise.all(started.map((c) => c.stop())));
  return started;
}

/** Sets every clock (the barrier), then starts every machine's calls at once. */
async function round(kids: Child[], now: number | undefined, calls: number) {
  if (now !== undefined) await Promise.all(kids.map((c) => c.request({ type: 'clock', now }, 'clock-set')));
  const done = kids.map((c) => c.next<{ ok: number; failed: number; errors: string[] }>('done'));
  for (const c of kids) c.process.send({ type: 'go', calls });
  return Promise.all(done);
}

describe('machines sharing one Redis', () => {
  it(`8 machines × 50 calls × ${ROUNDS} expiry rounds: every call succeeds, one refresh per round, zero invalid_grant, no refresh token twice`, async () => {
    const b = await bed();
    const kids = await machines(b, 8);
    for (let r = 0; r < ROUNDS; r++) {
      const { tokens } = await b.record();
      const results = await round(kids, tokens.expiresAt + 1, 50);
      for (const result of results) expect(result).toEqual({ type: 'done', ok: 50, failed: 0, errors: [] });
      expect(b.as.stats.refreshRequests).toBe(r + 1);
    }
    expect(b.as.stats.refreshRequests).toBe(ROUNDS);
    expect(b.as.stats.invalidGrant).toBe(0);
    expect(new Set(b.as.stats.refreshTokensSeen).size).toBe(b.as.stats.refreshTokensSeen.length);
    expect(b.mcp.stats.toolCalls.echo).toBe(8 * 50 * ROUNDS);
  }, 600_000);

  it('the lock holder SIGKILLed before its refresh: another machine takes over after the lease, 1 refresh', async () => {
    const b = await bed();
    const env = { CHILD_LEASE_MS: '2000' };
    const [victim] = await machines(b, 1, { ...env, CHILD_HOOK: 'kill-after-lock' });
    const past = (await b.record()).tokens.expiresAt + 1;
    await victim!.request({ type: 'clock', now: past }, 'clock-set');
    victim!.process.send({ type: 'token' });
    expect((await victim!.exited).signal).toBe('SIGKILL');
    const others = await machines(b, 3, env);
    const results = await round(others, past, 20);
    for (const result of results) expect(result.failed).toBe(0);
    expect(b.as.stats.refreshRequests).toBe(1);
    expect(b.as.stats.invalidGrant).toBe(0);
  }, 120_000);

  it('the lock holder SIGSTOPped past its lease, then SIGCONT: it sends nothing, the newer credential stands, one rotation', async () => {
    const b = await bed();
    const env = { CHILD_LEASE_MS: '2000' };
    const [victim] = await machines(b, 1, { ...env, CHILD_HOOK: 'stop-before-refresh' });
    const past = (await b.record()).tokens.expiresAt + 1;
    await victim!.request({ type: 'clock', now: past }, 'clock-set');
    const stopping = victim!.next('stopping');
    const answer = victim!.next<{ token?: string; error?: string }>('token');
    victim!.process.send({ type: 'token' });
    await stopping;
    // Frozen with the lock, the record read and the refresh token in hand. The others wait for
    // the lease to run out (nobody renews it), then one of them refreshes.
    const others = await machines(b, 3, env);
    const results = await round(others, past, 20);
    for (const result of results) expect(result.failed).toBe(0);
    expect(b.as.stats.refreshRequests).toBe(1);
    const newer = await b.record();
    victim!.process.kill('SIGCONT');
    // Its lease is gone: it must not present the refresh token the others already rotated.
    expect((await answer).error).toBe('TransientAuthError');
    expect(b.as.stats.refreshRequests).toBe(1);
    expect(b.as.stats.invalidGrant).toBe(0);
    expect((await b.record()).tokens.refreshToken).toBe(newer.tokens.refreshToken);
    // The next call adopts the newer credential (after its back-off).
    await victim!.request({ type: 'clock', now: past + 120_000 }, 'clock-set');
    const again = await victim!.request<{ token?: string }>({ type: 'token' }, 'token');
    expect(again.token).toBe(newer.tokens.accessToken);
    expect(b.as.stats.refreshRequests).toBe(1);
  }, 120_000);
});

describe('Redis lost while running', () => {
  it('Redis restarted (persistence on): calls keep succeeding on cached tokens, the next expiry refreshes once', async () => {
    const b = await bed({ persistence: true });
    const kids = await machines(b, 4);
    const now = Date.now();
    for (const result of await round(kids, now, 10)) expect(result.failed).toBe(0);
    await b.redis.shutdown();
    for (const result of await round(kids, now + 1_000, 10)) expect(result.failed).toBe(0);
    await b.redis.restart();
    for (const result of await round(kids, now + 2_000, 10)) expect(result.failed).toBe(0);
    await b.reconnected();
    const { tokens } = await b.record();
    for (const result of await round(kids, tokens.expiresAt + 1, 10)) expect(result.failed).toBe(0);
    expect(b.as.stats.refreshRequests).toBe(1);
    expect(b.as.stats.invalidGrant).toBe(0);
  }, 180_000);

  it('Redis stopped: fresh tokens still served, TransientAuthError after the bounded wait, nothing lost once it is back', async () => {
    const b = await bed({ persistence: true });
    const kids = await machines(b, 2, { CHILD_LOCK_WAIT_MS: '3000' });
    const before = await b.record();
    const now = Date.now();
    for (const result of await round(kids, now, 10)) expect(result.failed).toBe(0);
    await b.redis.shutdown();
    for (const result of await round(kids, now + 1_000, 10))
      expect(result).toEqual({ type: 'done', ok: 10, failed: 0, errors: [] });
    const past = before.tokens.expiresAt + 1;
    await kids[0]!.request({ type: 'clock', now: past }, 'clock-set');
    const failed = await kids[0]!.request<{ error?: string; message?: string }>({ type: 'token' }, 'token');
    expect(failed.error).toBe('TransientAuthError');
    expect(failed.message).toContain(`127.0.0.1:${b.redis.port}`);
    expect(b.as.stats.refreshRequests).toBe(0);
    await b.redis.restart();
    // The parent's own store reconnects in the background too.
    await waitFor(
      () =>
        b.record().then(
          () => true,
          () => false,
        ),
      30_000,
      'the parent store to reconnect',
    );
    expect((await b.record()).tokens.refreshToken).toBe(before.tokens.refreshToken);
    // After its back-off, the next expiry refreshes once on every machine's behalf.
    for (const result of await round(kids, past + 120_000, 10)) expect(result.failed).toBe(0);
    expect(b.as.stats.refreshRequests).toBe(1);
    expect(b.as.stats.invalidGrant).toBe(0);
  }, 180_000);
});
