/** Default of `timeoutSeconds` (`oauth.timeout`): the time allowed for a whole interactive login. */
export const DEFAULT_LOGIN_TIMEOUT_SECONDS = 300;

/** Default of `refreshSkewSeconds` (`oauth.refresh_skew`). */
export const DEFAULT_REFRESH_SKEW_SECONDS = 60;

/**
 * Per-server OAuth settings: what `config.yaml` (`servers.<name>.oauth`) fills in, and what a
 * host may pass to `getOrBuildProvider`. Every key is optional.
 */
export interface OAuthConfig {
  /** A pre-registered client id (skips CIMD and DCR). */
  clientId?: string;
  /** The secret of a pre-registered confidential client (resolved from `client_secret_env` by the config layer). */
  clientSecret?: string;
  /**
   * The issuer identifier of the authorization server this server must use (`oauth.issuer`). A
   * login that discovers another issuer fails before anything is sent to it; a configured client
   * without it is bound to the issuer of its first login.
   */
  issuer?: string;
  /** A Client ID Metadata Document URL (https) used as client id where the server supports CIMD. */
  clientMetadataUrl?: string;
  /** Scope to request (space-delimited); else the challenge's, else the resource metadata's. */
  scope?: string;
  /** Loopback callback port; 0 or unset picks one (a DCR client then keeps its port). */
  redirectPort?: number;
  /** Client name for DCR. */
  clientName?: string;
  /** Seconds for a whole interactive login (default {@link DEFAULT_LOGIN_TIMEOUT_SECONDS}). */
  timeoutSeconds?: number;
  /**
   * Sent as `login_hint` in the authorization request (OpenID Connect Core §3.1.2.1), so the
   * authorization server preselects who logs in; `{account}` is replaced by the credential's
   * account (`default` for the default account), e.g. `{account}@example.com`.
   */
  loginHint?: string;
  /** Refresh this many seconds before expiry (default {@link DEFAULT_REFRESH_SKEW_SECONDS}, at most half the token's lifetime). */
  refreshSkewSeconds?: number;
}

/** The deadline of a whole interactive login for a server configured with `config`, in ms. */
export function loginTimeoutMs(config: OAuthConfig): number {
  return (config.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS) * 1000;
}
