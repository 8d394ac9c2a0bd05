/**
 * Hostile files in the home folder: symbolic links, FIFOs, files of another user or writable by
 * others, where the store expects its own record and lock files (and the reusable check that
 * config.yaml is meant to use). Everything here runs on real files; owner checks chown to another
 * uid, which needs root (the suite skips those otherwise).
 */
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, chown, lstat, mkdir, open, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { checkSafeFile, readSafeFile, UnsafeFileError } from '../../src/file-safety.js';
import { OAuthManager } from '../../src/index.js';
import { FileCredentialStore } from '../../src/store/file-credential-store.js';
import { fileNameFor } from '../../src/store/file-names.js';
import { encodeRecord } from '../../src/store/record-codec.js';
import { makeRecord, SECRET_ACCESS_TOKEN, tempRoot } from '../store/helpers.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const OTHER_UID = 12_345;
const key = { server: 'hostile' };
const base = fileNameFor(key);

let root: string;
let home: string;
let cleanup: () => Promise<void>;
const stores: FileCredentialStore[] = [];
const fifos: string[] = [];

async function openStore(): Promise<FileCredentialStore> {
  const store = await FileCredentialStore.open({ home, watch: false });
  stores.push(store);
  return store;
}

function mkfifo(path: string): void {
  execFileSync('mkfifo', ['-m', '600', path]);
  fifos.push(path);
}

const recordPath = () => join(home, 'credentials', `${base}.json`);

beforeEach(async () => {
  ({ root, home, cleanup } = await tempRoot());
});

afterEach(async () => {
  // A reader blocked in open() on a FIFO (the bug) holds a libuv thread: give it a writer so it ends.
  for (const fifo of fifos.splice(0)) {
    const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
    await writer?.close();
  }
  for (const store of stores.splice(0)) await store.close();
  await cleanup();
});

describe('lock files', () => {
  it('a dangling symbolic link in place of a lock file is refused; its target is never created', async () => {
    const store = await openStore();
    const target = join(root, 'created-through-the-link');
    const lockPath = join(home, 'locks', `${base}.txn`);
    await symlink(target, lockPath);
    let ran = 0;
    const error = await store
      .withLock(key, async () => {
        ran += 1;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeFileError);
    expect((error as Error).message).toContain('symbolic link');
    expect((error as Error).message).toContain(`rm ${lockPath}`);
    expect(ran).toBe(0);
    await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await lstat(lockPath)).isSymbolicLink()).toBe(true);
  });

  it('a FIFO in place of a lock file is refused', async () => {
    const store = await openStore();
    mkfifo(join(home, 'locks', `${base}.txn`));
    await expect(store.withLock(key, async () => {})).rejects.toThrow(/FIFO/);
  });
});

describe('record files', () => {
  it('a record file that is a symbolic link is not read through; the link stays, nothing is quarantined', async () => {
    const store = await openStore();
    // A valid record elsewhere (another user's home, say): following the link would use its token.
    const elsewhere = join(root, 'elsewhere.json');
    const original = encodeRecord(makeRecord(key));
    await writeFile(elsewhere, original, { mode: 0o600 });
    await symlink(elsewhere, recordPath());
    const error = await store.get(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeFileError);
    expect((error as Error).message).toContain('symbolic link');
    expect((error as Error).message).toContain(`rm ${recordPath()}`);
    expect((error as Error).message).not.toContain(SECRET_ACCESS_TOKEN);
    // A put does not write through it either, and list() skips it.
    await expect(store.put(key, makeRecord(key), null)).rejects.toBeInstanceOf(UnsafeFileError);
    expect(await store.list()).toEqual([]);
    expect((await lstat(recordPath())).isSymbolicLink()).toBe(true);
    expect(await readFile(elsewhere, 'utf8')).toBe(original);
    expect((await readdir(join(home, 'credentials'))).filter((n) => n.includes('.corrupt-'))).toEqual([]);
  });

  it('a FIFO in place of a record file is refused at once by get, list and status (no hang)', async () => {
    const store = await openStore();
    mkfifo(recordPath());
    const error = await store.get(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeFileError);
    expect((error as Error).message).toContain('FIFO');
    expect(await store.list()).toEqual([]);

    const manager = new OAuthManager({ home, interactive: 'never' });
    try {
      manager.getOrBuildProvider(key.server, 'https://mcp.example.com/mcp');
      // The CLI's status turns this into an `error` row for this server (src/cli/commands/status.ts).
      const refused = await manager.status(key.server).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(UnsafeFileError);
      expect((refused as Error).message).toContain('not a regular file');
      expect((refused as Error).message).toContain(`rm ${recordPath()}`);
    } finally {
      await manager.close();
    }
    expect((await lstat(recordPath())).isFIFO()).toBe(true);
  });

  it('a record file writable by group or others is refused with the chmod that fixes it; not quarantined', async () => {
    const store = await openStore();
    await writeFile(recordPath(), encodeRecord(makeRecord(key)), { mode: 0o600 });
    await chmod(recordPath(), 0o666);
    const error = await store.get(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeFileError);
    expect((error as Error).message).toContain('mode 666');
    expect((error as Error).message).toContain(`chmod 600 ${recordPath()}`);
    expect((error as Error).message).not.toContain(SECRET_ACCESS_TOKEN);
    expect((await readdir(join(home, 'credentials'))).filter((n) => n.includes('.corrupt-'))).toEqual([]);
    // The fix the message names makes it usable again.
    await chmod(recordPath(), 0o600);
    expect((await store.get(key))?.server).toBe(key.server);
  });

  it.runIf(isRoot)('a record file owned by another uid is refused, whatever its mode', async () => {
    const store = await openStore();
    await writeFile(recordPath(), encodeRecord(makeRecord(key)), { mode: 0o600 });
    await chown(recordPath(), OTHER_UID, OTHER_UID);
    expect((await lstat(recordPath())).uid).toBe(OTHER_UID);
    const error = await store.get(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeFileError);
    expect((error as Error).message).toContain(`uid ${OTHER_UID}`);
    expect((error as UnsafeFileError).fix).toContain(`rm ${recordPath()}`);
    await expect(store.put(key, makeRecord(key), null)).rejects.toBeInstanceOf(UnsafeFileError);
    expect((await lstat(recordPath())).uid).toBe(OTHER_UID);
  });

  it.runIf(isRoot)('a lock file owned by another uid is refused', async () => {
    const store = await openStore();
    const lockPath = join(home, 'locks', `${base}.write`);
    await writeFile(lockPath, '', { mode: 0o600 });
    await chown(lockPath, OTHER_UID, OTHER_UID);
    await expect(store.put(key, makeRecord(key), null)).rejects.toThrow(`uid ${OTHER_UID}`);
  });
});

