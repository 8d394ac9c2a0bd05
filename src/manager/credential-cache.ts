import { CorruptCredentialError, NewerSchemaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type CredentialRecord, sameVersion, versionOf } from '../store/credential-record.js';
import { type CredentialStore, keyId } from '../store/credential-store.js';
import { type CredentialsChangeReason, type EmitEvent, subjectOf } from './events.js';
import type { ServerEntry } from './server-entry.js';
import { holdsGrant } from './usability.js';

/**
 * The in-memory copy of each entry's record and its freshness against the store: reads (one at
 * a time per entry), installs what this process wrote, follows the store's change notifications,
 * and announces every new version as `credentials-changed`.
 */
export class CredentialCache {
  constructor(
    private readonly store: CredentialStore,
    private readonly logger: Logger,
    private readonly emit: EmitEvent,
  ) {}

  /** Marks the entry stale: the next use re-reads it. */
  invalidate(entry: ServerEntry): void {
    entry.changeSeq++;
  }

  /** Re-reads the entry if a change was signalled since the last read. */
  async ensureCurrent(entry: ServerEntry): Promise<void> {
    if (entry.dirty) await this.reload(entry);
  }

  /** Reloads the record if its stored fingerprint changed; true when it did. */
  async reloadIfFingerprintChanged(entry: ServerEntry): Promise<boolean> {
    const fingerprint = await this.store.fingerprint(entry.key);
    if (fingerprint === entry.fingerprint) return false;
    this.invalidate(entry);
    await this.reload(entry);
    return true;
  }

  /** Re-reads the record (single flight per entry); emits credentials-changed when it changed. */
  reload(entry: ServerEntry, reason: CredentialsChangeReason = 'external'): Promise<void> {
    if (entry.loading) return entry.loading;
    const seq = entry.changeSeq;
    const installsAtStart = entry.installs;
    const loading = (async () => {
      let record: CredentialRecord | undefined;
      let loadError: Error | undefined;
      let fingerprint: string | undefined;
      let fingerprinted = false;
      try {
        if (this.store.read) {
          ({ record, fingerprint } = await this.store.read(entry.key));
          fingerprinted = true;
        } else {
          record = await this.store.get(entry.key);
        }
      } catch (error) {
        // Only an unreadable or newer-schema record is this server's state; an insecure home or a
        // storage failure is the caller's to see, with its own fix.
        if (!(error instanceof CorruptCredentialError || error instanceof NewerSchemaError)) throw error;
        loadError = error;
        this.logger.warn(error.message);
      }
      // This process installed a record (a refresh, a login) while the read was under way: what was
      // read may be older than it. Keep the installed one; a change signalled since then leaves the
      // entry dirty, so the next use reads again.
      if (entry.installs !== installsAtStart) return;
      const before = entry.record;
      entry.record = record;
      // Keep the first error (the quarantine notice) until a record appears.
      entry.loadError = record ? undefined : (loadError ?? entry.loadError);
      entry.loadedSeq = seq;
      entry.fingerprint = fingerprinted
        ? fingerprint
        : await this.store.fingerprint(entry.key).catch(() => undefined);
      // The first read of a record is not a change.
      const firstRead = !entry.loadedOnce;
      entry.loadedOnce = true;
      if (!firstRead && !sameVersion(before && versionOf(before), record && versionOf(record))) {
        this.emit('credentials-changed', { ...subjectOf(entry), reason });
        if (holdsGrant(record, entry.serverUrl) && !holdsGrant(before, entry.serverUrl)) {
          entry.backoff = { until: 0, attempts: 0 };
          this.emit('reconnect-required', {
            ...subjectOf(entry),
            reason: 'a usable credential appeared',
            cause: 'credential-restored',
          });
        }
      }
    })().finally(() => {
      entry.loading = undefined;
    });
    entry.loading = loading;
    return loading;
  }

  /** Installs a record this process read or wrote, and tells subscribers when it is a new version. */
  async adopt(
    entry: ServerEntry,
    record: CredentialRecord | undefined,
    reason: CredentialsChangeReason,
  ): Promise<void> {
    entry.installs++;
    const before = entry.record;
    entry.record = record;
    entry.loadError = undefined;
    entry.loadedSeq = entry.changeSeq;
    // A record this process installed counts as read: the next change by anyone is announced.
    entry.loadedOnce = true;
    entry.fingerprint = await this.store.fingerprint(entry.key).catch(() => undefined);
    const changed = !sameVersion(before && versionOf(before), record && versionOf(record));
    if (changed) this.emit('credentials-changed', { ...subjectOf(entry), reason });
  }

  /**
   * Follows the store's change notifications: each changed key's entry (`entryFor` its key id) is
   * reloaded at once, so its event reaches subscribers without waiting for the next request.
   * Returns the function that stops following.
   */
  follow(entryFor: (keyId: string) => ServerEntry | undefined): () => void {
    return this.store.watch((key) => {
      const entry = entryFor(keyId(key));
      if (!entry) return;
      this.invalidate(entry);
      this.reload(entry).catch((error) =>
        this.logger.warn(`Reload of '${entry.name}' failed: ${String(error)}`),
      );
    });
  }
}
