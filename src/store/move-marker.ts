import { randomUUID } from 'node:crypto';
import { type CredentialRecord, versionOf } from './credential-record.js';
import type { CredentialKey, CredentialStore } from './credential-store.js';

/**
 * The reserved key of the "moved" marker. No configured server can have an empty name, so it
 * never collides with a credential; the selected store (SelectedStore) hides it from `list`.
 */
export const MOVE_MARKER_KEY: CredentialKey = Object.freeze({ server: '', account: 'mcp-oauth:store-moved' });

/** True for the marker's key. */
export function isMoveMarkerKey(key: CredentialKey): boolean {
  return key.server === MOVE_MARKER_KEY.server && key.account === MOVE_MARKER_KEY.account;
}

/**
 * Written into a store whose credentials were (or are being) copied to another store by
 * `migrateStore`. While it says `moving`, no process starts a refresh on this store; once it says
 * `moved`, processes switch to `target` (or, when they cannot, refuse with StoreMovedError).
 */
export interface MoveMarker {
  phase: 'moving' | 'moved';
  /** The new store's URL as it may be shown (no password). */
  to: string;
  /**
   * The new store's full URL, kept only where it is as protected as the credentials themselves:
   * in a store whose records are sealed, or when the URL holds no password. `file` means the
   * file store of `home`.
   */
  target?: string;
  /** The new store's key prefix (Redis). */
  prefix?: string;
  /** For `target: file`: the home folder whose file store it is. */
  home?: string;
  /** When it was written, epoch ms. */
  at: number;
}

/** The marker of `store`, or undefined when it was never moved (or moved back). */
export async function readMoveMarker(store: CredentialStore): Promise<MoveMarker | undefined> {
  const record = await store.get(MOVE_MARKER_KEY);
  const marker = (record as { storeMoved?: MoveMarker } | undefined)?.storeMoved;
  return marker && (marker.phase === 'moving' || marker.phase === 'moved') ? marker : undefined;
}

/**
 * Writes `marker` by compare-and-set (a record under the reserved key, so it works on every store
 * and reaches other processes through the store's own change notification).
 */
export async function writeMoveMarker(store: CredentialStore, marker: MoveMarker): Promise<void> {
  for (;;) {
    const current = await store.get(MOVE_MARKER_KEY);
    const record = {
      schemaVersion: 1,
      recordId: current?.recordId ?? randomUUID(),
      generation: current ? current.generation + 1 : 0,
      server: MOVE_MARKER_KEY.server,
      account: MOVE_MARKER_KEY.account,
      binding: { serverUrl: marker.to },
      state: 'needs_reauth',
      reauthReason: `the credentials of this store moved to ${marker.to}`,
      updatedAt: marker.at,
      storeMoved: marker,
    } as CredentialRecord;
    const result = await store.put(MOVE_MARKER_KEY, record, current ? versionOf(current) : null);
    if (result.ok) return;
  }
}

/** Removes the marker (the store is live again: the destination of a migration). */
export async function clearMoveMarker(store: CredentialStore): Promise<void> {
  await store.delete(MOVE_MARKER_KEY);
}
