// The credential record's versioning policy, tested on real files:
// - a record with a higher schemaVersion (a newer build wrote it) is refused with NewerSchemaError
//   and never overwritten, deleted or moved aside by this build;
// - an optional field this build does not know, under this build's schemaVersion (an additive
//   change), does not make the record unreadable;
// - the smallest record this build's schema accepts (required fields only) is read.
// See docs/DECISIONS.md, "The credential record's versioning policy".
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptCredentialError, NeedsReauthError, NewerSchemaError } from '../../src/errors.js';
import { ensureHome } from '../../src/home-folder.js';
import { OAuthManager } from '../../src/manager/oauth-manager.js';
import {
  CREDENTIAL_SCHEMA_VERSION,
  type CredentialRecord,
  versionOf,
} from '../../src/store/credential-record.js';
import type { CredentialKey, CredentialStore } from '../../src/store/credential-store.js';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { MemoryCredentialStore } from '../../src/store/memory-credential-store.js';
import { makeRecord, tempRoot } from './helpers.js';

const KEY: CredentialKey = { server: 'notion' };
const SERVER_URL = 'https://mcp.example.com/mcp';

let home: string;
let cleanup: () => Promise<void>;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  ({ home, cleanup } = await tempRoot());
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await cleanup();
});

function fileStore(): FileCredentialStore {
  // No watcher: these tests are about bytes on disk, not change notification.
  const store = new FileCredentialStore({ home, watch: false });
  closers.push(() => store.close());
  return store;
}

/** Writes `content` as the record file of KEY, as another build would have, and returns its bytes. */
async function writeRecordFile(store: FileCredentialStore, content: unknown): Promise<Buffer> {
  await ensureHome(home);
  const bytes = Buffer.from(`${JSON.stringify(content, null, 2)}\n`);
  await writeFile(store.recordPath(KEY), bytes, { mode: 0o600 });
  return bytes;
}

/** The record file's bytes and identity, to prove that nothing replaced or touched it. */
async function snapshot(store: FileCredentialStore) {
  const path = store.recordPath(KEY);
  const stats = await stat(path, { bigint: true });
  return { bytes: await readFile(path), ino: stats.ino, mtimeNs: stats.mtimeNs };
}

/** The credentials folder holds exactly the record file: nothing was quarantined or left behind. */
async function expectOnlyTheRecordFile(store: FileCredentialStore): Promise<void> {
  expect(await readdir(store.credentialsDir)).toEqual([basename(store.recordPath(KEY))]);
}

const refusesToFetch = async (): Promise<Response> => {
  throw new Error('this test allows no network request');
};

describe('record versioning: a record written by a newer build', () => {
  const newerVersion = CREDENTIAL_SCHEMA_VERSION + 1;
  // A newer build may have changed the meaning and shape of fields (that is what a bump means):
  // here `tokens` is no longer this build's shape and a required field is gone. The raw
  // schemaVersion alone must decide, before any validation that would call the record corrupt.
  const { tokens: _tokens, updatedAt: _updatedAt, ...rest } = makeRecord(KEY);
  const newer = {
    ...rest,
    schemaVersion: newerVersion,
    tokens: [{ kind: 'access', value: 'at-newer-shape', expiresAt: '2030-01-01T00:00:00Z' }],
    somethingNew: { x: 1 },
  };

  it('FileCredentialStore: NewerSchemaError on get; put and delete refused; bytes unchanged; nothing quarantined', async () => {
    const store = fileStore();
    await writeRecordFile(store, newer);
    const before = await snapshot(store);

    const onGet = await store.get(KEY).catch((e: unknown) => e);
    expect(onGet).toBeInstanceOf(NewerSchemaError);
    expect(onGet).toMatchObject({
      server: 'notion',
      found: newerVersion,
      supported: CREDENTIAL_SCHEMA_VERSION,
    });
    expect(onGet).not.toBeInstanceOf(CorruptCredentialError);

    // Every way this build could write: as a first login (null) and as a compare-and-set on the
    // version it would have read (same recordId and generation as the file).
    const ours = makeRecord(KEY, { recordId: newer.recordId, generation: newer.generation + 1 });
    await expect(store.put(KEY, makeRecord(KEY), null)).rejects.toBeInstanceOf(NewerSchemaError);
    await expect(
      store.put(KEY, ours, { recordId: newer.recordId, generation: newer.generation }),
    ).rejects.toBeInstanceOf(NewerSchemaError);
    await expect(store.delete(KEY)).rejects.toBeInstanceOf(NewerSchemaError);
    await expect(
      store.delete(KEY, { recordId: newer.recordId, generation: newer.generation }),
    ).rejects.toBeInstanceOf(NewerSchemaError);
    // A second read is refused the same way (the first one did not move the file aside).
    await expect(store.get(KEY)).rejects.toBeInstanceOf(NewerSchemaError);

    const after = await snapshot(store);
    expect(Buffer.compare(after.bytes, before.bytes)).toBe(0);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeNs).toBe(before.mtimeNs);
    await expectOnlyTheRecordFile(store);
    // Still listed, so status can report it.
    expect(await store.list()).toEqual([KEY]);
  });

  it('an OAuthManager of this build reports it and leaves it untouched (token, refresh, logout --reset)', async () => {
    const store = fileStore();
    await writeRecordFile(store, newer);
    const before = await snapshot(store);
    const manager = new OAuthManager({ store, interactive: 'never', fetch: refusesToFetch });
    closers.push(() => manager.close());
    manager.getOrBuildProvider('notion', SERVER_URL);

    await expect(manager.accessToken('notion')).rejects.toBeInstanceOf(NeedsReauthError);
    await expect(manager.refreshNow('notion')).rejects.toBeInstanceOf(NeedsReauthError);
    const status = await manager.status('notion');
    expect(status.state).toBe('needs_reauth');
    expect(status.error).toContain(`schemaVersion ${newerVersion}`);
    // A logout says why it cannot act (upgrade), instead of "not logged in" over a live record.
    await expect(manager.logout('notion', { reset: true })).rejects.toBeInstanceOf(NewerSchemaError);

    const after = await snapshot(store);
    expect(Buffer.compare(after.bytes, before.bytes)).toBe(0);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeNs).toBe(before.mtimeNs);
    await expectOnlyTheRecordFile(store);
  });
});

