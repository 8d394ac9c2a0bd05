import { versionOf } from './credential-record.js';
import { type CredentialStore, DEFAULT_LOCK_WAIT_MS } from './credential-store.js';

/** What rotateKey did; never a token. */
export interface RotationReport {
  /** Records read and written again (sealed under the current key). */
  rewritten: number;
  /** Records deleted while the rotation ran (nothing to rewrite). */
  gone: number;
}

/**
 * Re-encrypts every record of `store` under its cipher's current key: each is read (any key the
 * cipher holds opens it) and written back by compare-and-set, generation + 1, under the
 * credential's refresh lock, so it never races a refresh, a login commit or a logout. Processes
 * holding the old key among their previous keys keep reading throughout; once every record is
 * rewritten the previous key can be dropped. The marker of a moved store is rewritten too.
 */
export async function rotateKey(
  store: CredentialStore,
  options: { lockWaitMs?: number; concurrency?: number; now?: () => number } = {},
): Promise<RotationReport> {
  const now = options.now ?? Date.now;
  const report: RotationReport = { rewritten: 0, gone: 0 };
  const queue = await store.list();
  const worker = async () => {
    for (let key = queue.shift(); key; key = queue.shift()) {
      const done = await store.withLock(
        key,
        async () => {
          for (;;) {
            const record = await store.get(key);
            if (!record) return false;
            const next = { ...record, generation: record.generation + 1, updatedAt: now() };
            if ((await store.put(key, next, versionOf(record))).ok) return true;
          }
        },
        { waitMs: options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS },
      );
      if (done) report.rewritten += 1;
      else report.gone += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return report;
}
