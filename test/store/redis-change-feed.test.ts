/**
 * Change events over pub/sub, and the fallback while the subscription is down: a real Redis
 * drops the subscriber (CLIENT KILL, and a password set meanwhile so it cannot come back while the
 * already-authenticated data connections keep working); the fallback then checks each known
 * key's version at most once per second of the injected clock, until the subscription is back.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { versionOf } from '../../src/store/credential-record.js';
import { RedisCredentialStore } from '../../src/store/redis-credential-store.js';
import { FakeClock } from '../support/fake-clock.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { makeRecord, sleep, waitFor } from './helpers.js';

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer();
}, 60_000);

afterAll(async () => {
  await redis?.stop();
});

/** HMGET calls the server has answered (the fallback's version check is one HMGET per key). */
async function hmgetCalls(admin: { info(section: string): Promise<string> }): Promise<number> {
  const info = await admin.info('commandstats');
  return Number(/cmdstat_hmget:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

it('subscription dropped: version checks at most once per second per server (injected clock), a change is still heard, events again after reconnection', async () => {
  const admin = createClient({ url: redis.url });
  await admin.connect();
  const clock = new FakeClock();
  const prefix = 'feed:';
  const watcher = new RedisCredentialStore({ url: redis.url, prefix, clock, fallbackTickMs: 20 });
  const writer = new RedisCredentialStore({ url: redis.url, prefix });
  try {
    const heard: string[] = [];
    watcher.watch((key) => heard.push(key.server));
    await watcher.changeFeed.whenLive();
    const keys = [{ server: 'one' }, { server: 'two' }];
    const records = keys.map((key) => makeRecord(key));
    for (const [i, key] of keys.entries()) await writer.put(key, records[i]!, null);
    await waitFor(() => heard.length === 2, 10_000, 'the two write events');
    // The watcher knows both keys (a read sets the baseline the fallback compares with).
    for (const key of keys) await watcher.get(key);
    heard.length = 0;

    // Drop the subscription and keep it down: new connections now need a password.
    await admin.configSet('requirepass', 'feed-test-pw');
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await waitFor(() => !watcher.changeFeed.live, 10_000, 'the feed to notice the drop');

    const checksBefore = watcher.changeFeed.fallbackChecks;
    const hmgetBefore = await hmgetCalls(admin);
    // 10 s of injected time in 200 ms steps; the fallback ticks every 20 ms of real time.
    for (let step = 0; step < 50; step++) {
      clock.advance(200);
      if (step === 20) await writer.put(keys[0]!, { ...records[0]!, generation: 1 }, versionOf(records[0]!));
      await sleep(40);
    }
    const checks = watcher.changeFeed.fallbackChecks - checksBefore;
    const hmgets = (await hmgetCalls(admin)) - hmgetBefore;
    // At most once per second per server: 10 s, 2 servers, plus the first check of each.
    expect(checks).toBeLessThanOrEqual(2 * 11);
    expect(checks).toBeGreaterThanOrEqual(2 * 5);
    // What reached Redis is those checks (a tick may land between the two readings).
    expect(hmgets).toBeGreaterThanOrEqual(checks);
    expect(hmgets).toBeLessThanOrEqual(checks + 2);
    // The change made while events were lost was still heard.
    expect(heard).toEqual(['one']);

    // Back: the subscription reconnects; one catch-up sweep, then no more checks.
    await admin.configSet('requirepass', '');
    await waitFor(() => watcher.changeFeed.live, 20_000, 'the feed to come back');
    await sleep(200);
    const checksAfterReconnect = watcher.changeFeed.fallbackChecks;
    for (let step = 0; step < 25; step++) {
      clock.advance(200);
      await sleep(20);
    }
    expect(watcher.changeFeed.fallbackChecks).toBe(checksAfterReconnect);
    await writer.put(keys[1]!, { ...records[1]!, generation: 1 }, versionOf(records[1]!));
    await waitFor(() => heard.includes('two'), 10_000, 'the event after reconnection');
    expect(watcher.changeFeed.fallbackChecks).toBe(checksAfterReconnect);
  } finally {
    await admin.configSet('requirepass', '').catch(() => {});
    await watcher.close();
    await writer.close();
    await admin.quit().catch(() => {});
  }
}, 120_000);
