import { type CredentialRecord, versionOf } from '../store/credential-record.js';
import type { CredentialStore } from '../store/credential-store.js';
import { underCredentialLock } from './credential-lock.js';
import type { ServerEntry } from './server-entry.js';
import type { ManagerSettings } from './settings.js';
import { storedRecord } from './stored-record.js';

/**
 * How long scopes the authorization server left out of a step-up grant are not asked for again:
 * a server demanding a scope that is never granted would otherwise open a browser login on every
 * call, in every process.
 */
export const SCOPE_REFUSAL_MS = 10 * 60 * 1000;

/** Scopes the authorization server did not grant at a step-up, and until when none is retried. */
export type ScopeRefusal = {
  scopes: string[];
  /** When the authorization server last left them out of a grant, epoch ms. */
  at: number;
  /** No step-up for them before this, epoch ms (`at` + {@link SCOPE_REFUSAL_MS}). */
  until: number;
};

/** A note holds at most this many scopes (they come from a server's 403; the record stays small). */
const MAX_NOTED_SCOPES = 64;

/** The record's refusal note while it is in force at `now`; undefined when none or expired. */
export function activeRefusal(record: CredentialRecord | undefined, now: number): ScopeRefusal | undefined {
  const note = record?.refusedScopes;
  if (!note || now >= note.until || note.scopes.length === 0) return undefined;
  return { scopes: [...note.scopes], at: note.at, until: note.until };
}

/** The scopes of a space-delimited grant (RFC 6749 §3.3). */
export function scopesOf(scope: string | undefined): string[] {
  return (scope ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The note a freshly logged-in record inherits from the one it replaces: the unexpired note minus
 * what the new grant includes; nothing when the login was started by a person (`mcp-oauth login`
 * by hand clears the note: the next call that needs the scopes may try one step-up again).
 */
export function inheritedRefusal(
  existing: CredentialRecord | undefined,
  grantedScope: string | undefined,
  now: number,
  byHand: boolean,
): ScopeRefusal | undefined {
  const note = activeRefusal(existing, now);
  if (!note || byHand) return undefined;
  const granted = new Set(scopesOf(grantedScope));
  const scopes = note.scopes.filter((s) => !granted.has(s));
  return scopes.length > 0 ? { ...note, scopes } : undefined;
}

/**
 * Records, under the credential lock and by compare-and-set, that the authorization server did
 * not grant `scopes` at a step-up: only those the stored grant still lacks, merged with an
 * unexpired note, in force for {@link SCOPE_REFUSAL_MS}. Returns the note now stored (undefined
 * when there is no record, or its grant includes them all), and the record it wrote, if any.
 */
export async function noteRefusal(
  settings: ManagerSettings,
  store: CredentialStore,
  entry: ServerEntry,
  scopes: string[],
): Promise<{ refusal: ScopeRefusal | undefined; written: CredentialRecord | undefined }> {
  const body = async () => {
    let current = await storedRecord(store, entry.key);
    // Under the lock nothing else writes; a second try covers a store without one.
    for (let attempt = 0; current && attempt < 2; attempt++) {
      const now = settings.clock.now();
      const granted = new Set(scopesOf(current.tokens?.scope));
      const refused = scopes.filter((s) => !granted.has(s));
      if (refused.length === 0) return { refusal: undefined, written: undefined };
      const earlier = activeRefusal(current, now)?.scopes ?? [];
      const merged = [...new Set([...refused, ...earlier.filter((s) => !granted.has(s))])];
      const refusal = { scopes: merged.slice(0, MAX_NOTED_SCOPES), at: now, until: now + SCOPE_REFUSAL_MS };
      const next: CredentialRecord = {
        ...current,
        refusedScopes: refusal,
        generation: current.generation + 1,
        updatedAt: now,
      };
      const put = await store.put(entry.key, next, versionOf(current));
      if (put.ok) return { refusal, written: next };
      current = put.current;
    }
    return { refusal: activeRefusal(current, settings.clock.now()), written: undefined };
  };
  return underCredentialLock(store, entry.key, settings.lock, body);
}
