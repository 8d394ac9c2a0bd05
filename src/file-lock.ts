import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Mutex, withTimeout } from 'async-mutex';
import { LockTimeoutError, StoreError } from './errors.js';
import { openSafeFile } from './file-safety.js';
import { errnoCode } from './fs-errors.js';
import type { Logger } from './logger.js';

/** How `acquireFileLock` waits, and what its messages call the lock. */
export interface FileLockOptions {
  /** Total bounded wait (in-process queue and cross-process polling together). */
  waitMs: number;
  logger: Logger;
  /** For messages: what the lock protects (no secrets). */
  what: string;
}

/** Releases a lock taken by `acquireFileLock`; calling it again does nothing. */
export type ReleaseLock = () => Promise<void>;

/**
 * In-process queue per lock path, shared by every store instance of this process: waiters in the
 * same process queue on a mutex instead of polling the kernel lock.
 */
const queues = new Map<string, { mutex: Mutex; users: number }>();

function enterQueue(path: string): Mutex {
  let entry = queues.get(path);
  if (!entry) {
    entry = { mutex: new Mutex(), users: 0 };
    queues.set(path, entry);
  }
  entry.users += 1;
  return entry.mutex;
}

function leaveQueue(path: string): void {
  const entry = queues.get(path);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users === 0) queues.delete(path);
}

/** First pause between two non-blocking attempts on a held lock; it doubles up to POLL_MAX_MS. */
const POLL_MIN_MS = 2;
/** Longest pause between two non-blocking attempts on a held lock; short keeps hand-offs fast. */
const POLL_MAX_MS = 25;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The handles of the locks this process holds. Node closes a FileHandle that is garbage
 * collected, and closing the descriptor drops the kernel lock: a holder whose work is an async
 * chain nothing else references (awaiting a promise that never settles, a paused job) would lose
 * its lock at the next collection. Held here, a lock lasts until it is released.
 */
const heldHandles = new Set<FileHandle>();

/**
 * The native addon, loaded at the first lock: loading it costs ~14 ms, and a process that only
 * reads (`mcp-oauth token` with a fresh token, `status`) never takes a lock.
 */
let nativeLocks: Promise<typeof import('fs-native-extensions').default> | undefined;
const loadNativeLocks = () => {
  nativeLocks ??= import('fs-native-extensions').then((module) => module.default);
  return nativeLocks;
};

/** Does `path` still name the file `handle` has open (same device and inode)? */
async function namesSameFile(path: string, handle: FileHandle): Promise<boolean> {
  try {
    const [held, named] = await Promise.all([
      handle.stat({ bigint: true }),
      fs.lstat(path, { bigint: true }),
    ]);
    return held.ino === named.ino && held.dev === named.dev;
  } catch {
    return false;
  }
}

/**
 * Deletes the lock file at `path` when no one holds its lock, and only while this process holds
 * it: the kernel lock (flock) belongs to the open file, not to the name, so the name may go only
 * under the lock, and every taker checks after locking that the name still leads to what it
 * locked (acquireFileLock): a waiter that was queued on the deleted file then starts over on the
 * new one instead of holding a lock no one else can see. Returns false, deleting nothing, when
 * the lock is held (by this process or another) or the file is not a safe lock file; true when
 * the file is gone (or was never there).
 */
export async function removeFileLock(path: string): Promise<boolean> {
  if (queues.has(path)) return false; // held or awaited in this process
  let opened: Awaited<ReturnType<typeof openSafeFile>>;
  try {
    opened = await openSafeFile(path, 'the lock file', constants.O_RDWR, 0o600);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return true;
    return false;
  }
  if (!opened) return true;
  const { handle } = opened;
  const fsx = await loadNativeLocks();
  try {
    if (!fsx.tryLock(handle.fd)) return false;
    try {
      if (!(await namesSameFile(path, handle))) return false;
      await fs.unlink(path);
      return true;
    } finally {
      fsx.unlock(handle.fd);
    }
  } catch {
    return false;
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * Takes the cross-process lock on `path`: an exclusive kernel lock (flock, through
 * fs-native-extensions) on a lock file that only removeFileLock deletes, under the lock. The kernel drops the lock the
 * moment its holder dies, so a crashed holder is recovered at once and there is no stale-lock
 * takeover to race (lock-directory schemes such as proper-lockfile let two waiters both take over
 * a dead holder's lock, which here would mean two refreshes of one rotating token). Polls with
 * `tryLock` (a blocking wait would hold a libuv thread per waiter) until `waitMs`, then
 * LockTimeoutError. The lock file is opened without following a symbolic link and must be a
 * regular file of the current user that group and others cannot write (UnsafeFileError).
 */
export async function acquireFileLock(path: string, options: FileLockOptions): Promise<ReleaseLock> {
  const { waitMs, what } = options;
  const deadline = Date.now() + waitMs;
  const mutex = enterQueue(path);
  let releaseMutex: (() => void) | undefined;
  let handle: FileHandle | undefined;
  try {
    releaseMutex = await withTimeout(
      mutex,
      Math.max(0, waitMs),
      new LockTimeoutError(what, waitMs),
    ).acquire();
    // No-follow and checked after opening: a symbolic link planted here must not create or lock
    // its target, and a FIFO must not hang the open (UnsafeFileError, the file is left as it is).
    const opened = await openSafeFile(path, 'the lock file', constants.O_RDWR | constants.O_CREAT, 0o600);
    if (!opened)
      throw new StoreError(`Could not create the lock file ${path}: its folder is missing. Retry.`);
    handle = opened.handle;
    const fsx = await loadNativeLocks();
    let delay = POLL_MIN_MS;
    for (;;) {
      if (fsx.tryLock(handle.fd)) {
        // Locked, but maybe an inode that removeFileLock unlinked while this process waited on it:
        // then the lock guards nothing, and the file now at `path` is the lock. Start over on it.
        if (await namesSameFile(path, handle)) break;
        fsx.unlock(handle.fd);
        await handle.close().catch(() => {});
        handle = undefined;
        const reopened = await openSafeFile(
          path,
          'the lock file',
          constants.O_RDWR | constants.O_CREAT,
          0o600,
        );
        if (!reopened)
          throw new StoreError(`Could not create the lock file ${path}: its folder is missing. Retry.`);
        handle = reopened.handle;
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new LockTimeoutError(what, waitMs);
      await sleep(Math.min(remaining, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
    const held = handle;
    heldHandles.add(held);
    const heldMutex = releaseMutex;
    handle = undefined;
    releaseMutex = undefined;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      try {
        fsx.unlock(held.fd);
      } finally {
        // Closing the descriptor releases the kernel lock even if unlock failed.
        heldHandles.delete(held);
        await held.close().catch(() => {});
        heldMutex();
        leaveQueue(path);
      }
    };
  } catch (error) {
    await handle?.close().catch(() => {});
    releaseMutex?.();
    leaveQueue(path);
    throw error;
  }
}
