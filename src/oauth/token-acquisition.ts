import {
  type AddClientAuthentication,
  type AuthorizationServerMetadata,
  type FetchLike,
  fetchToken,
  type OAuthClientProvider,
  OAuthError,
} from '@modelcontextprotocol/client';
import type { TokenEndpointAuthMethod } from '../config/oauth-config.js';
import type { StoredDiscovery, StoredTokens } from '../store/credential-record.js';
import { limitResponseSize } from './bounded-fetch.js';
import { loadSigningKey, privateKeyJwtAuthentication } from './private-key-jwt.js';
import { RefreshFailure } from './refresh-failure.js';
import { withTimeout } from './timeout-fetch.js';
import { capturingTokenFetch, classifyRefreshError, tokensFromResponse } from './token-refresh.js';

/** What one mint works with: the MCP server's authorization server, resource and scope. */
export interface MintInput {
  discovery: StoredDiscovery;
  /** RFC 8707 `resource`: the MCP server. */
  resource: string | undefined;
  scope: string | undefined;
  fetchFn: FetchLike;
  timeoutMs: number;
  now: () => number;
}

/**
 * How a server without a person obtains an access token: one implementation per grant
 * (client-credentials-grant.ts, jwt-bearer-grant.ts, id-jag-exchange.ts). The refresh transaction
 * calls `mint` where an authorization-code server would refresh, under the same single flight,
 * lock, re-read and compare-and-set. Failures are RefreshFailures (terminal: the client or the
 * assertion was rejected; transient: keep everything and retry later), or a typed error that names
 * what to fix (a ConfigError for a key file, a NeedsReauthError for an IdP login).
 */
export interface TokenAcquisition {
  /** The client id the tokens are issued to (the record's binding), when there is one. */
  readonly clientId: string | undefined;
  mint(input: MintInput): Promise<StoredTokens>;
}

/** How the client proves itself at the token endpoint. */
export interface ClientAuthentication {
  /** Undefined for a workload that presents only its assertion (RFC 7523 §2.1 needs no client). */
  clientId: string | undefined;
  method: TokenEndpointAuthMethod | undefined;
  clientSecret: string | undefined;
  privateKeyFile: string | undefined;
  keyId: string | undefined;
}

/**
 * One token request of any grant (`params` carries `grant_type` and its parameters) through the
 * SDK's `fetchToken`, with the client authentication configured (the SDK's basic, post or none,
 * or a `private_key_jwt` assertion signed here), `resource`, `scope`, its own timeout and the
 * response size bound. The response is judged from its raw JSON by `tokensFromResponse`.
 *
 * @see [RFC 6749 §4.4. Client Credentials Grant](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.4)
 * @see [RFC 7523 §2.1. Using JWTs as Authorization Grants](https://www.rfc-editor.org/rfc/rfc7523.html#section-2.1)
 */
export async function requestMintedToken(
  input: MintInput,
  client: ClientAuthentication,
  params: URLSearchParams,
): Promise<StoredTokens> {
  let addClientAuthentication: AddClientAuthentication | undefined;
  if (
    client.clientId &&
    (client.method === 'private_key_jwt' || (client.method === undefined && client.privateKeyFile))
  ) {
    // Read at every mint: a rotated key is used at once, and a broken one is named now.
    const key = await loadSigningKey(client.privateKeyFile!, client.keyId);
    addClientAuthentication = privateKeyJwtAuthentication({ clientId: client.clientId, key, now: input.now });
  }
  const information = client.clientId && {
    client_id: client.clientId,
    ...(client.clientSecret !== undefined ? { client_secret: client.clientSecret } : {}),
    ...(client.method && client.method !== 'private_key_jwt'
      ? { token_endpoint_auth_method: client.method }
      : {}),
  };
  const provider: OAuthClientProvider = {
    get redirectUrl() {
      return undefined;
    },
    get clientMetadata() {
      return { redirect_uris: [], ...(input.scope ? { scope: input.scope } : {}) };
    },
    clientInformation: () => information || undefined,
    tokens: () => undefined,
    saveTokens: () => {},
    redirectToAuthorization: () => {},
    saveCodeVerifier: () => {},
    codeVerifier: () => '',
    prepareTokenRequest: (scope?: string) => {
      const body = new URLSearchParams(params);
      if (scope) body.set('scope', scope);
      return body;
    },
    ...(addClientAuthentication ? { addClientAuthentication } : {}),
  };
  const captured = capturingTokenFetch(limitResponseSize(withTimeout(input.fetchFn, input.timeoutMs)));
  let sdkError: unknown;
  try {
    await fetchToken(provider, input.discovery.authorizationServerUrl, {
      metadata: input.discovery.authorizationServerMetadata as AuthorizationServerMetadata | undefined,
      ...(input.resource ? { resource: input.resource } : {}),
      ...(input.scope ? { scope: input.scope } : {}),
      fetchFn: captured.fetchFn,
    });
  } catch (error) {
    sdkError = error;
  }
  const body = captured.successBody();
  if (sdkError !== undefined && (body === undefined || OAuthError.isInstance(sdkError)))
    throw classifyRefreshError(sdkError);
  try {
    // A minted grant has no refresh token to carry over; the requested scope stands in for an omitted one.
    return tokensFromResponse(body, input.now(), undefined, input.scope);
  } catch (error) {
    throw classifyRefreshError(error);
  }
}

/** Whether a failure means the authorization server refused the client itself (its id, secret or key). */
export function isClientRejection(error: unknown): error is RefreshFailure {
  return (
    error instanceof RefreshFailure &&
    (error.oauthCode === 'invalid_client' || error.oauthCode === 'unauthorized_client')
  );
}
