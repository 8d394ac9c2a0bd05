import type { CredentialKey, CredentialStore } from '../store/credential-store.js';

/** How the manager takes a credential's lock (resolved once, in settings.ts). */
export interface LockSettings {
  /** False only for the benchmark's seed baseline. */
  enabled: boolean;
  /** Bounded wait for the lock. */
  waitMs: number;
  /** For stores whose locks expire (a Redis lease): a silent holder is presumed dead after this. */
  staleMs: number;
}

/**
 * Runs `fn` holding the store's cross-process lock of `key` (the lock every refresh, login commit
 * and logout of a credential takes), with the manager's bounded wait and stale-holder limit.
 * Without the lock (the benchmark's seed baseline only) `fn` runs at once.
 */
export function underCredentialLock<T>(
  store: CredentialStore,
  key: CredentialKey,
  lock: LockSettings,
  fn: () => Promise<T>,
): Promise<T> {
  if (!lock.enabled) return fn();
  return store.withLock(key, fn, { waitMs: lock.waitMs, staleMs: lock.staleMs });
}
