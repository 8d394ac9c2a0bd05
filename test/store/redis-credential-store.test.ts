/**
 * The CredentialStore contract on a real Redis: compare-and-set refusals, delete with expect,
 * list, fingerprint, watch across two stores (pub/sub), fencing of a lease lost to another
 * holder, the lease check before a refresh, encryption around the body, and an unreachable store
 * named without its password.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CorruptCredentialError,
  LeaseLostError,
  NewerSchemaError,
  StoreUnavailableError,
} from '../../src/errors.js';
import { versionOf } from '../../src/store/credential-record.js';
import type { RecordCipher } from '../../src/store/record-cipher.js';
import { RedisCredentialStore } from '../../src/store/redis-credential-store.js';
import { credentialKeys } from '../../src/store/redis-keys.js';
import { redactStoreUrl } from '../../src/store/store-url.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { makeRecord, SECRET_ACCESS_TOKEN, waitFor } from './helpers.js';

let redis: RedisServer;
const stores: RedisCredentialStore[] = [];
let prefixes = 0;

/** A store on its own prefix (tests do not see each other's keys). */
function open(options: Partial<ConstructorParameters<typeof RedisCredentialStore>[0]> = {}, prefix?: string) {
  const store = new RedisCredentialStore({ url: redis.url, prefix: prefix ?? `t${++prefixes}:`, ...options });
  stores.push(store);
  return store;
}

/** A reversible stand-in for A2's AES-GCM cipher: enough to see the store calls it around the body. */
const base64Cipher: RecordCipher = {
  seal: (plaintext) => `sealed:${Buffer.from(plaintext).toString('base64')}`,
  open: (stored) =>
    stored.startsWith('sealed:') ? Buffer.from(stored.slice(7), 'base64').toString() : stored,
};

beforeAll(async () => {
  redis = await startRedisServer();
}, 60_000);

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await redis?.stop();
});

describe('RedisCredentialStore: the CredentialStore contract', () => {
  it('compare-and-set: creates, refuses a second create, a stale and an absent version', async () => {
    const store = open();
    const key = { server: 'notion' };
    const first = makeRecord(key);
    expect(await store.get(key)).toBeUndefined();
    expect(await store.put(key, first, null)).toEqual({ ok: true });
    expect(await store.get(key)).toEqual(first);

    const again = await store.put(key, makeRecord(key), null);
    expect(again).toEqual({ ok: false, current: first });

    const next = { ...first, generation: 1 };
    expect(await store.put(key, next, versionOf(first))).toEqual({ ok: true });
    // The version it was based on is gone: refused, with what is stored instead.
    expect(await store.put(key, { ...first, generation: 2 }, versionOf(first))).toEqual({
      ok: false,
      current: next,
    });
    // Another login's record id with the same generation: refused too.
    expect((await store.put(key, { ...next, generation: 2 }, { recordId: 'other', generation: 1 })).ok).toBe(
      false,
    );
    // Nothing stored under another key: refused with current undefined.
    const other = { server: 'other' };
    expect(await store.put(other, makeRecord(other), { recordId: 'x', generation: 0 })).toEqual({
      ok: false,
      current: undefined,
    });
  });

  it('delete with expect deletes only that version; without, whatever is there', async () => {
    const store = open();
    const key = { server: 'linear', account: 'work' };
    const record = makeRecord(key);
    await store.put(key, record, null);
    expect(await store.delete(key, { recordId: record.recordId, generation: 5 })).toBe(false);
    expect(await store.get(key)).toEqual(record);
    expect(await store.delete(key, versionOf(record))).toBe(true);
    expect(await store.get(key)).toBeUndefined();
    expect(await store.delete(key)).toBe(false);
    await store.put(key, makeRecord(key), null);
    expect(await store.delete(key)).toBe(true);
  });

  it('list: every key of its prefix (accounts kept apart), in keyId order, none of another prefix', async () => {
    const store = open();
    const neighbour = open();
    const keys = [
      { server: 'b' },
      { server: 'a', account: 'work' },
      { server: 'a' },
      { server: 'a', account: '' },
    ];
    for (const key of keys) await store.put(key, makeRecord(key), null);
    await neighbour.put({ server: 'z' }, makeRecord({ server: 'z' }), null);
    expect(await store.list()).toEqual([
      { server: 'a', account: '' },
      { server: 'a', account: 'work' },
      { server: 'a' },
      { server: 'b' },
    ]);
    expect(await neighbour.list()).toEqual([{ server: 'z' }]);
  });

  it('fingerprint changes with every write and is undefined without a record', async () => {
    const store = open();
    const key = { server: 'fp' };
    expect(await store.fingerprint(key)).toBeUndefined();
    const record = makeRecord(key);
    await store.put(key, record, null);
    const before = await store.fingerprint(key);
    await store.put(key, { ...record, generation: 1 }, versionOf(record));
    const after = await store.fingerprint(key);
    expect(before).toBeDefined();
    expect(after).not.toBe(before);
    expect(await store.read(key)).toEqual({ record: { ...record, generation: 1 }, fingerprint: after });
  });

  it('watch: another store (another process) hears a write and a delete over pub/sub', async () => {
    const prefix = `w${++prefixes}:`;
    const writer = open({}, prefix);
    const watcher = open({}, prefix);
    const heard: string[] = [];
    watcher.watch((key) => heard.push(`${key.server}/${key.account ?? '-'}`));
    await watcher.changeFeed.whenLive();
    const key = { server: 'watched', account: 'me' };
    const record = makeRecord(key);
    await writer.put(key, record, null);
    await waitFor(() => heard.length >= 1, 10_000, 'the write event');
    await writer.delete(key, versionOf(record));
    await waitFor(() => heard.length >= 2, 10_000, 'the delete event');
    expect(heard).toEqual(['watched/me', 'watched/me']);
    expect(watcher.changeFeed.fallbackChecks).toBe(0);
  });

  it('refuses to overwrite or delete a record of a newer schema', async () => {
    const store = open();
    const key = { server: 'future' };
    const record = makeRecord(key);
    await store.put(key, record, null);
    await redis.cli('HSET', credentialKeys(store.prefix, key).record, 'sv', '99');
    await expect(store.get(key)).rejects.toBeInstanceOf(NewerSchemaError);
    await expect(store.put(key, { ...record, generation: 1 }, versionOf(record))).rejects.toBeInstanceOf(
      NewerSchemaError,
    );
    await expect(store.delete(key)).rejects.toBeInstanceOf(NewerSchemaError);
  });

  it('a cipher seals the body: no token in the bytes Redis holds; compare-and-set still works', async () => {
    const store = open({ cipher: base64Cipher });
    const key = { server: 'sealed' };
    const record = makeRecord(key);
    await store.put(key, record, null);
    const raw = await redis.cli('HGETALL', credentialKeys(store.prefix, key).record);
    expect(raw).not.toContain(SECRET_ACCESS_TOKEN);
    expect(raw).toContain('sealed:');
    expect(await store.get(key)).toEqual(record);
    expect(
      (await store.put(key, { ...record, generation: 1 }, { recordId: record.recordId, generation: 3 })).ok,
    ).toBe(false);
    expect((await store.put(key, { ...record, generation: 1 }, versionOf(record))).ok).toBe(true);
  });
});

