import { randomUUID } from 'node:crypto';
import { type CredentialRecord, versionOf } from '../store/credential-record.js';
import type { CredentialStore } from '../store/credential-store.js';
import { underCredentialLock } from './credential-lock.js';
import type { ServerEntry } from './server-entry.js';
import type { ManagerSettings } from './settings.js';
import { storedRecord } from './stored-record.js';

/** What a logout did: whether a credential was there, and whether the server revoked it. */
export interface LogoutOutcome {
  revoked: boolean;
  existed: boolean;
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
    if (!current) return { outcome: { revoked: false, existed: false }, record: undefined };
    const revoked = await revoke(settings, current);
    const outcome = { revoked, existed: true };
    if (options.reset) {
      await store.delete(entry.key, versionOf(current));
      return { outcome, record: undefined };
    }
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

async function revoke(settings: ManagerSettings, record: CredentialRecord): Promise<boolean> {
  if (!record.tokens || !record.client || !record.discovery) return false;
  // Loaded on a logout only (oauth4webapi), not by every command that builds a manager.
  const { revokeToken } = await import('../oauth/revocation.js');
  return revokeToken({
    discovery: record.discovery,
    client: record.client,
    token: record.tokens.refreshToken ?? record.tokens.accessToken,
    tokenTypeHint: record.tokens.refreshToken ? 'refresh_token' : 'access_token',
    fetchFn: settings.fetchFn as typeof fetch,
    timeoutMs: settings.requestTimeoutMs,
  });
}
