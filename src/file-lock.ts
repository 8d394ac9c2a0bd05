import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Mutex, withTimeout } from 'async-mutex';
import { LockTimeoutError, StoreError } from './errors.js';
import { openSafeFile } from './file-safety.js';
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

/**
 * Takes the cross-process lock on `path`: an exclusive kernel lock (flock, through
 * fs-native-extensions) on a lock file that is never deleted. The kernel drops the lock the
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
    while (!fsx.tryLock(handle.fd)) {
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
