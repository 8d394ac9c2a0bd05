import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptCredentialError, NewerSchemaError, StoreError } from '../../src/errors.js';
import { toStoreError } from '../../src/fs-errors.js';
import { ensureHome } from '../../src/home-folder.js';
import type { Logger } from '../../src/logger.js';
import { versionOf } from '../../src/store/credential-record.js';
import type { CredentialKey } from '../../src/store/credential-store.js';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { makeRecord, SECRET_ACCESS_TOKEN, tempRoot, UNSAFE_SERVER_NAMES, waitFor } from './helpers.js';

const KEY: CredentialKey = { server: 'notion' };

let home: string;
let cleanup: () => Promise<void>;
let store: FileCredentialStore;
const stores: FileCredentialStore[] = [];

function newStore(options: ConstructorParameters<typeof FileCredentialStore>[0] = {}): FileCredentialStore {
  const created = new FileCredentialStore({ home, ...options });
  stores.push(created);
  return created;
}

beforeEach(async () => {
  ({ home, cleanup } = await tempRoot());
  store = newStore();
});

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await cleanup();
});

describe('FileCredentialStore: basics', () => {
  it('round-trips a record', async () => {
    expect(await store.get(KEY)).toBeUndefined();
    const record = makeRecord(KEY);
    expect(await store.put(KEY, record, null)).toEqual({ ok: true });
    expect(await store.get(KEY)).toEqual(record);
    // Another instance (another process, as far as the files go) reads the same thing.
    expect(await newStore().get(KEY)).toEqual(record);
  });

  it.skipIf(process.platform === 'win32')('writes files 0600 in folders 0700', async () => {
    const first = makeRecord(KEY);
    await store.put(KEY, first, null);
    expect((await stat(store.recordPath(KEY))).mode & 0o777).toBe(0o600);
    for (const dir of [home, store.credentialsDir, store.locksDir])
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const previous = process.umask(0o177);
    try {
      expect(await store.put(KEY, makeRecord(KEY), versionOf(first))).toEqual({ ok: true });
      expect((await stat(store.recordPath(KEY))).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('leaves no temp file behind', async () => {
    let record = makeRecord(KEY);
    await store.put(KEY, record, null);
    for (let i = 0; i < 20; i++) {
      const next = { ...record, generation: record.generation + 1 };
      expect(await store.put(KEY, next, versionOf(record))).toEqual({ ok: true });
      record = next;
    }
    expect(await readdir(store.credentialsDir)).toEqual([basename(store.recordPath(KEY))]);
  });

  it('refuses an invalid record or a record of another key (caller bugs) without writing', async () => {
    const bad = { ...makeRecord(KEY), recordId: '' };
    await expect(store.put(KEY, bad, null)).rejects.toBeInstanceOf(StoreError);
    await expect(store.put({ server: 'other' }, makeRecord(KEY), null)).rejects.toBeInstanceOf(StoreError);
    expect(await readdir(store.credentialsDir)).toEqual([]);
  });

  it('maps fs error codes to messages that say what to do', () => {
    const fail = (code: string) =>
      toStoreError('write the credential file', '/h/credentials/x.json', { code });
    expect(fail('ENOSPC').message).toMatch(/no space left.*Free some disk space.*unchanged/);
    expect(fail('EACCES').message).toMatch(/permission denied.*mode 700/);
    expect(fail('EROFS').message).toMatch(/read-only.*MCP_OAUTH_HOME/);
    expect(fail('EWHATEVER')).toBeInstanceOf(StoreError);
    const typed = new NewerSchemaError('s', 2, 1);
    expect(toStoreError('read', '/x', typed)).toBe(typed);
  });

  it.skipIf(process.getuid?.() === 0 || process.platform === 'win32')(
    'turns a permission failure into a StoreError',
    async () => {
      const { chmod } = await import('node:fs/promises');
      const first = makeRecord(KEY);
      await store.put(KEY, first, null);
      await chmod(store.credentialsDir, 0o500);
      try {
        const error = await store.put(KEY, makeRecord(KEY), versionOf(first)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect((error as Error).message).toMatch(/permission denied/);
        expect((error as Error).message).not.toContain(SECRET_ACCESS_TOKEN);
      } finally {
        await chmod(store.credentialsDir, 0o700);
      }
    },
  );
});

describe('FileCredentialStore: compare-and-set', () => {
  it('put(null) fails when a record exists, and returns it', async () => {
    const first = makeRecord(KEY);
    await store.put(KEY, first, null);
    const result = await store.put(KEY, makeRecord(KEY), null);
    expect(result).toEqual({ ok: false, current: first });
  });

  it('put(version) succeeds only on the current version', async () => {
    const v0 = makeRecord(KEY);
    await store.put(KEY, v0, null);
    const v1 = { ...v0, generation: 1 };
    expect(await store.put(KEY, v1, versionOf(v0))).toEqual({ ok: true });
    // A writer that read v0 cannot overwrite v1.
    const stale = { ...v0, generation: 1, reauthReason: 'stale writer' };
    expect(await store.put(KEY, stale, versionOf(v0))).toEqual({ ok: false, current: v1 });
    // Nor can a writer that read another login with the same generation.
    expect(await store.put(KEY, stale, { recordId: 'another-login', generation: 1 })).toEqual({
      ok: false,
      current: v1,
    });
    // Nothing can resurrect a deleted record with a version expectation.
    await store.delete(KEY);
    expect(await store.put(KEY, v1, versionOf(v1))).toEqual({ ok: false, current: undefined });
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('put(version) replaces the record with one of another login (a new recordId)', async () => {
    const first = makeRecord(KEY);
    await store.put(KEY, first, null);
    const login = makeRecord(KEY);
    expect(await store.put(KEY, login, versionOf(first))).toEqual({ ok: true });
    expect(await store.get(KEY)).toEqual(login);
  });

  it('delete with a stale expectation deletes nothing', async () => {
    const v0 = makeRecord(KEY);
    await store.put(KEY, v0, null);
    const v1 = { ...v0, generation: 1 };
    await store.put(KEY, v1, versionOf(v0));
    expect(await store.delete(KEY, versionOf(v0))).toBe(false);
    expect(await store.get(KEY)).toEqual(v1);
    expect(await store.delete(KEY, versionOf(v1))).toBe(true);
    expect(await store.get(KEY)).toBeUndefined();
    expect(await store.delete(KEY)).toBe(false);
  });

  it('concurrent compare-and-set in one process: exactly one winner', async () => {
    const v0 = makeRecord(KEY);
    await store.put(KEY, v0, null);
    const other = newStore();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? store : other).put(
          KEY,
          { ...v0, generation: 1, reauthReason: `writer ${i}` },
          versionOf(v0),
        ),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});

describe('FileCredentialStore: unreadable records', () => {
  const record = makeRecord(KEY);
  const full = `${JSON.stringify(record, null, 2)}\n`;
  const cases: [string, string][] = [
    ['invalid JSON', '{ this is not json'],
    ['a truncated record', full.slice(0, Math.floor(full.length / 2))],
    ['an empty file', ''],
    ['a record of the wrong schema', JSON.stringify({ schemaVersion: 1, hello: 'world' })],
    ['a JSON array', '[1,2,3]'],
    ['invalid UTF-8', '\uFFFD'],
    ['a record of another server', JSON.stringify(makeRecord({ server: 'someone-else' }))],
    ['a record of another account', JSON.stringify(makeRecord({ server: 'notion', account: 'mallory' }))],
  ];

  for (const [what, content] of cases) {
    it(`quarantines ${what}: CorruptCredentialError, bytes kept, next get is undefined`, async () => {
      await ensureHome(home);
      const bytes = what === 'invalid UTF-8' ? Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) : Buffer.from(content);
      const target = store.recordPath(KEY);
      await writeFile(target, bytes, { mode: 0o600 });
      const error = await store.get(KEY).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptCredentialError);
      const corrupt = error as CorruptCredentialError;
      expect(corrupt.server).toBe('notion');
      expect(corrupt.message).not.toContain(SECRET_ACCESS_TOKEN);
      expect(corrupt.quarantinedTo).toBeDefined();
      expect(dirname(corrupt.quarantinedTo!)).toBe(store.credentialsDir);
      expect(corrupt.quarantinedTo).toMatch(/\.corrupt-\d+-[0-9a-f]+\.json$/);
      expect(Buffer.compare(await readFile(corrupt.quarantinedTo!), bytes)).toBe(0);
      await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await store.get(KEY)).toBeUndefined();
      // The quarantined file is not a record: list ignores it, a new login can be stored.
      expect(await store.list()).toEqual([]);
      expect(await store.put(KEY, makeRecord(KEY), null)).toEqual({ ok: true });
    });
  }

  it('a corrupt record met by put: moved aside; absent for null, ok:false for a version', async () => {
    await ensureHome(home);
    const target = store.recordPath(KEY);
    await writeFile(target, '{ broken', { mode: 0o600 });
    expect(await store.put(KEY, record, { recordId: record.recordId, generation: 0 })).toEqual({
      ok: false,
      current: undefined,
    });
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(target, '{ broken again', { mode: 0o600 });
    expect(await store.put(KEY, record, null)).toEqual({ ok: true });
    expect(await store.get(KEY)).toEqual(record);
    const quarantined = (await readdir(store.credentialsDir)).filter((n) => n.includes('.corrupt-'));
    expect(quarantined).toHaveLength(2);
  });

  it('list skips a corrupt file without throwing and without moving it', async () => {
    await store.put(KEY, makeRecord(KEY), null);
    const broken = { server: 'broken' };
    await writeFile(store.recordPath(broken), '{ nope', { mode: 0o600 });
    // A valid record under the wrong file name is skipped too.
    await writeFile(store.recordPath({ server: 'misplaced' }), JSON.stringify(makeRecord({ server: 'x' })));
    expect(await store.list()).toEqual([KEY]);
    expect((await stat(store.recordPath(broken))).isFile()).toBe(true);
  });
});

describe('FileCredentialStore: newer schema', () => {
  it('is never overwritten, deleted or quarantined; NewerSchemaError on get, put and delete', async () => {
    await ensureHome(home);
    const target = store.recordPath(KEY);
    const newer = `${JSON.stringify({ ...makeRecord(KEY), schemaVersion: 2, somethingNew: { x: 1 } })}\n`;
    await writeFile(target, newer, { mode: 0o600 });
    const before = await stat(target, { bigint: true });

    const onGet = await store.get(KEY).catch((e: unknown) => e);
    expect(onGet).toBeInstanceOf(NewerSchemaError);
    expect(onGet).toMatchObject({ found: 2, supported: 1, server: 'notion' });
    const someVersion = { recordId: 'any-login', generation: 0 };
    await expect(store.put(KEY, makeRecord(KEY), someVersion)).rejects.toBeInstanceOf(NewerSchemaError);
    await expect(store.put(KEY, makeRecord(KEY), null)).rejects.toBeInstanceOf(NewerSchemaError);
    await expect(store.delete(KEY)).rejects.toBeInstanceOf(NewerSchemaError);

    expect(await readFile(target, 'utf8')).toBe(newer);
    const after = await stat(target, { bigint: true });
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeNs).toBe(before.mtimeNs);
    // It is still listed (status can report it).
    expect(await store.list()).toEqual([KEY]);
  });
});

describe('FileCredentialStore: hostile names', () => {
  it('gives every name its own file inside credentials/, and every one round-trips', async () => {
    const keys: CredentialKey[] = [
      ...UNSAFE_SERVER_NAMES.map((server) => ({ server })),
      { server: 'notion', account: 'alice' },
      { server: 'notion', account: 'bob' },
      { server: 'notion', account: '' },
      { server: 'notion', account: '../../etc' },
    ];
    const records = new Map<CredentialKey, ReturnType<typeof makeRecord>>();
    for (const key of keys) {
      const record = makeRecord(key);
      records.set(key, record);
      expect(await store.put(key, record, null)).toEqual({ ok: true });
    }
    const files = await readdir(store.credentialsDir);
    expect(files).toHaveLength(keys.length);
    for (const key of keys) {
      const path = store.recordPath(key);
      expect(dirname(path)).toBe(store.credentialsDir);
      expect(Buffer.byteLength(basename(path))).toBeLessThan(100);
      expect(await store.get(key)).toEqual(records.get(key));
    }
    // Nothing escaped the credentials folder.
    expect((await readdir(home)).sort()).toEqual(['credentials', 'locks']);
    const listed = await store.list();
    expect(listed).toHaveLength(keys.length);
    expect(new Set(listed.map((k) => JSON.stringify([k.server, k.account ?? null])))).toEqual(
      new Set(keys.map((k) => JSON.stringify([k.server, k.account ?? null]))),
    );
  });
});

describe('FileCredentialStore: fingerprint and watch (one process)', () => {
  it('fingerprint changes on every write and is undefined without a record', async () => {
    expect(await store.fingerprint(KEY)).toBeUndefined();
    const v0 = makeRecord(KEY);
    await store.put(KEY, v0, null);
    const f0 = await store.fingerprint(KEY);
    expect(f0).toMatch(/^\d+:\d+:\d+$/);
    await store.put(KEY, { ...v0, generation: 1 }, versionOf(v0));
    expect(await store.fingerprint(KEY)).not.toBe(f0);
    await store.delete(KEY);
    expect(await store.fingerprint(KEY)).toBeUndefined();
  });

  it('signals writes of another store instance, to several listeners, until unsubscribed', async () => {
    const seenA: CredentialKey[] = [];
    const seenB: CredentialKey[] = [];
    const stopA = store.watch((key) => seenA.push(key));
    const stopB = store.watch((key) => seenB.push(key));
    await store.list(); // the watcher starts once the home exists
    const writer = newStore({ watch: false });
    const other = { server: 'other', account: 'alice' };
    await writer.put(other, makeRecord(other), null);
    await waitFor(() => seenA.length > 0 && seenB.length > 0, 5_000, 'a change signal');
    expect(seenA[0]).toEqual(other);
    stopA();
    const countA = seenA.length;
    await writer.put(KEY, makeRecord(KEY), null);
    await waitFor(() => seenB.some((k) => k.server === 'notion'), 5_000, 'a second change signal');
    expect(seenA.length).toBe(countA);
    stopB();
  });

  it('a listener that throws is logged and does not stop the others', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) };
    const watched = newStore({ logger });
    const seen: CredentialKey[] = [];
    watched.watch(() => {
      throw new Error('listener bug');
    });
    watched.watch((key) => seen.push(key));
    await watched.put(KEY, makeRecord(KEY), null);
    await waitFor(() => seen.length > 0, 5_000, 'the second listener');
    expect(warnings.some((w) => w.includes('listener'))).toBe(true);
  });
});
