import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthManager } from '../../src/index.js';
import { AesGcmCipher } from '../../src/store/aes-gcm-cipher.js';
import type { CredentialStore } from '../../src/store/credential-store.js';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { readMoveMarker } from '../../src/store/move-marker.js';
import { RedisCredentialStore } from '../../src/store/redis-credential-store.js';
import { runCli } from '../cli/harness.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { type Child, startChild } from '../support/children.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const demo = { server: 'demo' };

/** Every value stored under the Redis server's keys (hash fields and strings), for scanning. */
async function redisBytes(server: RedisServer): Promise<string> {
  const keys = (await server.cli('--scan')).split('\n').filter(Boolean);
  const parts: string[] = [];
  for (const key of keys) {
    const type = (await server.cli('TYPE', key)).trim();
    parts.push(type === 'hash' ? await server.cli('HGETALL', key) : await server.cli('GET', key));
  }
  return parts.join('\n');
}

async function bed() {
  const as = await startAuthorizationServer({ accessTokenTtlSeconds: 3600 });
  cleanups.push(() => as.close());
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  cleanups.push(() => mcp.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  return { as, mcp, home };
}

async function loginIn(home: string, mcpUrl: string, env: NodeJS.ProcessEnv) {
  const manager = new OAuthManager({ home, env, interactive: 'never', openBrowser: scriptedBrowserHook() });
  manager.getOrBuildProvider('demo', mcpUrl);
  await manager.login('demo');
  await manager.close();
}

async function child(env: Record<string, string>): Promise<Child> {
  const started = await startChild(env);
  cleanups.push(() => started.stop());
  return started;
}

/** Sets the child's clock just past `expiresAt`, then makes `calls` concurrent tool calls. */
async function expiredRound(host: Child, expiresAt: number, calls: number) {
  await host.request({ type: 'clock', now: expiresAt + 1 }, 'clock-set');
  return host.request<{ ok: number; failed: number; errors: string[] }>({ type: 'go', calls }, 'done');
}

async function generationIn(store: CredentialStore): Promise<number | undefined> {
  return (await store.get(demo))?.generation;
}

describe('store migrate: file -> Redis -> file while a host process keeps calling', () => {
  it('no failed call, no lost record, one refresh per expiry, and the host never refreshes from the store it left', async () => {
    const { as, mcp, home } = await bed();
    const key = randomBytes(32).toString('base64');
    const env = { MCP_OAUTH_ENCRYPTION_KEY: key };
    await loginIn(home, mcp.url, env);
    as.resetStats();
    const cipher = new AesGcmCipher(Buffer.from(key, 'base64'));
    const file = new FileCredentialStore({ home, watch: false, cipher });
    const host = await child({ CHILD_HOME: home, CHILD_MCP_URL: mcp.url, ...env });
    const expiresAt = async (store: CredentialStore) => (await store.get(demo))!.tokens!.expiresAt!;
    const results: Array<{ ok: number; failed: number }> = [];

    // 1. On the file store.
    results.push(await expiredRound(host, await expiresAt(file), 20));
    expect(as.stats.refreshRequests).toBe(1);

    // 2. Migrate to Redis while the host meets an expiry: its refresh runs on one store or the other, never both.
    const [during, migrated] = await Promise.all([
      expiredRound(host, await expiresAt(file), 20),
      runCli(['--home', home, '--json', 'store', 'migrate', '--to', redis.url], {
        env: { ...env, MCP_OAUTH_STORE: undefined },
      }),
    ]);
    results.push(during);
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout)).toMatchObject({ from: 'file', total: 1, followable: true });
    expect(as.stats.refreshRequests).toBe(2);
    expect((await readMoveMarker(file))?.phase).toBe('moved');

    // No store.prefix in config.yaml: migrate used the default prefix.
    const redisStore = new RedisCredentialStore({ url: redis.url, cipher });
    cleanups.push(() => redisStore.close());
    const afterMove = await redisStore.get(demo);
    expect(afterMove).toBeDefined();

    // 3. Next expiry: the host refreshes on Redis; the file record stays as it was.
    const fileGeneration = await generationIn(file);
    results.push(await expiredRound(host, await expiresAt(redisStore), 20));
    expect(as.stats.refreshRequests).toBe(3);
    expect(await generationIn(redisStore)).toBe(afterMove!.generation + 1);
    expect(await generationIn(file)).toBe(fileGeneration);

    // Sealed in Redis: no token in any byte stored there.
    const stored = await redisBytes(redis);
    const record = (await redisStore.get(demo))!;
    expect(stored).not.toContain(record.tokens!.accessToken);
    expect(stored).not.toContain(record.tokens!.refreshToken!);
    for (const seen of as.stats.refreshTokensSeen) expect(stored).not.toContain(seen);

    // 4. Back to the file store while the host meets the next expiry.
    const [back, returned] = await Promise.all([
      expiredRound(host, await expiresAt(redisStore), 20),
      runCli(['--home', home, '--json', 'store', 'migrate', '--from', redis.url, '--to', 'file'], { env }),
    ]);
    results.push(back);
    expect(returned.code).toBe(0);
    expect(JSON.parse(returned.stdout)).toMatchObject({ to: 'file', total: 1 });
    expect(as.stats.refreshRequests).toBe(4);
    expect(await readMoveMarker(file)).toBeUndefined();
    expect((await readMoveMarker(redisStore))?.phase).toBe('moved');

    // 5. Next expiry: the host refreshes on the file store; Redis stays as it was.
    const redisGeneration = await generationIn(redisStore);
    results.push(await expiredRound(host, await expiresAt(file), 20));
    expect(as.stats.refreshRequests).toBe(5);
    expect(await generationIn(redisStore)).toBe(redisGeneration);

    for (const result of results) expect(result).toMatchObject({ ok: 20, failed: 0 });
    expect(as.stats.invalidGrant).toBe(0);
    expect(new Set(as.stats.refreshTokensSeen).size).toBe(as.stats.refreshTokensSeen.length);
    // The record the file store holds now is the live grant: one more refresh works.
    results.push(await expiredRound(host, await expiresAt(file), 5));
    expect(as.stats.invalidGrant).toBe(0);
    expect(as.stats.refreshRequests).toBe(6);

    // Idempotent: migrating again copies nothing new.
    const again = await runCli(
      ['--home', home, '--json', 'store', 'migrate', '--from', redis.url, '--to', 'file'],
      {
        env,
      },
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ copied: 0, keptNewer: 1 });
  }, 180_000);

  it('a host on a store moved to a URL it cannot follow refuses to refresh there, naming the new URL without its password', async () => {
    const { as, mcp, home } = await bed();
    await loginIn(home, mcp.url, {});
    as.resetStats();
    const file = new FileCredentialStore({ home, watch: false });
    const { writeMoveMarker } = await import('../../src/store/move-marker.js');
    await writeMoveMarker(file, { phase: 'moved', to: 'redis://app:***@127.0.0.1:1/0', at: Date.now() });
    const host = await child({ CHILD_HOME: home, CHILD_MCP_URL: mcp.url });
    const record = (await file.get(demo))!;
    const result = await expiredRound(host, record.tokens!.expiresAt!, 3);
    expect(result.failed).toBe(3);
    expect(as.stats.refreshRequests).toBe(0);
    const token = await host.request<{ message?: string }>({ type: 'token' }, 'token');
    expect(token.message).toContain('moved to redis://app:***@127.0.0.1:1/0');
    expect((await file.get(demo))!.generation).toBe(record.generation);
  }, 60_000);
});
