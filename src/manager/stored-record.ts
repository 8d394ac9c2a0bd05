import { CorruptCredentialError } from '../errors.js';
import type { CredentialRecord } from '../store/credential-record.js';
import type { CredentialKey, CredentialStore } from '../store/credential-store.js';

/**
 * The stored record of `key`, or undefined when there is none or it was unreadable (the store has
 * already moved it aside). Every other failure is the caller's to see, with its own fix: a newer
 * schema (upgrade), an unsafe file (the command that fixes it), a storage error. Catching those
 * too would turn "your credential file is a symbolic link" into "not logged in".
 */
export async function storedRecord(
  store: CredentialStore,
  key: CredentialKey,
): Promise<CredentialRecord | undefined> {
  try {
    return await store.get(key);
  } catch (error) {
    if (error instanceof CorruptCredentialError) return undefined;
    throw error;
  }
}