describe('RedisCredentialStore: lease locks and fencing', () => {
  it('a holder whose lease passed to another is fenced: its compare-and-set-valid write is refused', async () => {
    const prefix = `f${++prefixes}:`;
    const first = open({}, prefix);
    const second = open({}, prefix);
    const key = { server: 'fenced' };
    const record = makeRecord(key);
    await first.put(key, record, null);
    const keys = credentialKeys(prefix, key);
    let secondWrote = false;
    const firstHolder = first.withLock(key, async () => {
      // Stand-in for a pause past the lease: the lease disappears as if it had expired...
      await redis.cli('DEL', keys.lock('refresh'));
      // ...and the next holder takes it (a later fencing value) before the first one writes.
      await second.withLock(key, async () => {
        // The first holder's write matches the stored version, yet it is refused: fencing.
        await expect(
          first.put(key, { ...record, generation: 1, updatedAt: 1 }, versionOf(record)),
        ).rejects.toBeInstanceOf(LeaseLostError);
        expect(
          (await second.put(key, { ...record, generation: 1, updatedAt: 2 }, versionOf(record))).ok,
        ).toBe(true);
        secondWrote = true;
      });
      // The lost lease is reported before a refresh token would be sent.
      await expect(first.assertLease(key, 1_000)).rejects.toBeInstanceOf(LeaseLostError);
    });
    await firstHolder;
    expect(secondWrote).toBe(true);
    expect((await first.get(key))?.updatedAt).toBe(2);
  });

  it('mutual exclusion: concurrent holders of one key never overlap; another key is independent', async () => {
    const prefix = `m${++prefixes}:`;
    const a = open({}, prefix);
    const b = open({}, prefix);
    const key = { server: 'mutex' };
    let inside = 0;
    let maxInside = 0;
    const work = async () => {
      inside += 1;
      maxInside = Math.max(maxInside, inside);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inside -= 1;
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).withLock(key, work)));
    expect(maxInside).toBe(1);
    // A login lock is another lock of the same credential: held at once with the refresh lock.
    await a.withLock(key, () => b.withLock(key, async () => {}, { purpose: 'login', waitMs: 2_000 }), {
      waitMs: 2_000,
    });
  });

  it('assertLease extends a short lease to cover the request about to be sent', async () => {
    const store = open({ leaseMs: 1_000 });
    const key = { server: 'lease' };
    await store.withLock(key, async () => {
      await store.assertLease(key, 20_000);
      const left = Number(await redis.cli('PTTL', credentialKeys(store.prefix, key).lock('refresh')));
      expect(left).toBeGreaterThan(20_000);
    });
    // Outside a lock there is nothing to check.
    await store.assertLease(key, 20_000);
  });

  it('a lock held by a dead holder is taken over once its lease runs out', async () => {
    const prefix = `d${++prefixes}:`;
    const store = open({}, prefix);
    const key = { server: 'dead' };
    // A holder that died: its lease stays for 300 ms, nobody renews it.
    await redis.cli('SET', credentialKeys(prefix, key).lock('refresh'), 'dead-holder', 'PX', '300');
    let ran = false;
    await store.withLock(
      key,
      async () => {
        ran = true;
      },
      { waitMs: 10_000 },
    );
    expect(ran).toBe(true);
  });
});

