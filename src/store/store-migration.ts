import { CorruptCredentialError } from '../errors.js';
import { type CredentialRecord, versionOf } from './credential-record.js';
import { type CredentialKey, type CredentialStore, DEFAULT_LOCK_WAIT_MS } from './credential-store.js';
import { RecordKeyMissingError } from './encryption-errors.js';
import { clearMoveMarker, isMoveMarkerKey, type MoveMarker, writeMoveMarker } from './move-marker.js';

/** Where the records go, as the marker left in the source store describes it. */
export interface MigrationTarget {
  store: CredentialStore;
  /** The target URL as it may be shown (no password). */
  displayUrl: string;
  /**
   * The full URL (or `file`) running processes may switch to; leave it out when the source
   * store cannot keep it as safely as the credentials (a password, and records stored unsealed).
   */
  followUrl?: string;
  /** The target's Redis key prefix. */
  prefix?: string;
  /** For a file target: its home folder. */
  home?: string;
}

/** Options of migrateStore. */
export interface MigrationOptions {
  /** Bounded wait for each credential's lock in either store (default 30 s). */
  lockWaitMs?: number;
  /** Credentials copied at once (default 16). */
  concurrency?: number;
  /** Clock for the marker's time (default Date.now). */
  now?: () => number;
}

/** What a migration did, by credential; never a token. */
export interface MigrationReport {
  /** Credentials in the source store. */
  total: number;
  /** Written to the target (absent there, or an older version of it). */
  copied: number;
  /** Already in the target at the same version (a repeated migration). */
  unchanged: number;
  /** Left as they were: the target holds a newer version of the same login. */
  keptNewer: number;
}

/**
 * Copies every credential of `source` into `target` and marks `source` as moved, so no process
 * still on `source` can spend a refresh token `target` holds:
 * 1. the target's own marker is cleared (it is the live store now, also when moving back);
 * 2. the source is marked `moving` before any credential is read: from then on no process starts
 *    a refresh there (each lock a SelectedStore grants checks the marker under the lock);
 * 3. each credential is copied under its lock in both stores (so a refresh already running
 *    finishes first) by compare-and-set: written when the target has none or an older version of
 *    the same login or another login; left when the target holds that login at the same or a
 *    newer generation (idempotent: running it again copies nothing);
 * 4. the source is marked `moved` with where to (running processes switch or refuse).
 * Nothing is deleted from the source: moving back later is the same call the other way round.
 */
export async function migrateStore(
  source: CredentialStore,
  target: MigrationTarget,
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  const now = options.now ?? Date.now;
  const waitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  const marker = (phase: MoveMarker['phase']): MoveMarker => ({
    phase,
    to: target.displayUrl,
    ...(target.followUrl !== undefined ? { target: target.followUrl } : {}),
    ...(target.prefix !== undefined ? { prefix: target.prefix } : {}),
    ...(target.home !== undefined ? { home: target.home } : {}),
    at: now(),
  });
  // Records this process cannot read would be left behind: refuse before anything changes.
  await source.list();
  refuseUnreadable(source);
  await clearMoveMarker(target.store);
  await writeMoveMarker(source, marker('moving'));
  try {
    const keys = (await source.list()).filter((key) => !isMoveMarkerKey(key));
    refuseUnreadable(source);
    const report: MigrationReport = { total: keys.length, copied: 0, unchanged: 0, keptNewer: 0 };
    const queue = [...keys];
    const worker = async () => {
      for (let key = queue.shift(); key; key = queue.shift()) {
        const outcome = await copyOne(source, target.store, key, waitMs);
        if (outcome) report[outcome] += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 16) }, worker));
    await writeMoveMarker(source, marker('moved'));
    return report;
  } catch (error) {
    // The source stays the live store: what was copied is harmless (the target is not in use),
    // and running the migration again after the fix copies the rest.
    await clearMoveMarker(source).catch(() => {});
    throw error;
  }
}

/** RecordKeyMissingError when the store's last listing skipped records sealed with a key not held. */
function refuseUnreadable(store: CredentialStore): void {
  const ids = (store as { unreadableKeyIds?: readonly string[] }).unreadableKeyIds;
  if (ids && ids.length > 0) throw new RecordKeyMissingError(ids[0]!, []);
}

type CopyOutcome = 'copied' | 'unchanged' | 'keptNewer';

async function copyOne(
  source: CredentialStore,
  target: CredentialStore,
  key: CredentialKey,
  waitMs: number,
): Promise<CopyOutcome | undefined> {
  return source.withLock(
    key,
    () =>
      target.withLock(
        key,
        async () => {
          const record = await source.get(key);
          if (!record) return undefined; // deleted meanwhile (a logout)
          let current = await currentIn(target, key);
          for (;;) {
            if (current && current.recordId === record.recordId) {
              if (current.generation === record.generation) return 'unchanged';
              if (current.generation > record.generation) return 'keptNewer';
            }
            const put = await target.put(key, record, current ? versionOf(current) : null);
            if (put.ok) return 'copied';
            current = put.current;
          }
        },
        { waitMs },
      ),
    { waitMs },
  );
}

/** The target's record; an unreadable one (moved aside by the file store) counts as absent. */
async function currentIn(store: CredentialStore, key: CredentialKey): Promise<CredentialRecord | undefined> {
  try {
    return await store.get(key);
  } catch (error) {
    if (error instanceof CorruptCredentialError) return undefined;
    throw error;
  }
}
