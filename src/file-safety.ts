import { type BigIntStats, constants, promises as fs } from 'node:fs';
import { StoreError } from './errors.js';
import { errnoCode, toStoreError } from './fs-errors.js';
import { shellQuote } from './shell-quote.js';

/**
 * A file in the home folder that this library refuses to use: a symbolic link, something other
 * than a regular file (a FIFO, a socket, a folder, a device), a file of another user, or one its
 * group or other users can write. `fix` is the command that makes it usable (or removes it). The
 * file is left where it is: it is never deleted, and never moved aside like an unreadable record,
 * so its owner can look at how it got there.
 */
export class UnsafeFileError extends StoreError {
  readonly path: string;
  readonly fix: string;
  constructor(path: string, what: string, detail: string, fix: string, options?: { cause?: unknown }) {
    super(`Refusing to use ${what} ${path}: ${detail}. Fix it with: ${fix}`, options);
    this.path = path;
    this.fix = fix;
  }
}

/** O_NOFOLLOW and O_NONBLOCK where the platform has them (Windows has neither; 0 there). */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
const NON_BLOCK = constants.O_NONBLOCK ?? 0;

/** The current user's uid, or undefined where there are no uids (Windows). */
function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

function kindOf(stats: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  return 'a device or other special file';
}

type AnyStats = Pick<BigIntStats, 'isFile' | 'isDirectory' | 'isFIFO' | 'isSocket' | 'isSymbolicLink'> & {
  mode: number | bigint;
  uid: number | bigint;
};

/**
 * Refuses `stats` (of `path`) unless it is a regular file of the current user that neither its
 * group nor other users can write: the same rule as the home folder (src/home-folder.ts).
 * Ownership and mode are not checked on Windows.
 */
export function checkFileStats(path: string, what: string, stats: AnyStats): void {
  const quoted = shellQuote(path);
  if (stats.isSymbolicLink()) {
    throw new UnsafeFileError(path, what, 'it is a symbolic link, not a regular file', `rm ${quoted}`);
  }
  if (!stats.isFile()) {
    throw new UnsafeFileError(path, what, `it is ${kindOf(stats)}, not a regular file`, `rm ${quoted}`);
  }
  if (process.platform === 'win32') return;
  const uid = currentUid();
  const owner = Number(stats.uid);
  if (uid !== undefined && owner !== uid) {
    throw new UnsafeFileError(
      path,
      what,
      `it belongs to uid ${owner}, not to the current user (uid ${uid})`,
      `rm ${quoted} (or, if you trust it: chown ${uid} ${quoted} && chmod 600 ${quoted})`,
    );
  }
  const mode = Number(stats.mode) & 0o777;
  if ((mode & 0o022) !== 0) {
    throw new UnsafeFileError(
      path,
      what,
      `it is writable by ${mode & 0o020 ? 'its group' : 'other users'} (mode ${mode.toString(8).padStart(3, '0')})`,
      `chmod 600 ${quoted}`,
    );
  }
}

/**
 * Opens `path` without following a symbolic link (O_NOFOLLOW) and without blocking on a FIFO
 * (O_NONBLOCK; it changes nothing for a regular file), then checks what was actually opened
 * (fstat of the descriptor, so nothing can be swapped in between a check and the open): a
 * regular file of the current user, not writable by group or others; else UnsafeFileError and
 * the descriptor is closed. `flags` may add O_CREAT (with `mode`); a dangling link then fails
 * instead of creating its target. Undefined when the file does not exist (and O_CREAT was not
 * given).
 */
export async function openSafeFile(
  path: string,
  what: string,
  flags: number = constants.O_RDONLY,
  mode = 0o600,
): Promise<{ handle: fs.FileHandle; stats: BigIntStats } | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, flags | NO_FOLLOW | NON_BLOCK, mode);
  } catch (error) {
    const code = errnoCode(error);
    if ((code === 'ENOENT' || code === 'ENOTDIR') && (flags & constants.O_CREAT) === 0) return undefined;
    // O_NOFOLLOW on a symbolic link: ELOOP on Linux and macOS, EMLINK on FreeBSD, EFTYPE on NetBSD.
    if (code === 'ELOOP' || code === 'EMLINK' || code === 'EFTYPE') {
      const stats = await fs.lstat(path).catch(() => undefined);
      if (stats) checkFileStats(path, what, stats);
    }
    // O_NONBLOCK|O_WRONLY on a FIFO without a reader, or a socket: judge what is there.
    if (code === 'ENXIO' || code === 'EOPNOTSUPP') {
      const stats = await fs.lstat(path).catch(() => undefined);
      if (stats) checkFileStats(path, what, stats);
    }
    throw toStoreError(`open ${what}`, path, error);
  }
  try {
    const stats = await handle.stat({ bigint: true });
    checkFileStats(path, what, stats);
    return { handle, stats };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error instanceof UnsafeFileError ? error : toStoreError(`inspect ${what}`, path, error);
  }
}

/**
 * Reads a file that holds secrets or settings (a credential record, `config.yaml`) only if it is
 * safe to trust: a regular file, not a symbolic link, of the current user, not writable by group
 * or others (see openSafeFile); UnsafeFileError otherwise, with the command that fixes it.
 * Undefined when the file does not exist. `stats` describe exactly the bytes read. The store
 * reads records and `config/config-file.ts` reads `config.yaml` through it.
 */
export async function readSafeFile(
  path: string,
  what = 'the file',
): Promise<{ bytes: Buffer; stats: BigIntStats } | undefined> {
  const opened = await openSafeFile(path, what);
  if (!opened) return undefined;
  const { handle, stats } = opened;
  try {
    return { bytes: await readAll(handle, Number(stats.size)), stats };
  } catch (error) {
    throw toStoreError(`read ${what}`, path, error);
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * The whole file, read at the size fstat just gave (FileHandle.readFile would fstat once more):
 * one read for a file that did not grow, further reads until end of file if it did.
 */
async function readAll(handle: fs.FileHandle, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let chunkSize = size + 1;
  for (;;) {
    const buffer = Buffer.allocUnsafe(chunkSize);
    const { bytesRead } = await handle.read(buffer, 0, chunkSize, null);
    if (bytesRead === 0) break;
    chunks.push(buffer.subarray(0, bytesRead));
    if (bytesRead < chunkSize) break;
    chunkSize = 64 * 1024;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * Checks `path` without reading it: true when it is a safe file (see readSafeFile), false when it
 * does not exist, UnsafeFileError otherwise. Prefer readSafeFile when the file is read next: it
 * judges the very file it reads.
 */
export async function checkSafeFile(path: string, what = 'the file'): Promise<boolean> {
  let stats: Awaited<ReturnType<typeof fs.lstat>>;
  try {
    stats = await fs.lstat(path);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw toStoreError(`inspect ${what}`, path, error);
  }
  checkFileStats(path, what, stats);
  return true;
}
