import { randomUUID } from 'node:crypto';
import type { RevocationResult } from '../oauth/revocation.js';
import { type CredentialRecord, type StoredTokens, versionOf } from '../store/credential-record.js';
import type { CredentialStore } from '../store/credential-store.js';
import { underCredentialLock } from './credential-lock.js';
import type { ServerEntry } from './server-entry.js';
import type { ManagerSettings } from './settings.js';
import { storedRecord } from './stored-record.js';

/**
 * What a logout did, exactly, so a person knows whether a token may still be live at the server:
 * - `existed`: a record was stored (tokens, or only a client registration);
 * - `tokensDeleted`: it held tokens, and they are deleted here;
 * - `revocation`: what the authorization server said (`revoked`), or why it was not asked or did
 *   not revoke (`no_endpoint`, `unreachable`, `refused`; `not_needed` when there were no tokens);
 *   while it is not `revoked`, a deleted refresh token may still be live at the server until it
 *   expires;
 * - `revocationError`: the detail for a person (no secrets), or null.
 */
export interface LogoutOutcome {
  existed: boolean;
  tokensDeleted: boolean;
  revoked: boolean;
  revocation: 'revoked' | 'no_endpoint' | 'unreachable' | 'refused' | 'not_needed';
  revocationError: string | null;
  /** With `reset`: the whole record (client registration, discovery) was deleted. */
  recordDeleted: boolean;
}

/** The outcome, and the record the logout left in the store (undefined: none). */
export interface LogoutResult {
  outcome: LogoutOutcome;
  record: CredentialRecord | undefined;
}

/**
 * Logs out of `entry`'s server under the refresh lock: revokes the refresh token (or the access
 * token when there is none) where the authorization server offers revocation, best effort, then
 * deletes the tokens. `reset` deletes the whole record, client registration and discovery
 * included, so the next login registers again. Returns what it left in the store, for the
 * caller's cache.
 *
 * @see [RFC 7009 §2. Token Revocation](https://www.rfc-editor.org/rfc/rfc7009.html#section-2)
 */
export async function logOut(
  settings: ManagerSettings,
  store: CredentialStore,
  entry: ServerEntry,
  options: { reset?: boolean } = {},
): Promise<LogoutResult> {
  const body = async (): Promise<LogoutResult> => {
    const current = await storedRecord(store, entry.key);
    if (!current) return { outcome: NOTHING, record: undefined };
    const revocation = current.tokens ? await revoke(settings, current, current.tokens) : undefined;
    const outcome: LogoutOutcome = {
      existed: true,
      tokensDeleted: current.tokens !== undefined,
      revoked: revocation?.revoked === true,
      revocation:
        revocation === undefined ? 'not_needed' : revocation.revoked ? 'revoked' : revocation.reason,
      revocationError: revocation === undefined || revocation.revoked ? null : revocation.detail,
      recordDeleted: false,
    };
    if (options.reset) {
      const deleted = await store.delete(entry.key, versionOf(current));
      return { outcome: { ...outcome, recordDeleted: deleted }, record: undefined };
    }
    // Nothing to delete: the record (client registration, discovery) stays exactly as it is.
    if (!current.tokens) return { outcome, record: current };
    const { tokens: _dropped, reauthReason: _reason, ...rest } = current;
    const next: CredentialRecord = {
      ...rest,
      recordId: randomUUID(),
      generation: current.generation + 1,
      state: 'valid',
      updatedAt: settings.clock.now(),
    };
    const put = await store.put(entry.key, next, versionOf(current));
    return { outcome, record: put.ok ? next : put.current };
  };
  return underCredentialLock(store, entry.key, settings.lock, body);
}

/** A logout that found nothing stored. */
const NOTHING: LogoutOutcome = {
  existed: false,
  tokensDeleted: false,
  revoked: false,
  revocation: 'not_needed',
  revocationError: null,
  recordDeleted: false,
};

async function revoke(
  settings: ManagerSettings,
  record: CredentialRecord,
  tokens: StoredTokens,
): Promise<RevocationResult> {
  if (!record.client || !record.discovery)
    return {
      revoked: false,
      reason: 'no_endpoint',
      detail: 'no client registration or server metadata is stored to revoke with',
    };
  // Loaded on a logout only (oauth4webapi), not by every command that builds a manager.
  const { revokeToken } = await import('../oauth/revocation.js');
  return revokeToken({
    discovery: record.discovery,
    client: record.client,
    token: tokens.refreshToken ?? tokens.accessToken,
    tokenTypeHint: tokens.refreshToken ? 'refresh_token' : 'access_token',
    fetchFn: settings.fetchFn as typeof fetch,
    timeoutMs: settings.requestTimeoutMs,
  });
}
