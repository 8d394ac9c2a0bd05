import { join } from 'node:path';
import { removeFileLock } from '../file-lock.js';
import type { CredentialKey, CredentialStore } from './credential-store.js';
import { FileCredentialStore } from './file-credential-store.js';
import { fileNameFor } from './file-names.js';
import { SelectedStore } from './selected-store.js';

/** The lock files a file store keeps per key in `locks/`: refresh transaction, login, write. */
const LOCK_SUFFIXES = ['txn', 'login', 'write'] as const;

/**
 * Removes the lock files of `key` (`locks/<name>.txn`, `.login`, `.write`) of a file store, for a
 * credential that is gone for good (`servers remove`, a reset logout): each only while no one
 * holds it and this process holds it (see removeFileLock), so a process that is using or waiting
 * for one is never left with a lock the others cannot see. Returns the files left in place
 * because they are held; nothing to do for other stores (their locks leave nothing behind).
 */
export async function removeLockFiles(selected: CredentialStore, key: CredentialKey): Promise<string[]> {
  // The manager's store is usually a SelectedStore: the file store (if that is what config.yaml
  // or MCP_OAUTH_STORE selects) is inside it.
  const store = selected instanceof SelectedStore ? (await selected.resolve()).store : selected;
  if (!(store instanceof FileCredentialStore)) return [];
  const base = fileNameFor(key);
  const kept: string[] = [];
  for (const suffix of LOCK_SUFFIXES) {
    const path = join(store.locksDir, `${base}.${suffix}`);
    if (!(await removeFileLock(path))) kept.push(path);
  }
  return kept;
}
