import {
  checkResourceAllowed,
  discoverOAuthProtectedResourceMetadata,
  discoverOAuthServerInfo,
  type FetchLike,
  IssuerMismatchError,
  type OAuthProtectedResourceMetadata,
  resourceUrlFromServerUrl,
} from '@modelcontextprotocol/client';
import { isSecureOrLoopback } from '../loopback.js';
import type { StoredDiscovery } from '../store/credential-record.js';

/**
 * Discovers the authorization server of an MCP server: its protected-resource metadata
 * (path-aware, then root; or the `resource_metadata` URL of a challenge), then the OAuth or
 * OpenID Connect metadata of the first authorization server it names, with the SDK's 2025-03-26
 * fallback to the server's origin. Thin over the SDK's `discoverOAuthServerInfo`, which checks
 * that the metadata echoes the issuer; that check is waived only in the origin fallback, where
 * no issuer was announced to check against.
 *
 * @see [RFC 9728 §3. Obtaining Protected Resource Metadata](https://www.rfc-editor.org/rfc/rfc9728.html#section-3)
 * @see [RFC 8414 §3. Obtaining Authorization Server Metadata](https://www.rfc-editor.org/rfc/rfc8414.html#section-3)
 * @see [RFC 8414 §3.3. Authorization Server Metadata Validation](https://www.rfc-editor.org/rfc/rfc8414.html#section-3.3)
 * @see [OpenID Connect Discovery 1.0 §4. Obtaining OpenID Provider Configuration Information](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig)
 * @see [MCP Authorization (2025-11-25): Authorization Server Discovery](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-discovery)
 */
export async function discover(
  serverUrl: string,
  options: { fetchFn: FetchLike; resourceMetadataUrl?: URL },
): Promise<StoredDiscovery> {
  const opts = {
    fetchFn: options.fetchFn,
    ...(options.resourceMetadataUrl ? { resourceMetadataUrl: options.resourceMetadataUrl } : {}),
  };
  let info: Awaited<ReturnType<typeof discoverOAuthServerInfo>>;
  try {
    info = await discoverOAuthServerInfo(serverUrl, opts);
  } catch (error) {
    // RFC 8414 §3.3 compares the metadata's issuer with the issuer the client was told about.
    // Without protected-resource metadata (the 2025-03-26 fallback to the server's origin) no
    // issuer was ever announced, only guessed: there the check has nothing to hold it to.
    if (!IssuerMismatchError.isInstance(error)) throw error;
    const prm = await discoverOAuthProtectedResourceMetadata(serverUrl, opts, options.fetchFn).catch(
      () => undefined,
    );
    if (prm) throw error;
    info = await discoverOAuthServerInfo(serverUrl, { ...opts, skipIssuerMetadataValidation: true });
  }
  return {
    authorizationServerUrl: info.authorizationServerUrl,
    ...(options.resourceMetadataUrl ? { resourceMetadataUrl: options.resourceMetadataUrl.href } : {}),
    ...(info.resourceMetadata ? { resourceMetadata: { ...info.resourceMetadata } } : {}),
    ...(info.authorizationServerMetadata
      ? { authorizationServerMetadata: { ...info.authorizationServerMetadata } }
      : {}),
  };
}

/**
 * The issuer a credential is bound to: the metadata's `issuer`, else the discovered server URL.
 * A refresh compares it with the stored binding, so tokens never go to another issuer.
 */
export function issuerOf(discovery: StoredDiscovery): string {
  const issuer = discovery.authorizationServerMetadata?.issuer;
  return typeof issuer === 'string' ? issuer : discovery.authorizationServerUrl;
}

/**
 * Checks that the protected-resource metadata describes the server it was fetched for: returns
 * the problem when its `resource` does not cover `serverUrl` (same origin, path within; the
 * SDK's `checkResourceAllowed`), else undefined. A token for another resource must never be
 * requested, let alone sent.
 *
 * @see [RFC 9728 §3.3. Protected Resource Metadata Validation](https://www.rfc-editor.org/rfc/rfc9728.html#section-3.3)
 */
export function resourceMismatch(serverUrl: string, discovery: StoredDiscovery): string | undefined {
  const prm = discovery.resourceMetadata as OAuthProtectedResourceMetadata | undefined;
  if (!prm || typeof prm.resource !== 'string') return undefined;
  let allowed = false;
  try {
    allowed = checkResourceAllowed({ requestedResource: serverUrl, configuredResource: prm.resource });
  } catch {
    allowed = false;
  }
  return allowed ? undefined : `its protected-resource metadata names another resource (${prm.resource})`;
}

/**
 * The resource indicator to request tokens for: the protected-resource metadata's `resource`
 * when present (callers first refuse one that does not cover the server, see
 * `resourceMismatch`), else the server URL without its fragment.
 *
 * @see [RFC 8707 §2. Resource Parameter](https://www.rfc-editor.org/rfc/rfc8707.html#section-2)
 * @see [MCP Authorization (2025-11-25): Resource Parameter Implementation](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#resource-parameter-implementation)
 */
export function resourceOf(serverUrl: string, discovery: StoredDiscovery | undefined): string {
  const prm = discovery?.resourceMetadata as OAuthProtectedResourceMetadata | undefined;
  if (prm && typeof prm.resource === 'string') return prm.resource;
  return resourceUrlFromServerUrl(serverUrl).href;
}

const ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'device_authorization_endpoint',
  'revocation_endpoint',
] as const;

/**
 * Returns the first authorization server endpoint that is not https (loopback hosts excepted,
 * for local servers and tests), so a login stops before a code, a secret or a person is sent
 * to it; undefined when all are.
 *
 * @see [OAuth 2.1 §1.5. Communication Security](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-1.5)
 * @see [MCP Authorization (2025-11-25): Communication Security](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#communication-security)
 */
export function insecureEndpoint(discovery: StoredDiscovery): string | undefined {
  const metadata = discovery.authorizationServerMetadata ?? {};
  for (const name of ENDPOINTS) {
    const value = metadata[name];
    if (typeof value !== 'string') continue;
    let secure = false;
    try {
      secure = isSecureOrLoopback(value);
    } catch {
      secure = false;
    }
    if (!secure) return `${name} ${value}`;
  }
  return undefined;
}
