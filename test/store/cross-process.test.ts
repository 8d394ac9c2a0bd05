import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockTimeoutError } from '../../src/errors.js';
import type { CredentialKey } from '../../src/store/credential-store.js';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { type Child, killChild, sleep, spawnChild, tempRoot, waitFor } from './helpers.js';

let root: string;
let home: string;
let cleanup: () => Promise<void>;
const stores: FileCredentialStore[] = [];
const children: Child[] = [];

function newStore(options: ConstructorParameters<typeof FileCredentialStore>[0] = {}): FileCredentialStore {
  const created = new FileCredentialStore({ home, ...options });
  stores.push(created);
  return created;
}

function child(args: string[], env: Record<string, string> = {}): Child {
  const started = spawnChild(args, env);
  children.push(started);
  return started;
}

beforeEach(async () => {
  ({ root, home, cleanup } = await tempRoot());
});

afterEach(async () => {
  await Promise.all(children.splice(0).map(killChild));
  for (const s of stores.splice(0)) await s.close();
  await cleanup();
});

describe('cross-process: atomic replacement', () => {
  it('a writer SIGKILLed at random moments never leaves a partial record', async () => {
    const key: CredentialKey = { server: 'atomic' };
    const store = newStore({ watch: false });
    // Start every writer up front (process start-up is the slow part), then run them one by one.
    const writers = Array.from({ length: 5 }, () => child(['put-loop', home, key.server]));
    await Promise.all(writers.map((w) => w.waitForLine('started')));
    for (const writer of writers) {
      writer.send('go');
      await writer.waitForLine('ready');
      await sleep(20 + Math.random() * 150);
      await killChild(writer);
      // Every read parses: the old record or the new one, never a mix.
      const record = await store.get(key);
      expect(record?.server).toBe('atomic');
      expect(record?.tokens?.accessToken).toMatch(/^(x+|at-SECRET-.*)$/);
      // The killed writer may have died holding the short write lock: the kernel freed it.
    }
    // A crash can leave a stray temp file, never a quarantined record.
    const names = await readdir(join(home, 'credentials'));
    expect(names.filter((n) => n.includes('.corrupt-'))).toEqual([]);
  });
});

describe('cross-process: change notification', () => {
  it('a put from another process is signalled through fs.watch, and through the poll alone when fs.watch is off', async () => {
    const watched = newStore({ pollIntervalMs: 0 });
    const polled = newStore({ fsWatch: false, pollIntervalMs: 50 });
    const key = { server: 'from-child' };
    // The polling store has looked at this key (as the manager would); the fs.watch one has not:
    // it reads the changed file to learn which key it holds.
    expect(await polled.get(key)).toBeUndefined();
    await watched.list();
    const byWatch: CredentialKey[] = [];
    const byPoll: CredentialKey[] = [];
    watched.watch((k) => byWatch.push(k));
    polled.watch((k) => byPoll.push(k));
    await sleep(20);
    const writer = child(['put-once', home, key.server, 'rec-1']);
    await writer.waitForLine('done');
    await waitFor(() => byWatch.some((k) => k.server === 'from-child'), 5_000, 'the fs.watch signal');
    await waitFor(() => byPoll.some((k) => k.server === 'from-child'), 5_000, 'the poll signal');
    expect((await watched.get(key))?.recordId).toBe('rec-1');
    // A later change by anyone (here another instance, with its own notifications off) is polled too.
    const count = byPoll.length;
    const other = newStore({ watch: false });
    const current = (await other.get(key))!;
    await other.put(key, { ...current, generation: current.generation + 1 }, current);
    await waitFor(() => byPoll.length > count, 5_000, 'a second poll signal');
  });
});

describe('cross-process: transaction lock', () => {
  it('two processes incrementing a counter under withLock 50 times each reach 100', async () => {
    await newStore().list();
    const counter = join(root, 'counter.txt');
    const a = child(['increment', home, 'counted', counter, '50']);
    const b = child(['increment', home, 'counted', counter, '50']);
    await Promise.all([a.waitForLine('done', 20_000), b.waitForLine('done', 20_000)]);
    expect(Number(await readFile(counter, 'utf8'))).toBe(100);
  });

  it('a live holder makes a bounded wait time out; a holder SIGKILLed while holding the lock frees it at once', async () => {
    const key = { server: 'stale' };
    const store = newStore({ watch: false });
    await store.list();
    const holder = child(['hold-lock', home, key.server]);
    await holder.waitForLine('locked');

    // A live holder keeps the lock however long it holds it: a bounded wait ends in LockTimeoutError.
    await sleep(300);
    const started = Date.now();
    const error = await store.withLock(key, async () => 'never', { waitMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    // The kernel drops a dead holder's lock: no staleness to wait for, nothing to take over.
    await killChild(holder);
    const result = await store.withLock(key, async () => 'taken', { waitMs: 2_000 });
    expect(result).toBe('taken');
  });

  it('a held lock survives garbage collection of work nothing references (the descriptor stays open)', async () => {
    const key = { server: 'collected' };
    const store = newStore({ watch: false });
    await store.list();
    const holder = child(['hold-lock-then-collect', home, key.server]);
    await holder.waitForLine('locked');
    await holder.waitForLine('collected');
    const error = await store.withLock(key, async () => 'never', { waitMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    await killChild(holder);
  });

  it('many waiters after a holder dies: exactly one is inside at a time (no double takeover)', async () => {
    const key = { server: 'herd-after-death' };
    const holder = child(['hold-lock', home, key.server]);
    await holder.waitForLine('locked');
    const stores = Array.from({ length: 6 }, () => newStore({ watch: false }));
    let inside = 0;
    let maxInside = 0;
    const waiting = stores.map((s) =>
      s.withLock(
        key,
        async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(20);
          inside--;
        },
        { waitMs: 10_000 },
      ),
    );
    await sleep(100);
    await killChild(holder);
    await Promise.all(waiting);
    expect(maxInside).toBe(1);
  });

  it('in one process: withLock excludes other store instances; not re-entrant', async () => {
    const a = newStore({ watch: false });
    const b = newStore({ watch: false });
    const key = { server: 'local' };
    const order: string[] = [];
    // b asks once a is inside (not after a fixed delay, which a loaded machine can outrun).
    let aInside: () => void = () => {};
    const aEntered = new Promise<void>((resolve) => {
      aInside = resolve;
    });
    await Promise.all([
      a.withLock(key, async () => {
        order.push('a:in');
        aInside();
        await sleep(50);
        order.push('a:out');
      }),
      aEntered.then(() =>
        b.withLock(key, async () => {
          order.push('b:in');
          order.push('b:out');
        }),
      ),
    ]);
    expect(order).toEqual(['a:in', 'a:out', 'b:in', 'b:out']);
    const nested = await a
      .withLock(key, () => a.withLock(key, async () => 'inner', { waitMs: 100 }))
      .catch((e: unknown) => e);
    expect(nested).toBeInstanceOf(LockTimeoutError);
  });
});