describe('RedisCredentialStore: reachability and resources', () => {
  it('an unreachable store is StoreUnavailableError naming the URL without its password', async () => {
    const url = `redis://alice:s3cret-pw@127.0.0.1:${redis.port + 1}/0`;
    const error = await RedisCredentialStore.open({ url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${redis.port + 1}`);
    expect(message).not.toContain('s3cret-pw');
    expect(JSON.stringify(error)).not.toContain('s3cret-pw');
  });

  it('redactStoreUrl hides passwords (with or without a user) and secret query parameters', () => {
    expect(redactStoreUrl('redis://alice:pw@h:6379/0')).toBe('redis://alice:***@h:6379/0');
    expect(redactStoreUrl('rediss://:pw@h:6380')).toBe('rediss://:***@h:6380');
    expect(redactStoreUrl('redis://h:6379?password=pw&db=1')).toBe('redis://h:6379?password=***&db=1');
    expect(redactStoreUrl('redis://h:6379')).toBe('redis://h:6379');
    expect(redactStoreUrl('not a url pw')).not.toContain('pw');
  });

  it('close() releases everything: a process that used every part exits by itself', async () => {
    const script = fileURLToPath(new URL('./redis-store-child.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, 'use-and-close', redis.url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, 60_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(out).toContain('closed');
    expect(code).toBe(0);
  }, 90_000);
});

describe('RedisCredentialStore: an unreadable record', () => {
  it('is moved aside (kept, never deleted) with CorruptCredentialError; a new login can then take the key', async () => {
    const store = open();
    const key = { server: 'broken' };
    const record = makeRecord(key);
    await store.put(key, record, null);
    const name = credentialKeys(store.prefix, key).record;
    await redis.cli('HSET', name, 'body', '{"truncated": ');
    const error = await store.get(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptCredentialError);
    expect((error as CorruptCredentialError).quarantinedTo).toContain(`${name}:corrupt:`);
    const kept = (await redis.cli('KEYS', `${name}:corrupt:*`)).trim();
    expect(await redis.cli('HGET', kept, 'body')).toContain('{"truncated": ');
    expect(await store.get(key)).toBeUndefined();
    expect(await store.put(key, makeRecord(key), null)).toEqual({ ok: true });
    expect(await store.list()).toEqual([key]);
  });

  it('a body this build cannot read and that is not plaintext JSON (maybe sealed) is left in place', async () => {
    const store = open();
    const key = { server: 'sealed-elsewhere' };
    await store.put(key, makeRecord(key), null);
    const name = credentialKeys(store.prefix, key).record;
    // Sealed under a key this store does not hold: named as such, and kept.
    await redis.cli('HSET', name, 'body', 'mcpo-enc:v1:other-key:aaa:bbb');
    const sealed = await store.get(key).catch((e: unknown) => e);
    expect((sealed as Error).name).toBe('RecordKeyMissingError');
    expect(await redis.cli('HGET', name, 'body')).toContain('mcpo-enc:v1:other-key');
    // Not JSON, not sealed: corrupt, and still kept in place.
    await redis.cli('HSET', name, 'body', 'garbage');
    await expect(store.get(key)).rejects.toBeInstanceOf(CorruptCredentialError);
    expect(await redis.cli('HGET', name, 'body')).toContain('garbage');
  });
});
