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
  /**
   * How tokens are obtained (`oauth.grant`): `authorization_code` (default, a person logs in),
   * `client_credentials` (the client itself), `jwt_bearer` (an assertion: a workload token, or an
   * ID-JAG when `identityProvider` is set). See `grantKindOf`.
   */
  grant?: 'authorization_code' | 'client_credentials' | 'jwt_bearer';
  /** How the client authenticates at the token endpoint (`oauth.token_endpoint_auth_method`). */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** The private key (PEM PKCS#8 or JWK) signing `private_key_jwt` client assertions. */
  privateKeyFile?: string;
  /** The `kid` header of those assertions. */
  keyId?: string;
  /** The enterprise identity provider whose assertion is exchanged for an ID-JAG (`oauth.idp`, resolved from `idps:`). */
  identityProvider?: IdentityProviderConfig;
  /** A file holding the workload's JWT (re-read at every mint: platforms rotate it). */
  workloadTokenFile?: string;
  /** An environment variable holding the workload's JWT. */
  workloadTokenEnv?: string;
}

/** RFC 8414 / RFC 7591 client authentication methods at the token endpoint. */
export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'none';

/** One entry of `idps:`: the company's identity provider a server may trust (SEP-990). */
export interface IdentityProviderConfig {
  /** The key under `idps:`; its assertion is stored under the credential key `idp:<name>`. */
  name: string;
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scope?: string;
}

/** The deadline of a whole interactive login for a server configured with `config`, in ms. */
export function loginTimeoutMs(config: OAuthConfig): number {
  return (config.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS) * 1000;
}
