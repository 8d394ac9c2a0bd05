import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoCode, toStoreError } from './fs-errors.js';

const FILE_MODE = 0o600;

/** Temp files start with a dot and end with `.tmp`; they never look like a record file. */
export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/**
 * Makes a rename or unlink in `dir` durable. Some platforms (Windows) cannot open or fsync a
 * folder; there the rename is as durable as the OS makes it.
 */
export async function fsyncFolder(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch (error) {
    const code = errnoCode(error);
    if (process.platform === 'win32' || code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM') return;
    throw toStoreError('flush the folder', dir, error);
  } finally {
    await handle?.close().catch(() => {});
  }
}

/**
 * Replaces `target` with `data` atomically: a unique temp file in the same folder
 * (O_CREAT|O_EXCL, mode 0600), write, fsync, rename over the target, fsync the folder. A reader
 * sees the old bytes or the new bytes, never a mix; a crash leaves at worst a stray temp file.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  let renamed = false;
  try {
    handle = await fs.open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, FILE_MODE);
    // The umask may have removed bits from the mode passed to open: set it exactly.
    await handle.chmod(FILE_MODE);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, target);
    renamed = true;
  } catch (error) {
    throw toStoreError('write the credential file', target, error);
  } finally {
    await handle?.close().catch(() => {});
    if (!renamed) await fs.unlink(temp).catch(() => {});
  }
  await fsyncFolder(dir);
}
