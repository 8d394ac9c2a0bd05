/**
 * A local 3-node Redis Cluster (three `redis-server --cluster-enabled yes` joined by
 * `redis-cli --cluster create`): the store's contract where keys of different credentials live on
 * different masters (list scans them all), and the 8-machine round at CI size (8 machines × 50
 * calls × 3 expiry rounds; REDIS_CLUSTER_ROUNDS for more).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthManager } from '../../src/index.js';
import { versionOf } from '../../src/store/credential-record.js';
import { RedisCredentialStore } from '../../src/store/redis-credential-store.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { type Child, startChild } from '../support/children.js';
import { type RedisClusterServers, startRedisCluster } from '../support/redis-server.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { makeRecord, waitFor } from './helpers.js';

const cleanups = useCleanups();
const HOST = new URL('./redis-host-child.ts', import.meta.url).pathname;
const ROUNDS = Number(process.env.REDIS_CLUSTER_ROUNDS ?? 3);
let cluster: RedisClusterServers;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('RedisCredentialStore on a 3-node Redis Cluster', () => {
  it('compare-and-set, list across every master, events, locks', async () => {
    const store = new RedisCredentialStore({ url: cluster.url, cluster: true, prefix: 'c:' });
    const other = new RedisCredentialStore({ url: cluster.url, cluster: true, prefix: 'c:' });
    cleanups.push(
      () => store.close(),
      () => other.close(),
    );
    const heard: string[] = [];
    other.watch((key) => heard.push(key.server));
    await other.changeFeed.whenLive();
    const keys = Array.from({ length: 30 }, (_, i) => ({ server: `server-${String(i).padStart(2, '0')}` }));
    for (const key of keys) expect((await store.put(key, makeRecord(key), null)).ok).toBe(true);
    // Thirty hash tags spread over three masters: list finds them all.
    const perNode = await Promise.all(cluster.nodes.map(async (node) => Number(await node.cli('DBSIZE'))));
    expect(perNode.filter((n) => n > 0).length).toBe(3);
    expect(await store.list()).toEqual(keys);
    await waitFor(() => heard.length === 30, 20_000, 'the 30 write events');
    const first = (await store.get(keys[0]!))!;
    await store.withLock(keys[0]!, async () => {
      expect((await store.put(keys[0]!, { ...first, generation: 1 }, versionOf(first))).ok).toBe(true);
      await store.assertLease(keys[0]!, 5_000);
    });
    expect((await store.put(keys[0]!, { ...first, generation: 2 }, versionOf(first))).ok).toBe(false);
  }, 120_000);

  it(`8 machines × 50 calls × ${ROUNDS} expiry rounds: every call succeeds, one refresh per round, zero invalid_grant`, async () => {
    const as = await startAuthorizationServer({ accessTokenTtlSeconds: 3600 });
    cleanups.push(() => as.close());
    const mcp = await startMcpServer({ authorizationServer: as.issuer });
    cleanups.push(() => mcp.close());
    const store = new RedisCredentialStore({ url: cluster.url, cluster: true, prefix: 'fleet:' });
    cleanups.push(() => store.close());
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const manager = new OAuthManager({
      home,
      store,
      interactive: 'never',
      openBrowser: scriptedBrowserHook(),
    });
    manager.getOrBuildProvider('demo', mcp.url);
    await manager.login('demo');
    await manager.close();
    as.resetStats();
    const kids: Child[] = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const machine = await tempHome();
        cleanups.push(machine.cleanup);
        return startChild(
          {
            CHILD_HOME: machine.home,
            CHILD_MCP_URL: mcp.url,
            CHILD_REDIS_URL: cluster.url,
            CHILD_REDIS_PREFIX: 'fleet:',
            CHILD_REDIS_CLUSTER: '1',
          },
          HOST,
        );
      }),
    );
    cleanups.push(() => Promise.all(kids.map((c) => c.stop())));
    for (let r = 0; r < ROUNDS; r++) {
      const record = await store.get({ server: 'demo' });
      const now = record!.tokens!.expiresAt! + 1;
      await Promise.all(kids.map((c) => c.request({ type: 'clock', now }, 'clock-set')));
      const done = kids.map((c) => c.next<{ ok: number; failed: number; errors: string[] }>('done'));
      for (const c of kids) c.process.send({ type: 'go', calls: 50 });
      for (const result of await Promise.all(done)) {
        expect(result).toEqual({ type: 'done', ok: 50, failed: 0, errors: [] });
      }
      expect(as.stats.refreshRequests).toBe(r + 1);
    }
    expect(as.stats.invalidGrant).toBe(0);
    expect(new Set(as.stats.refreshTokensSeen).size).toBe(as.stats.refreshTokensSeen.length);
  }, 600_000);
});
