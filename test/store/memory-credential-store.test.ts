import { describe, expect, it } from 'vitest';
import { LockTimeoutError, StoreError } from '../../src/errors.js';
import { versionOf } from '../../src/store/credential-record.js';
import type { CredentialKey } from '../../src/store/credential-store.js';
import { MemoryCredentialStore } from '../../src/store/memory-credential-store.js';
import { makeRecord, sleep } from './helpers.js';

const KEY: CredentialKey = { server: 'notion' };

describe('MemoryCredentialStore', () => {
  it('has the compare-and-set semantics of the file store', async () => {
    const store = new MemoryCredentialStore();
    expect(await store.get(KEY)).toBeUndefined();
    const v0 = makeRecord(KEY);
    expect(await store.put(KEY, v0, null)).toEqual({ ok: true });
    expect(await store.put(KEY, makeRecord(KEY), null)).toEqual({ ok: false, current: v0 });
    const v1 = { ...v0, generation: 1 };
    expect(await store.put(KEY, v1, versionOf(v0))).toEqual({ ok: true });
    expect(await store.put(KEY, { ...v0, generation: 1 }, versionOf(v0))).toEqual({ ok: false, current: v1 });
    expect(await store.delete(KEY, versionOf(v0))).toBe(false);
    expect(await store.get(KEY)).toEqual(v1);
    expect(await store.put(KEY, makeRecord(KEY), versionOf(v1))).toEqual({ ok: true });
    expect(await store.delete(KEY)).toBe(true);
    expect(await store.put(KEY, v1, versionOf(v1))).toEqual({ ok: false, current: undefined });
    expect(await store.delete(KEY)).toBe(false);
    await expect(store.put({ server: 'other' }, v0, null)).rejects.toBeInstanceOf(StoreError);
  });

  it('isolates stored state from callers (copies in and out)', async () => {
    const store = new MemoryCredentialStore();
    const record = makeRecord(KEY);
    await store.put(KEY, record, null);
    record.tokens!.accessToken = 'mutated after put';
    const read = (await store.get(KEY))!;
    expect(read.tokens!.accessToken).not.toBe('mutated after put');
    read.tokens!.accessToken = 'mutated after get';
    expect((await store.get(KEY))!.tokens!.accessToken).not.toBe('mutated after get');
    const failed = await store.put(KEY, makeRecord(KEY), null);
    if (failed.ok) throw new Error('expected a conflict');
    failed.current!.generation = 99;
    expect((await store.get(KEY))!.generation).toBe(0);
  });

  it('separates accounts and lists every key', async () => {
    const store = new MemoryCredentialStore();
    const keys: CredentialKey[] = [
      { server: 'notion' },
      { server: 'notion', account: 'alice' },
      { server: 'notion', account: '' },
      { server: 'alice\u0000notion' },
    ];
    for (const key of keys) await store.put(key, makeRecord(key), null);
    expect(await store.list()).toHaveLength(keys.length);
    for (const key of keys) expect((await store.get(key))!.account).toBe(key.account);
  });

  it('fingerprint is recordId:generation', async () => {
    const store = new MemoryCredentialStore();
    expect(await store.fingerprint(KEY)).toBeUndefined();
    const record = makeRecord(KEY, { recordId: 'r1', generation: 3 });
    await store.put(KEY, record, null);
    expect(await store.fingerprint(KEY)).toBe('r1:3');
  });

  it('watch fires after a microtask on put and delete, until unsubscribed', async () => {
    const store = new MemoryCredentialStore();
    const seen: CredentialKey[] = [];
    const stop = store.watch((key) => seen.push(key));
    const record = makeRecord(KEY);
    const writing = store.put(KEY, record, null);
    expect(seen).toEqual([]);
    await writing;
    await Promise.resolve();
    expect(seen).toEqual([KEY]);
    await store.delete(KEY);
    await Promise.resolve();
    expect(seen).toEqual([KEY, KEY]);
    // A failed compare-and-set changes nothing and signals nothing.
    await store.put(KEY, record, versionOf(record));
    await Promise.resolve();
    expect(seen).toHaveLength(2);
    stop();
    await store.put(KEY, record, null);
    await Promise.resolve();
    expect(seen).toHaveLength(2);
  });

  it('withLock excludes per key, times out, and is not re-entrant', async () => {
    const store = new MemoryCredentialStore();
    let inside = 0;
    let maxInside = 0;
    let counter = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        store.withLock(KEY, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          const value = counter;
          await sleep(1);
          counter = value + 1;
          inside--;
        }),
      ),
    );
    expect(counter).toBe(20);
    expect(maxInside).toBe(1);
    // Another key is not blocked by a held one.
    let release!: () => void;
    const held = store.withLock(KEY, () => new Promise<void>((resolve) => (release = resolve)));
    await expect(store.withLock({ server: 'other' }, async () => 'free')).resolves.toBe('free');
    await expect(store.withLock(KEY, async () => 'x', { waitMs: 50 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    release();
    await held;
    const nested = await store
      .withLock(KEY, () => store.withLock(KEY, async () => 'inner', { waitMs: 50 }))
      .catch((e: unknown) => e);
    expect(nested).toBeInstanceOf(LockTimeoutError);
  });
});
