import {
  type AuthorizationServerMetadata,
  discoverAuthorizationServerMetadata,
  type FetchLike,
  requestJwtAuthorizationGrant,
} from '@modelcontextprotocol/client';
import type { IdentityProviderConfig } from '../config/oauth-config.js';
import { registerSecret } from '../logger.js';
import { limitResponseSize } from './bounded-fetch.js';
import { RefreshFailure } from './refresh-failure.js';
import { withTimeout } from './timeout-fetch.js';

/** RFC 8693 / SEP-990: the token type of an Identity Assertion JWT Authorization Grant. */
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';

/** The IdP refused the identity assertion (expired, revoked): only a new IdP login helps. */
export class AssertionRejectedError extends Error {
  constructor(
    readonly oauthCode: string,
    options?: { cause?: unknown },
  ) {
    super(`the identity provider refused the identity assertion (${oauthCode})`, options);
    this.name = 'AssertionRejectedError';
  }
}

/**
 * The identity provider's metadata (RFC 8414, then OpenID discovery), with its `issuer` checked
 * against the configured one: an assertion is never sent to a token endpoint of another issuer.
 */
export async function discoverIdentityProvider(
  idp: IdentityProviderConfig,
  fetchFn: FetchLike,
  timeoutMs: number,
): Promise<AuthorizationServerMetadata> {
  let metadata: AuthorizationServerMetadata | undefined;
  const boundedFetch = limitResponseSize(withTimeout(fetchFn, timeoutMs));
  try {
    metadata = await discoverAuthorizationServerMetadata(idp.issuer, { fetchFn: boundedFetch });
  } catch (error) {
    // The SDK also refuses OpenID metadata without the fields a browser login needs (response and
    // subject types, signing algorithms); the exchange needs only issuer and token_endpoint.
    metadata = await exchangeMetadata(idp.issuer, boundedFetch).catch(() => undefined);
    if (!metadata)
      throw new RefreshFailure('transient', undefined, `the identity provider ${idp.name} did not answer`, {
        cause: error,
      });
  }
  if (!metadata?.token_endpoint)
    throw new RefreshFailure(
      'transient',
      undefined,
      `the identity provider ${idp.name} published no metadata`,
    );
  if (metadata.issuer !== idp.issuer)
    throw new RefreshFailure(
      'terminal',
      undefined,
      `the identity provider ${idp.name} names issuer ${metadata.issuer}, not ${idp.issuer}`,
    );
  return metadata;
}

/**
 * The `issuer` and `token_endpoint` of an IdP's metadata (RFC 8414 §3, then OpenID discovery),
 * whatever else it lacks: all a token exchange uses. Undefined when neither document has them.
 */
async function exchangeMetadata(
  issuer: string,
  fetchFn: FetchLike,
): Promise<AuthorizationServerMetadata | undefined> {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  for (const wellKnown of [
    new URL(`/.well-known/oauth-authorization-server${path}`, url.origin),
    new URL(`${path}/.well-known/openid-configuration`, url.origin),
  ]) {
    const response = await fetchFn(wellKnown, { headers: { accept: 'application/json' } });
    if (!response.ok) {
      await response.body?.cancel();
      continue;
    }
    const document = (await response.json()) as { issuer?: unknown; token_endpoint?: unknown };
    if (typeof document.issuer === 'string' && typeof document.token_endpoint === 'string')
      // Only these two are read from it (discoverIdentityProvider, exchangeForIdJag).
      return document as AuthorizationServerMetadata;
  }
  return undefined;
}

/**
 * Exchanges the company IdP's identity assertion (an ID token) for an ID-JAG addressed to one MCP
 * authorization server (`audience`, its issuer) and one MCP server (`resource`), through the SDK's
 * `requestJwtAuthorizationGrant` (RFC 8693: `subject_token_type` id_token, `requested_token_type`
 * id-jag). An `invalid_grant` means the assertion itself is dead: AssertionRejectedError. Any
 * other failure is a RefreshFailure (terminal for a refused client, else transient).
 *
 * @see [RFC 8693 §2.1. Request](https://www.rfc-editor.org/rfc/rfc8693.html#section-2.1)
 * @see [SEP-990 Enterprise-Managed Authorization](https://github.com/modelcontextprotocol/modelcontextprotocol/pull/990)
 */
export async function exchangeForIdJag(input: {
  idp: IdentityProviderConfig;
  metadata: AuthorizationServerMetadata;
  idToken: string;
  audience: string;
  resource: string;
  scope: string | undefined;
  fetchFn: FetchLike;
  timeoutMs: number;
}): Promise<string> {
  try {
    const result = await requestJwtAuthorizationGrant({
      tokenEndpoint: input.metadata.token_endpoint,
      audience: input.audience,
      resource: input.resource,
      idToken: input.idToken,
      clientId: input.idp.clientId,
      ...(input.idp.clientSecret ? { clientSecret: input.idp.clientSecret } : {}),
      ...(input.scope ? { scope: input.scope } : {}),
      fetchFn: limitResponseSize(withTimeout(input.fetchFn, input.timeoutMs)),
    });
    registerSecret(result.jwtAuthGrant);
    return result.jwtAuthGrant;
  } catch (error) {
    // The SDK reports an OAuth error as text: "Token exchange failed: <code> - <description>".
    const code = /Token exchange failed: ([a-z_]+)/.exec((error as Error)?.message ?? '')?.[1];
    if (code === 'invalid_grant') throw new AssertionRejectedError(code, { cause: error });
    if (code === 'invalid_client' || code === 'unauthorized_client')
      throw new RefreshFailure('terminal', code, `the identity provider ${input.idp.name} answered ${code}`, {
        cause: error,
      });
    throw new RefreshFailure(
      'transient',
      code,
      code ? `the identity provider answered ${code}` : 'the identity provider did not answer',
      { cause: error },
    );
  }
}
