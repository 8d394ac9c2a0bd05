import {
  type AuthorizationServerMetadata,
  type FetchLike,
  type OAuthClientInformationMixed,
  OAuthError,
  type OAuthTokens,
  refreshAuthorization,
} from '@modelcontextprotocol/client';
import type { StoredClient, StoredDiscovery, StoredTokens } from '../store/credential-record.js';
import { RefreshFailure } from './refresh-failure.js';
import { withTimeout } from './timeout-fetch.js';

// RFC 6749 §5.2 codes that mean the grant or the client will not work again without a login.
const TERMINAL_CODES = new Set([
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'invalid_request',
  'unsupported_grant_type',
  'invalid_scope',
]);

/**
 * Classifies any error thrown by a token request: the error codes that mean the grant or the
 * client is dead are terminal; every other error, known or not, is transient, because keeping
 * the credential loses nothing.
 *
 * @see [RFC 6749 §5.2. Error Response](https://www.rfc-editor.org/rfc/rfc6749.html#section-5.2)
 */
export function classifyRefreshError(error: unknown): RefreshFailure {
  if (error instanceof RefreshFailure) return error;
  if (OAuthError.isInstance(error)) {
    const code = String(error.code);
    if (TERMINAL_CODES.has(code))
      return new RefreshFailure('terminal', code, `the authorization server answered ${code}`, {
        cause: error,
      });
    return new RefreshFailure('transient', code, `the authorization server answered ${code}`, {
      cause: error,
    });
  }
  const name = error instanceof Error ? error.name : typeof error;
  const detail = name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : 'network error';
  return new RefreshFailure('transient', undefined, detail, { cause: error });
}

/**
 * Refreshes an access token with a refresh token grant and the `resource` parameter, through
 * the SDK's `refreshAuthorization`, bounded by its own timeout (see `withTimeout`). The result
 * keeps the previous refresh token and scope when the response omits them (the server may keep
 * the refresh token unrotated) and turns `expires_in` into an absolute `expiresAt`. Throws a
 * RefreshFailure.
 *
 * @see [RFC 6749 §6. Refreshing an Access Token](https://www.rfc-editor.org/rfc/rfc6749.html#section-6)
 * @see [RFC 8707 §2. Resource Parameter](https://www.rfc-editor.org/rfc/rfc8707.html#section-2)
 */
export async function refreshTokens(input: {
  discovery: StoredDiscovery;
  client: StoredClient;
  previous: StoredTokens & { refreshToken: string };
  resource: string | undefined;
  fetchFn: FetchLike;
  timeoutMs: number;
  now: () => number;
}): Promise<StoredTokens> {
  let response: OAuthTokens;
  try {
    response = await refreshAuthorization(input.discovery.authorizationServerUrl, {
      metadata: input.discovery.authorizationServerMetadata as AuthorizationServerMetadata | undefined,
      clientInformation: input.client.information as OAuthClientInformationMixed,
      refreshToken: input.previous.refreshToken,
      ...(input.resource ? { resource: new URL(input.resource) } : {}),
      fetchFn: withTimeout(input.fetchFn, input.timeoutMs),
    });
  } catch (error) {
    throw classifyRefreshError(error);
  }
  return tokensFromResponse(response, input.now(), input.previous);
}

/**
 * Converts a token endpoint response into the stored form: absolute `expiresAt` (null without
 * `expires_in`), `Bearer` when no `token_type` is given, and the refresh token and scope carried
 * forward from `previous` or the request when the response omits them.
 *
 * @see [RFC 6749 §5.1. Successful Response](https://www.rfc-editor.org/rfc/rfc6749.html#section-5.1)
 */
export function tokensFromResponse(
  response: OAuthTokens,
  now: number,
  previous?: StoredTokens,
  requestedScope?: string,
): StoredTokens {
  const refreshToken = response.refresh_token ?? previous?.refreshToken;
  // RFC 6749 §5.1: a response without `scope` granted what was requested (on refresh: kept it).
  const scope = response.scope ?? previous?.scope ?? requestedScope;
  return {
    accessToken: response.access_token,
    tokenType: response.token_type ?? 'Bearer',
    ...(refreshToken ? { refreshToken } : {}),
    ...(scope ? { scope } : {}),
    expiresAt: typeof response.expires_in === 'number' ? now + response.expires_in * 1000 : null,
    obtainedAt: now,
  };
}
