import {
  type AuthorizationServerMetadata,
  type FetchLike,
  type OAuthClientInformationMixed,
  OAuthError,
  refreshAuthorization,
} from '@modelcontextprotocol/client';
import { registerSecret } from '../logger.js';
import type { StoredClient, StoredDiscovery, StoredTokens } from '../store/credential-record.js';
import { limitResponseSize, MAX_OAUTH_RESPONSE_BYTES, ResponseTooLargeError } from './bounded-fetch.js';
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
  if (error instanceof TokenResponseError) {
    return new RefreshFailure('transient', undefined, error.message, {
      cause: error,
      rotatedRefreshToken: error.rotatedRefreshToken,
    });
  }
  if (error instanceof ResponseTooLargeError)
    return new RefreshFailure('transient', undefined, error.message, { cause: error });
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

/** The shortest lifetime kept from `expires_in`, in seconds: a token is used for at least this long. */
export const MIN_EXPIRES_IN_SECONDS = 1;
/** The longest lifetime kept from `expires_in`, in seconds (one year): anything longer is clamped. */
export const MAX_EXPIRES_IN_SECONDS = 365 * 24 * 60 * 60;

/**
 * A token endpoint answered 200 with a response this client refuses (no access token, no or an
 * unsupported `token_type`, a DPoP-bound token). `rotatedRefreshToken` is the refresh token the
 * response carried, if any: the server has already rotated the grant, so the caller must keep
 * it even though it refuses the rest. It is not enumerable, so it never reaches a log line,
 * `JSON.stringify` or `util.inspect` of the error.
 */
export class TokenResponseError extends Error {
  declare readonly rotatedRefreshToken: string | undefined;
  constructor(detail: string, rotatedRefreshToken: string | undefined) {
    super(detail);
    this.name = 'TokenResponseError';
    Object.defineProperty(this, 'rotatedRefreshToken', { value: rotatedRefreshToken, enumerable: false });
  }
}

/**
 * Refreshes an access token with a refresh token grant and the `resource` parameter, through
 * the SDK's `refreshAuthorization`, bounded by its own timeout (see `withTimeout`) and by
 * {@link MAX_OAUTH_RESPONSE_BYTES}. The response is validated from its raw JSON by
 * `tokensFromResponse` (the SDK coerces `expires_in: null` to 0 and rejects a missing
 * `token_type` as a parse error, losing a rotated refresh token either way). The result keeps the
 * previous refresh token and scope when the response omits them (the server may keep the refresh
 * token unrotated). Throws a RefreshFailure; one caused by a refused response carries the
 * rotated refresh token (`rotatedRefreshToken`) for the caller to persist.
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
  // A record read from disk by this process: its refresh token was never registered.
  registerSecret(input.previous.refreshToken);
  const captured = capturingTokenFetch(limitResponseSize(withTimeout(input.fetchFn, input.timeoutMs)));
  let sdkError: unknown;
  try {
    await refreshAuthorization(input.discovery.authorizationServerUrl, {
      metadata: input.discovery.authorizationServerMetadata as AuthorizationServerMetadata | undefined,
      clientInformation: input.client.information as OAuthClientInformationMixed,
      refreshToken: input.previous.refreshToken,
      // The string as stored, never re-serialised (a bare origin would gain a `/`).
      ...(input.resource ? { resource: input.resource } : {}),
      fetchFn: captured.fetchFn,
    });
  } catch (error) {
    sdkError = error;
  }
  // A 2xx body the SDK refused (or accepted): judge it ourselves, keeping a rotated refresh token.
  const body = captured.successBody();
  if (sdkError !== undefined && (body === undefined || OAuthError.isInstance(sdkError)))
    throw classifyRefreshError(sdkError);
  try {
    return tokensFromResponse(body, input.now(), input.previous);
  } catch (error) {
    throw classifyRefreshError(error);
  }
}

/**
 * A fetch that remembers the parsed JSON body of the last successful (2xx) response, so the
 * caller can validate what the token endpoint really sent, whatever the SDK made of it.
 */
