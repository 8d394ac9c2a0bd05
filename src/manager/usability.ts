import type { CredentialRecord, StoredTokens } from '../store/credential-record.js';
import { type Freshness, freshness } from './expiry.js';

/**
 * Why a credential cannot be used or refreshed: each reason is written here once, so the hot
 * path, the refresh transaction, status and NeedsReauthError all say the same thing.
 */
export const REASONS = {
  notLoggedIn: 'not logged in',
  unreadable: 'the stored credential was unreadable',
  grantRejected: 'the grant was rejected',
  boundElsewhere: (serverUrl: string) => `the stored credential belongs to ${serverUrl}`,
  noRefreshToken: 'no refresh token was issued',
  noClient: 'no client registration is stored',
  serverRejected: 'the server rejected the credential',
  replacedDuringRefresh: 'the credential was replaced during the refresh',
  rejectedBy: (oauthCode: string | undefined) => `the authorization server answered ${oauthCode}`,
  otherIssuer: (issuer: string) => `the server now names another authorization server (${issuer})`,
} as const;

/**
 * The verdict on one stored credential for one server.
 * - `ok`: tokens bound to this server, not marked for a new login. `freshness` says whether the
 *   access token may be sent now; `refreshBlocker` is set when it could not be refreshed (no
 *   refresh token, no client), the reason a refresh would end in a new login.
 * - not `ok`: nothing to send; `cause` tells status which state that is, `reason` tells a person.
 */
export type CredentialCheck =
  | {
      ok: true;
      record: CredentialRecord;
      tokens: StoredTokens;
      freshness: Freshness;
      refreshBlocker: string | undefined;
    }
  | { ok: false; cause: 'none' | 'unreadable' | 'needs_reauth' | 'bound-elsewhere'; reason: string };

/** Why `record` holds nothing to send to `serverUrl`, or undefined when it holds a usable grant. */
export function unusable(
  record: CredentialRecord | undefined,
  at: { serverUrl: string; loadError?: Error | undefined },
): { cause: 'none' | 'unreadable' | 'needs_reauth' | 'bound-elsewhere'; reason: string } | undefined {
  if (!record?.tokens) {
    return at.loadError && !record
      ? { cause: 'unreadable', reason: REASONS.unreadable }
      : { cause: 'none', reason: REASONS.notLoggedIn };
  }
  if (record.state === 'needs_reauth') {
    return { cause: 'needs_reauth', reason: record.reauthReason ?? REASONS.grantRejected };
  }
  if (record.binding.serverUrl !== at.serverUrl) {
    return { cause: 'bound-elsewhere', reason: REASONS.boundElsewhere(record.binding.serverUrl) };
  }
  return undefined;
}

/** Whether `record` holds a grant for `serverUrl` (tokens, not marked for a new login), expired or not. */
export function holdsGrant(
  record: CredentialRecord | undefined,
  serverUrl: string,
): record is CredentialRecord & { tokens: StoredTokens } {
  return unusable(record, { serverUrl }) === undefined;
}

/**
 * Is this credential usable for `serverUrl` at `now`, and if not, why? The one place that checks
 * the binding, the state, the expiry (with the skew), the refresh token and the client.
 */
export function checkCredential(
  record: CredentialRecord | undefined,
  at: { serverUrl: string; now: number; skewMs: number; loadError?: Error | undefined },
): CredentialCheck {
  const problem = unusable(record, at);
  if (problem || !record?.tokens)
    return { ok: false, ...(problem ?? { cause: 'none', reason: REASONS.notLoggedIn }) };
  const refreshBlocker = !record.tokens.refreshToken
    ? REASONS.noRefreshToken
    : !record.client
      ? REASONS.noClient
      : undefined;
  return {
    ok: true,
    record,
    tokens: record.tokens,
    freshness: freshness(record.tokens, at.now, at.skewMs),
    refreshBlocker,
  };
}
