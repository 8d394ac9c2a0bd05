import { isMoveMarkerKey, MOVE_MARKER_KEY, readMoveMarker } from './move-marker.js';
import type { OpenedStore } from './open-store.js';

/** What `mcp-oauth store status` shows: never a record's content. */
export interface StoreReport {
  backend: 'file' | 'redis';
  /** `file`, or the Redis URL without its password. */
  url: string;
  prefix: string | null;
  reachable: boolean;
  /** One round trip (the median of three reads), ms; null when unreachable. */
  latencyMs: number | null;
  /** Number of credential records; null when unreachable. */
  records: number | null;
  /** The id of the current encryption key, or null when records are stored unsealed. */
  encryptionKeyId: string | null;
  /** Set when the store was moved (or is being moved) by `store migrate`. */
  moved: { phase: 'moving' | 'moved'; to: string } | null;
  /** Why it is unreachable. */
  error: string | null;
}

/** Measures `opened`: reachability, latency, the number of records, the moved marker. */
export async function inspectStore(opened: OpenedStore): Promise<StoreReport> {
  const base = {
    backend: opened.backend,
    url: opened.displayUrl,
    prefix: opened.prefix ?? null,
    encryptionKeyId: opened.cipher?.currentKeyId ?? null,
  };
  try {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await opened.store.fingerprint(MOVE_MARKER_KEY);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const keys = await opened.store.list();
    const marker = await readMoveMarker(opened.store).catch(() => undefined);
    return {
      ...base,
      reachable: true,
      latencyMs: Math.round(times[1]! * 1000) / 1000,
      records: keys.filter((key) => !isMoveMarkerKey(key)).length,
      moved: marker ? { phase: marker.phase, to: marker.to } : null,
      error: null,
    };
  } catch (error) {
    return {
      ...base,
      reachable: false,
      latencyMs: null,
      records: null,
      moved: null,
      error: (error as Error).message,
    };
  }
}
