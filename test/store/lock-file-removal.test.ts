import { constants } from 'node:fs';
import { open, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import fsx from 'fs-native-extensions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireFileLock, removeFileLock } from '../../src/file-lock.js';
import { silentLogger } from '../../src/logger.js';
import { tempHome } from '../support/temp-home.js';

// A lock file may be deleted only under its own lock, and a taker must notice that the file it
// locked is no longer the one at the path (flock locks the open file, not the name).
describe('lock files removed safely', () => {
  let home: { home: string; cleanup: () => Promise<void> };
  let path: string;
  beforeEach(async () => {
    home = await tempHome();
    // The temporary folder that holds the (not yet created) home.
    path = join(dirname(home.home), 'x.txn');
  });
  afterEach(() => home.cleanup());

  const take = (waitMs = 10_000) => acquireFileLock(path, { waitMs, logger: silentLogger, what: 'x' });

  it('a free lock file is removed; a missing one counts as removed', async () => {
    await (await take())();
    expect(await removeFileLock(path)).toBe(true);
    expect(await readdir(dirname(path))).not.toContain('x.txn');
    expect(await removeFileLock(path)).toBe(true);
  });

  it('a lock held in this process, or by another open file (another process), is left in place', async () => {
    const release = await take();
    expect(await removeFileLock(path)).toBe(false);
    await release();
    const other = await open(path, constants.O_RDWR);
    expect(fsx.tryLock(other.fd)).toBe(true);
    expect(await removeFileLock(path)).toBe(false);
    expect(await readdir(dirname(path))).toContain('x.txn');
    fsx.unlock(other.fd);
    await other.close();
  });

  it('a waiter queued on a deleted lock file starts over on the new one: never two holders', async () => {
    // Holder 1 locks the file; a waiter opens the same file and polls.
    const first = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    expect(fsx.tryLock(first.fd)).toBe(true);
    let acquired = false;
    const waiter = take().then((release) => {
      acquired = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 100));
    // Holder 1 deletes the name while holding it (as removeFileLock does); holder 2 creates a new
    // file under the name and locks it; then holder 1 lets go of the old one.
    await unlink(path);
    const second = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    expect(fsx.tryLock(second.fd)).toBe(true);
    fsx.unlock(first.fd);
    await first.close();
    await new Promise((r) => setTimeout(r, 300));
    // The waiter got the old file's lock, saw the name lead elsewhere, and waits for holder 2.
    expect(acquired).toBe(false);
    fsx.unlock(second.fd);
    await second.close();
    const release = await waiter;
    expect(acquired).toBe(true);
    await release();
  });
});
