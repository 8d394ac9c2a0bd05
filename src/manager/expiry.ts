import type { CredentialRecord, StoredTokens } from '../store/credential-record.js';

/** The states of a server's credential, in the API and in JSON. */
export type CredentialState = 'valid' | 'expiring' | 'expired' | 'needs_reauth' | 'logged_out' | 'error';

/**
 * The refresh skew: refresh this long before expiry. At most half the token's lifetime, so a
 * short-lived token is not refreshed on every call.
 */
export function skewFor(tokens: StoredTokens, skewMs: number): number {
  if (tokens.expiresAt === null) return 0;
  const lifetime = tokens.expiresAt - tokens.obtainedAt;
  return Math.max(0, Math.min(skewMs, Math.floor(lifetime / 2)));
}

/** 'fresh': use it; 'expiring': use it and refresh in the background; 'expired': refresh first. */
export function freshness(
  tokens: StoredTokens,
  now: number,
  skewMs: number,
): 'fresh' | 'expiring' | 'expired' {
  if (tokens.expiresAt === null) return 'fresh';
  if (now >= tokens.expiresAt) return 'expired';
  if (now >= tokens.expiresAt - skewFor(tokens, skewMs)) return 'expiring';
  return 'fresh';
}

export function stateOf(record: CredentialRecord | undefined, now: number, skewMs: number): CredentialState {
  if (!record?.tokens) return 'logged_out';
  if (record.state === 'needs_reauth') return 'needs_reauth';
  const f = freshness(record.tokens, now, skewMs);
  return f === 'fresh' ? 'valid' : f;
}
