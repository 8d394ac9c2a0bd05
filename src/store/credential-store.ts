import type { CredentialRecord, RecordVersion } from './credential-record.js';

/**
 * Which credential. `account` is the user dimension for multi-user hosts (a gateway serving
 * many users keeps one credential per (account, server)); single-user hosts leave it unset.
 */
export interface CredentialKey {
  server: string;
  account?: string;
}

/**
 * What a compare-and-set expects to find:
 * - `null`: no record may exist (first login);
 * - a version: exactly that (recordId, generation) must be current.
 */
export type PutExpectation = RecordVersion | null;

/** The outcome of a compare-and-set: written, or refused with what is stored instead (undefined: nothing). */
export type PutResult = { ok: true } | { ok: false; current: CredentialRecord | undefined };

/** Default `waitMs` of `withLock` in the stores of this package. */
export const DEFAULT_LOCK_WAIT_MS = 30_000;

/** A cross-process mutual exclusion held for the duration of `fn`. */
export interface LockOptions {
  /**
   * Which lock of the key: 'refresh' (default) serialises refresh transactions, logout and commits;
   * 'login' makes one interactive login per server across processes, held for minutes without
   * blocking refreshes of the credential it may replace.
   */
  purpose?: 'refresh' | 'login';
  /** How long to wait for the lock before LockTimeoutError. */
  waitMs?: number;
  /**
   * For stores whose locks are leases (such as a Redis store): a holder that stopped renewing
   * for this long is considered dead and its lock is taken over. The file and memory stores
   * ignore it: the kernel (or the process) releases a dead holder's lock at once.
   */
  staleMs?: number;
}

/**
 * Durable storage of credential records. Implementations: FileCredentialStore (default),
 * MemoryCredentialStore; Redis and OS keyring later, without touching the manager.
 *
 * Contract:
 * - `get` returns undefined when there is no record; throws CorruptCredentialError after moving
 *   an unreadable record aside (never deleting it), NewerSchemaError for a newer schemaVersion.
 * - `put` is an atomic compare-and-set against `expect`; it never overwrites a record with a
 *   newer schemaVersion (throws NewerSchemaError).
 * - `delete` with `expect` deletes only that version.
 * - `watch` signals changes made by any process (best effort, low latency); `fingerprint` is the
 *   cheap explicit check (a stat for files) behind it.
 * - `withLock` serialises a transaction on one key across processes (not re-entrant); a dead
 *   holder's lock is recovered without letting two waiters in at once.
 */
export interface CredentialStore {
  /** The record of `key`, or undefined when there is none. */
  get(key: CredentialKey): Promise<CredentialRecord | undefined>;
  /** Writes `record` if what is stored matches `expect`; otherwise returns what is stored. */
  put(key: CredentialKey, record: CredentialRecord, expect: PutExpectation): Promise<PutResult>;
  /** Deletes the record (only version `expect`, when given); false when nothing was deleted. */
  delete(key: CredentialKey, expect?: RecordVersion): Promise<boolean>;
  /** Every stored key, in `keyId` order. */
  list(): Promise<CredentialKey[]>;
  /** A value that changes whenever the stored record for `key` changes (undefined: no record). */
  fingerprint(key: CredentialKey): Promise<string | undefined>;
  /**
   * Optional: `get` and the fingerprint of exactly what was read, in one read (a file store has
   * both from one open and fstat). Callers fall back to `get` then `fingerprint`, which costs one
   * more stat per read and can pair a record with a newer fingerprint.
   */
  read?(
    key: CredentialKey,
  ): Promise<{ record: CredentialRecord | undefined; fingerprint: string | undefined }>;
  /** Calls `listener` with the key of each changed record; returns the unsubscribe function. */
  watch(listener: (key: CredentialKey) => void): () => void;
  /**
   * Optional, for stores whose locks are leases (Redis): inside `withLock`, makes sure the lock on
   * `key` stays held for `needMs` more (extending the lease), or throws (LeaseLostError). Called
   * just before a refresh token is sent. Stores whose locks never expire leave it out.
   */
  assertLease?(key: CredentialKey, needMs: number): Promise<void>;
  /** Runs `fn` holding the lock of `key` (see LockOptions); LockTimeoutError if it cannot be had in time. */
  withLock<T>(key: CredentialKey, fn: () => Promise<T>, options?: LockOptions): Promise<T>;
  /** Stops change notification and releases what the store holds (watchers, timers). */
  close(): Promise<void>;
}

/**
 * The exact identity of a key as one string, for maps, sorting and file names: unambiguous (JSON
 * of a two-element array, so no separator can be forged by a name), and `account: undefined`
 * differs from `account: ''`. JSON.stringify escapes lone surrogates, so two different JS strings
 * never encode alike.
 */
export function keyId(key: CredentialKey): string {
  return JSON.stringify([key.server, key.account ?? null]);
}
