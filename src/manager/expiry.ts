import type { StoredTokens } from '../store/credential-record.js';

/**
 * The states of a server's credential, in the API and in JSON. `no_auth`: the server was observed
 * to answer without authentication (no credential needed; see no-auth-observation.ts).
 */
export type CredentialState =
  | 'valid'
  | 'expiring'
  | 'expired'
  | 'needs_reauth'
  | 'logged_out'
  | 'error'
  | 'no_auth';

/** 'fresh': use it; 'expiring': use it and refresh in the background; 'expired': refresh first. */
export type Freshness = 'fresh' | 'expiring' | 'expired';

/**
 * The refresh skew: refresh this long before expiry. At most half the token's lifetime, so a
 * short-lived token is not refreshed on every call.
 */
export function skewFor(tokens: StoredTokens, skewMs: number): number {
  if (tokens.expiresAt === null) return 0;
  const lifetime = tokens.expiresAt - tokens.obtainedAt;
  return Math.max(0, Math.min(skewMs, Math.floor(lifetime / 2)));
}

/** Where `tokens` stand at `now`; a token without a known expiry is always fresh. */
export function freshness(tokens: StoredTokens, now: number, skewMs: number): Freshness {
  if (tokens.expiresAt === null) return 'fresh';
  if (now >= tokens.expiresAt) return 'expired';
  if (now >= tokens.expiresAt - skewFor(tokens, skewMs)) return 'expiring';
  return 'fresh';
}
