import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoCode, toStoreError } from './fs-errors.js';

const FILE_MODE = 0o600;

/**
 * Test-only seam (crash injection in test/security/temp-files.test.ts): runs after the temp file
 * was written, before it is renamed. Not exported by the package.
 */
export const atomicWriteTestHooks: { afterTempWrite?: (tempPath: string) => Promise<void> } = {};

/** Temp files start with a dot and end with `.tmp`; they never look like a record file. */
export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** `.<target name>.<writer pid>.<12 hex>.tmp`, as named by writeFileAtomic. */
const TEMP_NAME = /^\.(.+)\.\d+\.[0-9a-f]{12}\.tmp$/;

/**
 * The name of the file a temp file of writeFileAtomic was going to replace, or undefined when
 * `name` is not one of its temp files. The writer's pid in the name is for people only: it does
 * not say whether the writer is alive (pids are reused, and another container may write the same
 * folder), so sweepers decide by the lock the writer held instead.
 */
export function tempFileTarget(name: string): string | undefined {
  return TEMP_NAME.exec(name)?.[1];
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
 * (`.<name>.<pid>.<random>.tmp`, O_CREAT|O_EXCL so never through a planted link, mode 0600 set
 * exactly whatever the umask), write, fsync, rename over the target, fsync the folder. A reader
 * sees the old bytes or the new bytes, never a mix; a crash leaves at worst a stray temp file,
 * which holds the whole content: callers that write secrets sweep them (the credential store does
 * at its next start, see FileCredentialStore).
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
    await atomicWriteTestHooks.afterTempWrite?.(temp);
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