describe('record versioning: an optional field this build does not know, same schemaVersion', () => {
  // What a later build adding optional fields (without a bump) would write: unknown keys at the
  // top level and inside `tokens`, and inside the two objects the schema passes through as they
  // are (the client information and the discovery metadata).
  const base = makeRecord(KEY, {
    client: {
      kind: 'dcr',
      information: { client_id: 'client-1' },
      redirectUri: 'http://127.0.0.1:4000/callback/x',
    },
    discovery: {
      authorizationServerUrl: 'https://auth.example.com',
      authorizationServerMetadata: { issuer: 'https://auth.example.com' },
    },
  });
  const withAdditions = {
    ...base,
    futureOptional: { note: 'added by a later build' },
    tokens: { ...base.tokens, futureTokenField: 'x' },
    client: {
      ...base.client,
      information: { ...base.client!.information, future_registration_field: 'kept' },
    },
    discovery: {
      ...base.discovery,
      authorizationServerMetadata: {
        ...base.discovery!.authorizationServerMetadata,
        future_metadata_field: true,
      },
    },
  };

  it('FileCredentialStore: the record is read as valid, every known field intact; the read changes nothing', async () => {
    const store = fileStore();
    await writeRecordFile(store, withAdditions);
    const before = await snapshot(store);

    const read = await store.get(KEY);
    expect(read).toBeDefined();
    expect(read).toMatchObject(base);
    expect(versionOf(read!)).toEqual(versionOf(base));
    // The client information and the metadata are passed through whole.
    expect(read!.client!.information.future_registration_field).toBe('kept');
    expect(read!.discovery!.authorizationServerMetadata!.future_metadata_field).toBe(true);

    const after = await snapshot(store);
    expect(Buffer.compare(after.bytes, before.bytes)).toBe(0);
    expect(after.mtimeNs).toBe(before.mtimeNs);
    await expectOnlyTheRecordFile(store);
  });

  it('FileCredentialStore: this build rewrites it by compare-and-set (a refresh), keeping every field it knows', async () => {
    const store = fileStore();
    await writeRecordFile(store, withAdditions);
    const read = (await store.get(KEY))!;
    const refreshed: CredentialRecord = {
      ...read,
      generation: read.generation + 1,
      tokens: { ...read.tokens!, accessToken: 'at-refreshed', obtainedAt: read.tokens!.obtainedAt + 1 },
      updatedAt: read.updatedAt + 1,
    };
    expect(await store.put(KEY, refreshed, versionOf(read))).toEqual({ ok: true });

    const onDisk = JSON.parse(await readFile(store.recordPath(KEY), 'utf8')) as Record<string, unknown>;
    expect(onDisk).toMatchObject(refreshed);
    expect(onDisk).toMatchObject({
      schemaVersion: CREDENTIAL_SCHEMA_VERSION,
      client: { information: { future_registration_field: 'kept' } },
      discovery: { authorizationServerMetadata: { future_metadata_field: true } },
    });
    expect(await fileStore().get(KEY)).toMatchObject(refreshed);
    await expectOnlyTheRecordFile(store);
  });

  it('a rewrite by this build keeps the fields a later build added (top level, tokens, binding), so additive fields need no new schemaVersion', async () => {
    const store = fileStore();
    await writeRecordFile(store, {
      ...withAdditions,
      binding: { ...base.binding, futureBindingField: 'b' },
    });
    const read = (await store.get(KEY))!;
    // A refresh as the manager writes it: spread the record it read, replace the tokens.
    const refreshed: CredentialRecord = {
      ...read,
      generation: read.generation + 1,
      tokens: { ...read.tokens!, accessToken: 'at-refreshed' },
      updatedAt: read.updatedAt + 1,
    };
    expect(await store.put(KEY, refreshed, versionOf(read))).toEqual({ ok: true });
    const onDisk = JSON.parse(await readFile(store.recordPath(KEY), 'utf8'));
    expect(onDisk.futureOptional).toEqual({ note: 'added by a later build' });
    expect(onDisk.tokens.futureTokenField).toBe('x');
    expect(onDisk.binding.futureBindingField).toBe('b');
    expect(onDisk.tokens.accessToken).toBe('at-refreshed');
  });

  it('MemoryCredentialStore: a record carrying an unknown optional field is accepted, not refused as invalid', async () => {
    const store = new MemoryCredentialStore();
    closers.push(() => store.close());
    expect(await store.put(KEY, withAdditions as CredentialRecord, null)).toEqual({ ok: true });
    const read = await store.get(KEY);
    expect(read).toMatchObject(base);
    expect(read!.client!.information.future_registration_field).toBe('kept');
  });
});

