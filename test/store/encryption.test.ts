import { randomBytes } from 'node:crypto';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { AesGcmCipher, keyIdOf, SEALED_PREFIX } from '../../src/store/aes-gcm-cipher.js';
import { RecordKeyMissingError } from '../../src/store/encryption-errors.js';
import { loadEncryption } from '../../src/store/encryption-keys.js';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { tempHome } from '../support/temp-home.js';
import { makeRecord, SECRET_ACCESS_TOKEN } from './helpers.js';

const key = { server: 'notion' };

describe('AES-256-GCM record cipher', () => {
  it('seals with the current key, names it, opens with current and previous keys, passes plaintext through', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = new AesGcmCipher(oldKey);
    const sealed = before.seal('{"a":1}');
    expect(sealed.startsWith(`${SEALED_PREFIX}${keyIdOf(oldKey)}:`)).toBe(true);
    expect(sealed).not.toContain('"a"');
    const after = new AesGcmCipher(newKey, [oldKey]);
    expect(after.open(sealed)).toBe('{"a":1}');
    expect(after.open(after.seal('{"b":2}'))).toBe('{"b":2}');
    expect(after.open('{"plain":true}')).toBe('{"plain":true}');
    // Without the old key: a typed error naming the key id.
    const error = (() => {
      try {
        new AesGcmCipher(newKey).open(sealed);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(RecordKeyMissingError);
    expect((error as RecordKeyMissingError).keyId).toBe(keyIdOf(oldKey));
    expect((error as Error).message).toContain(keyIdOf(oldKey));
  });

  it('refuses a tampered record (GCM authentication)', () => {
    const cipher = new AesGcmCipher(randomBytes(32));
    const sealed = cipher.seal('{"a":1}');
    const flipped = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}${sealed.slice(-1)}`;
    expect(() => cipher.open(flipped)).toThrow(/failed authentication/);
  });
});

describe('encryption keys from the environment and config.yaml', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ home, cleanup } = await tempHome());
    await import('node:fs/promises').then((fs) => fs.mkdir(home, { recursive: true, mode: 0o700 }));
  });
  afterEach(() => cleanup());

  it('takes the environment over the key file, with previous keys from both', async () => {
    const fileKey = randomBytes(32);
    const envKey = randomBytes(32);
    const previous = randomBytes(32);
    await writeFile(join(home, 'key'), `${fileKey.toString('base64')}\n`, { mode: 0o600 });
    const fromFile = await loadEncryption({ key_file: 'key' }, {}, home);
    expect(fromFile.kind === 'key' && fromFile.cipher.currentKeyId).toBe(keyIdOf(fileKey));
    const fromEnv = await loadEncryption(
      { key_file: 'key', previous_key_files: ['key'] },
      {
        MCP_OAUTH_ENCRYPTION_KEY: envKey.toString('base64'),
        MCP_OAUTH_ENCRYPTION_KEY_PREVIOUS: previous.toString('base64url'),
      },
      home,
    );
    expect(fromEnv.kind === 'key' && fromEnv.cipher.keyIds).toEqual([
      keyIdOf(envKey),
      keyIdOf(previous),
      keyIdOf(fileKey),
    ]);
    expect(await loadEncryption('none', {}, home)).toEqual({ kind: 'none' });
    expect(await loadEncryption(undefined, {}, home)).toEqual({ kind: 'unset' });
  });

  it('refuses a bad key with a ConfigError saying what to do, never echoing the key', async () => {
    const short = randomBytes(16).toString('base64');
    await expect(loadEncryption(undefined, { MCP_OAUTH_ENCRYPTION_KEY: short }, home)).rejects.toThrow(
      /decodes to 16 bytes, not 32.*openssl rand -base64 32/,
    );
    await expect(
      loadEncryption(undefined, { MCP_OAUTH_ENCRYPTION_KEY: 'not base64 at all!' }, home),
    ).rejects.toThrow(/it is not base64/);
    const error = await loadEncryption(undefined, { MCP_OAUTH_ENCRYPTION_KEY: short }, home).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).not.toContain(short);
    await expect(loadEncryption({ key_file: 'missing' }, {}, home)).rejects.toThrow(
      /does not exist; create it/,
    );
    await writeFile(join(home, 'open-key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    await chmod(join(home, 'open-key'), 0o644);
    await expect(loadEncryption({ key_file: 'open-key' }, {}, home)).rejects.toThrow(
      /other users can read it.*chmod 600/,
    );
    await expect(
      loadEncryption(
        undefined,
        { MCP_OAUTH_ENCRYPTION_KEY_PREVIOUS: randomBytes(32).toString('base64') },
        home,
      ),
    ).rejects.toThrow(/no current key/);
  });
});

describe('the file store with a key', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ home, cleanup } = await tempHome());
  });
  afterEach(() => cleanup());

  async function bytesOnDisk(store: FileCredentialStore): Promise<string> {
    const names = await readdir(store.credentialsDir);
    const parts = await Promise.all(names.map((name) => readFile(join(store.credentialsDir, name), 'utf8')));
    return parts.join('\n');
  }

  it('seals what it writes (no token on disk), reads plaintext records and seals them at their next write', async () => {
    const plainStore = new FileCredentialStore({ home, watch: false });
    const record = makeRecord(key);
    await plainStore.put(key, record, null);
    expect(await bytesOnDisk(plainStore)).toContain(SECRET_ACCESS_TOKEN);

    const store = new FileCredentialStore({ home, watch: false, cipher: new AesGcmCipher(randomBytes(32)) });
    expect(await store.get(key)).toEqual(record); // plaintext still reads
    expect(await store.list()).toEqual([key]);
    await store.put(key, { ...record, generation: 1 }, { recordId: record.recordId, generation: 0 });
    const disk = await bytesOnDisk(store);
    expect(disk.startsWith(SEALED_PREFIX)).toBe(true);
    expect(disk).not.toContain(SECRET_ACCESS_TOKEN);
    expect(disk).not.toContain('rt-SECRET');
    expect((await store.get(key))?.generation).toBe(1);
    expect(await store.list()).toEqual([key]);
  });

  it('a record sealed with a key it does not hold: a clear error naming the key id; nothing moved or deleted', async () => {
    const writerKey = randomBytes(32);
    const writer = new FileCredentialStore({ home, watch: false, cipher: new AesGcmCipher(writerKey) });
    const record = makeRecord(key);
    await writer.put(key, record, null);
    const before = await bytesOnDisk(writer);

    for (const cipher of [new AesGcmCipher(randomBytes(32)), undefined]) {
      const reader = new FileCredentialStore({ home, watch: false, cipher });
      const error = await reader.get(key).catch((e) => e);
      expect(error).toBeInstanceOf(RecordKeyMissingError);
      expect(error.message).toContain(keyIdOf(writerKey));
      // A compare-and-set against it is refused the same way rather than replacing it.
      await expect(reader.put(key, makeRecord(key), null)).rejects.toBeInstanceOf(RecordKeyMissingError);
      await expect(reader.delete(key)).rejects.toBeInstanceOf(RecordKeyMissingError);
      expect(await reader.list()).toEqual([]);
    }
    expect(await bytesOnDisk(writer)).toBe(before);
    expect(await writer.get(key)).toEqual(record);
  });

  it('migrate refuses a source holding records sealed with a key it does not hold, before changing anything', async () => {
    const { migrateStore } = await import('../../src/store/store-migration.js');
    const { MemoryCredentialStore } = await import('../../src/store/memory-credential-store.js');
    const { readMoveMarker } = await import('../../src/store/move-marker.js');
    const writerKey = randomBytes(32);
    const writer = new FileCredentialStore({ home, watch: false, cipher: new AesGcmCipher(writerKey) });
    await writer.put(key, makeRecord(key), null);
    const reader = new FileCredentialStore({ home, watch: false, cipher: new AesGcmCipher(randomBytes(32)) });
    const target = new MemoryCredentialStore();
    const error = await migrateStore(reader, { store: target, displayUrl: 'memory' }).catch((e) => e);
    expect(error).toBeInstanceOf(RecordKeyMissingError);
    expect(error.message).toContain(keyIdOf(writerKey));
    expect(await readMoveMarker(writer)).toBeUndefined();
    expect(await target.list()).toEqual([]);
  });
});