describe('checkSafeFile / readSafeFile (for config.yaml)', () => {
  it('accepts a private regular file, reports a missing one, refuses every hostile kind', async () => {
    await mkdir(home, { mode: 0o700 });
    const ok = join(home, 'config.yaml');
    await writeFile(ok, 'servers: {}\n', { mode: 0o644 });
    expect(await checkSafeFile(ok)).toBe(true);
    expect((await readSafeFile(ok))?.bytes.toString()).toBe('servers: {}\n');
    expect(await checkSafeFile(join(home, 'missing.yaml'))).toBe(false);
    expect(await readSafeFile(join(home, 'missing.yaml'))).toBeUndefined();

    const link = join(home, 'link.yaml');
    await symlink(ok, link);
    const fifo = join(home, 'fifo.yaml');
    mkfifo(fifo);
    const wide = join(home, 'wide.yaml');
    await writeFile(wide, 'servers: {}\n');
    await chmod(wide, 0o664);
    const refused = [link, fifo, wide];
    if (isRoot) {
      const foreign = join(home, 'foreign.yaml');
      await writeFile(foreign, 'servers: {}\n', { mode: 0o600 });
      await chown(foreign, OTHER_UID, OTHER_UID);
      refused.push(foreign);
    }
    for (const path of refused) {
      await expect(checkSafeFile(path, 'the configuration file')).rejects.toBeInstanceOf(UnsafeFileError);
      const error = await readSafeFile(path, 'the configuration file').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(`Refusing to use the configuration file ${path}`);
      expect((error as Error).message).toContain('Fix it with: ');
    }
  });
});

describe('config.yaml', () => {
  it('loadConfig refuses a symlinked, FIFO or group-writable config.yaml with a ConfigError naming the fix; a 0644 file is read', async () => {
    const { loadConfig } = await import('../../src/config/config-file.js');
    const { ConfigError } = await import('../../src/errors.js');
    await mkdir(home, { mode: 0o700 });
    const file = join(home, 'config.yaml');
    await writeFile(join(root, 'elsewhere.yaml'), 'servers:\n  evil:\n    url: https://evil.example/mcp\n');

    await symlink(join(root, 'elsewhere.yaml'), file);
    const viaLink = await loadConfig(home).catch((e: unknown) => e);
    expect(viaLink).toBeInstanceOf(ConfigError);
    expect((viaLink as Error).message).toContain('symbolic link');
    expect((viaLink as Error).message).toContain(`Fix it with: rm ${file}`);

    await (await import('node:fs/promises')).rm(file);
    mkfifo(file);
    // A FIFO would block a plain read forever; this must come back at once with an error.
    await expect(loadConfig(home)).rejects.toThrow('FIFO');

    await (await import('node:fs/promises')).rm(file);
    await writeFile(file, 'servers:\n  ok:\n    url: https://mcp.example/mcp\n', { mode: 0o644 });
    expect([...(await loadConfig(home)).servers.keys()]).toEqual(['ok']);
    await chmod(file, 0o666);
    await expect(loadConfig(home)).rejects.toThrow(`chmod 600 ${file}`);
  });
});

describe('logout over a hostile record file', () => {
  it('says what is wrong with the file (UnsafeFileError with the fix) instead of "not logged in", and leaves it', async () => {
    const store = await openStore();
    await mkdir(join(home, 'credentials'), { recursive: true, mode: 0o700 });
    const elsewhere = join(root, 'elsewhere.json');
    await writeFile(elsewhere, 'whatever', { mode: 0o600 });
    await symlink(elsewhere, recordPath());
    const manager = new OAuthManager({ store, interactive: 'never' });
    manager.getOrBuildProvider('hostile', 'https://mcp.example.com/mcp');
    const error = await manager.logout('hostile').catch((e: unknown) => e);
    await manager.close();
    expect(error).toBeInstanceOf(UnsafeFileError);
    expect((error as Error).message).toContain('symbolic link');
    expect((await lstat(recordPath())).isSymbolicLink()).toBe(true);
  });
});