describe('record versioning: the smallest record of this schemaVersion', () => {
  // CREDENTIAL_SCHEMA_VERSION is 1 and there is no older form to migrate from: these are the
  // required fields only, as the first build wrote them.
  const minimal = {
    schemaVersion: 1,
    recordId: 'r-minimal',
    generation: 0,
    server: 'notion',
    binding: { serverUrl: SERVER_URL },
    state: 'valid',
    updatedAt: 1_700_000_000_000,
  } as const;

  it('this build is the schemaVersion these records were written with', () => {
    // If this fails, the version was bumped: add the reading of version-1 files (or a migration)
    // and extend this file with the new older form.
    expect(CREDENTIAL_SCHEMA_VERSION).toBe(1);
  });

  it('FileCredentialStore: a record with only the required fields is read as it is', async () => {
    const store = fileStore();
    await writeRecordFile(store, minimal);
    expect(await store.get(KEY)).toEqual(minimal);
    expect(await store.list()).toEqual([KEY]);
    await expectOnlyTheRecordFile(store);
  });

  it('FileCredentialStore: minimal tokens (no tokenType, no refresh token, no expiry) are read with tokenType Bearer', async () => {
    const store = fileStore();
    const tokens = { accessToken: 'at-minimal', expiresAt: null, obtainedAt: 1_700_000_000_000 };
    await writeRecordFile(store, { ...minimal, tokens });
    expect(await store.get(KEY)).toEqual({ ...minimal, tokens: { ...tokens, tokenType: 'Bearer' } });
  });

  it('FileCredentialStore: the minimal record can be rewritten by compare-and-set', async () => {
    const store = fileStore();
    await writeRecordFile(store, minimal);
    const read = (await store.get(KEY))!;
    const next: CredentialRecord = { ...read, generation: 1, updatedAt: read.updatedAt + 1 };
    expect(await store.put(KEY, next, versionOf(read))).toEqual({ ok: true });
    expect(await fileStore().get(KEY)).toEqual(next);
  });

  it('MemoryCredentialStore: the minimal record round-trips', async () => {
    const store: CredentialStore = new MemoryCredentialStore();
    closers.push(() => store.close());
    expect(await store.put(KEY, { ...minimal }, null)).toEqual({ ok: true });
    expect(await store.get(KEY)).toEqual(minimal);
  });

  it('FileCredentialStore: a file without a schemaVersion (or with 0) is not an older record: it is quarantined', async () => {
    for (const schemaVersion of [undefined, 0]) {
      const store = fileStore();
      await writeRecordFile(store, { ...minimal, schemaVersion });
      const error = await store.get(KEY).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptCredentialError);
      expect((error as CorruptCredentialError).quarantinedTo).toMatch(/\.corrupt-\d+-[0-9a-f]+\.json$/);
      expect(await store.get(KEY)).toBeUndefined();
    }
  });
});
