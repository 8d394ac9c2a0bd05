/**
 * A second process for the Redis store tests. Usage: redis-store-child.ts <command> <url> [args]
 *   use-and-close: reads, writes, watches, locks, closes; must then exit without process.exit.
 */
import { RedisCredentialStore } from '../../src/store/redis-credential-store.js';
import { makeRecord } from './helpers.js';

const [command, url] = process.argv.slice(2);
if (command === 'use-and-close' && url) {
  const store = new RedisCredentialStore({ url, prefix: `child-${process.pid}:` });
  const key = { server: 'child' };
  store.watch(() => {});
  await store.changeFeed.whenLive();
  await store.put(key, makeRecord(key), null);
  await store.withLock(key, async () => {
    await store.get(key);
  });
  await store.list();
  await store.close();
  process.stdout.write('closed\n');
  // No process.exit: the test waits for the process to end by itself.
} else {
  process.stderr.write('usage: redis-store-child.ts use-and-close <url>\n');
  process.exitCode = 2;
}