export function capturingTokenFetch(fetchFn: FetchLike): { fetchFn: FetchLike; successBody(): unknown } {
  let body: unknown;
  return {
    fetchFn: async (url, init) => {
      const response = await fetchFn(url, init);
      if (response.ok)
        body = await response
          .clone()
          .json()
          .catch(() => null);
      return response;
    },
    successBody: () => body,
  };
}

/**
 * Validates and normalises a token endpoint response, before anything else looks at it, into
 * the stored form:
 * - `access_token`: a non-empty string, else a TokenResponseError;
 * - `token_type`: compared case-insensitively and stored as `Bearer`; missing, `DPoP` (a
 *   DPoP-bound token sent as Bearer would fail) or any other type is a TokenResponseError;
 * - `expires_in`: rounded to whole seconds and clamped to {@link MIN_EXPIRES_IN_SECONDS} ..
 *   {@link MAX_EXPIRES_IN_SECONDS}, then made absolute (`expiresAt`, epoch ms); absent, null,
 *   zero, negative or not a number means unknown (`expiresAt: null`: the token is used until the
 *   server answers 401, which refreshes it), never "expired at once";
 * - the refresh token and scope carried forward from `previous` or the request when omitted.
 *
 * Every TokenResponseError carries the response's refresh token, if any, in
 * `rotatedRefreshToken`, so a refresh never loses a grant the server already rotated. The access
 * and refresh tokens are registered with the redactor (`registerSecret`) first, refused or not.
 *
 * @see [RFC 6749 §5.1. Successful Response](https://www.rfc-editor.org/rfc/rfc6749.html#section-5.1)
 * @see [RFC 6749 §7.1. Access Token Types](https://www.rfc-editor.org/rfc/rfc6749.html#section-7.1)
 * @see [RFC 9449 §5. DPoP Access Token Response](https://www.rfc-editor.org/rfc/rfc9449.html#section-5)
 */
export function tokensFromResponse(
  response: unknown,
  now: number,
  previous?: StoredTokens,
  requestedScope?: string,
): StoredTokens {
  const body = (typeof response === 'object' && response !== null ? response : {}) as Record<string, unknown>;
  const rotated =
    typeof body.refresh_token === 'string' && body.refresh_token.length > 0 ? body.refresh_token : undefined;
  // Registered before any refusal: a rotated refresh token is kept even when the rest is refused.
  registerSecret(rotated);
  if (typeof body.access_token === 'string') registerSecret(body.access_token);
  const refuse = (detail: string): never => {
    throw new TokenResponseError(`the authorization server's token response was refused: ${detail}`, rotated);
  };
  if (typeof body.access_token !== 'string' || body.access_token.length === 0)
    refuse('it has no access_token (RFC 6749 §5.1)');
  if (typeof body.token_type !== 'string' || body.token_type.length === 0)
    refuse('it has no token_type (RFC 6749 §5.1)');
  const tokenType = (body.token_type as string).toLowerCase();
  if (tokenType === 'dpop')
    refuse('it issued a DPoP-bound token (token_type DPoP); DPoP is not supported yet');
  if (tokenType !== 'bearer')
    refuse(`its token_type is not Bearer (${String(body.token_type).slice(0, 40)})`);
  const refreshToken = rotated ?? previous?.refreshToken;
  // RFC 6749 §5.1: a response without `scope` granted what was requested (on refresh: kept it).
  const scope =
    (typeof body.scope === 'string' ? body.scope : undefined) ?? previous?.scope ?? requestedScope;
  const obtainedAt = Math.floor(now);
  const lifetime = expiresInSeconds(body.expires_in);
  return {
    accessToken: body.access_token as string,
    tokenType: 'Bearer',
    ...(refreshToken ? { refreshToken } : {}),
    ...(scope ? { scope } : {}),
    expiresAt: lifetime === null ? null : obtainedAt + lifetime * 1000,
    obtainedAt,
  };
}

/** `expires_in` as whole seconds within the bounds, or null when it says nothing usable. */
function expiresInSeconds(value: unknown): number | null {
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return null;
  return Math.min(MAX_EXPIRES_IN_SECONDS, Math.max(MIN_EXPIRES_IN_SECONDS, Math.round(seconds)));
}
