import {
  discoverOAuthProtectedResourceMetadata,
  discoverOAuthServerInfo,
  type FetchLike,
  IssuerMismatchError,
  type OAuthProtectedResourceMetadata,
  resourceUrlFromServerUrl,
} from '@modelcontextprotocol/client';
import { isSecureOrLoopback } from '../loopback.js';
import type { StoredDiscovery } from '../store/credential-record.js';
import { limitResponseSize, ResponseTooLargeError, urlOf } from './bounded-fetch.js';

/**
 * Discovers the authorization server of an MCP server: its protected-resource metadata
 * (path-aware, then root; or the `resource_metadata` URL of a challenge), then the OAuth or
 * OpenID Connect metadata of the first authorization server it names, with the SDK's 2025-03-26
 * fallback to the server's origin. Thin over the SDK's `discoverOAuthServerInfo`, which checks
 * that the metadata echoes the issuer; that check is waived only in the origin fallback, where
 * no issuer was announced to check against. Every response body is capped at
 * `MAX_OAUTH_RESPONSE_BYTES`, and only the metadata fields the code uses are kept
 * (`trimDiscovery`).
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
  // Every body read is capped; the URL the protected-resource metadata really came from is
  // recorded, because which parent `resource` it may name depends on it (see resourceMismatch).
  let resourceMetadataUrl: string | undefined;
  const bounded = limitResponseSize(options.fetchFn);
  // The SDK treats a failed protected-resource metadata fetch as "none" and falls back to the
  // origin: an oversized answer must end discovery with its own error instead.
  let tooLarge: ResponseTooLargeError | undefined;
  const fetchFn: FetchLike = async (url, init) => {
    const response = await bounded(url, init).catch((error: unknown) => {
      if (error instanceof ResponseTooLargeError) tooLarge ??= error;
      throw error;
    });
    const href = urlOf(url);
    const isPrm =
      href === options.resourceMetadataUrl?.href || new URL(href).pathname.startsWith(PRM_WELL_KNOWN_PATH);
    if (isPrm && response.ok) resourceMetadataUrl = href;
    return response;
  };
  const opts = {
    fetchFn,
    ...(options.resourceMetadataUrl ? { resourceMetadataUrl: options.resourceMetadataUrl } : {}),
  };
  let info: Awaited<ReturnType<typeof discoverOAuthServerInfo>>;
  try {
    info = await discoverOAuthServerInfo(serverUrl, opts);
  } catch (error) {
    if (tooLarge) throw tooLarge;
    // RFC 8414 §3.3 compares the metadata's issuer with the issuer the client was told about.
    // Without protected-resource metadata (the 2025-03-26 fallback to the server's origin) no
    // issuer was ever announced, only guessed: there the check has nothing to hold it to. Only a
    // server that answers "none" (404) is such a server; since 2025-06-18 (and in 2026-07-28)
    // every MCP server must publish the metadata, so a failed fetch keeps the check (fail closed).
    if (!IssuerMismatchError.isInstance(error)) throw error;
    const prm = await discoverOAuthProtectedResourceMetadata(serverUrl, opts, fetchFn).then(
      (found) => found,
      (failure: unknown) => {
        if (failure instanceof Error && NO_RESOURCE_METADATA.test(failure.message)) return undefined;
        throw error;
      },
    );
    if (prm) throw error;
    info = await discoverOAuthServerInfo(serverUrl, { ...opts, skipIssuerMetadataValidation: true });
  }
  if (tooLarge) throw tooLarge;
  return trimDiscovery({
    authorizationServerUrl: info.authorizationServerUrl,
    ...(info.resourceMetadata && resourceMetadataUrl ? { resourceMetadataUrl } : {}),
    ...(info.resourceMetadata ? { resourceMetadata: { ...info.resourceMetadata } } : {}),
    ...(info.authorizationServerMetadata
      ? { authorizationServerMetadata: { ...info.authorizationServerMetadata } }
      : {}),
  });
}

/** The SDK's error when the server answers 404 for its protected-resource metadata: "none". */
const NO_RESOURCE_METADATA = /does not implement OAuth 2\.0 Protected Resource Metadata/;

/** The path of the RFC 9728 well-known URI (the root document; path-aware ones extend it). */
const PRM_WELL_KNOWN_PATH = '/.well-known/oauth-protected-resource';

/**
 * The authorization-server metadata fields this code (and the MCP SDK and oauth4webapi under
 * it) reads; only these are stored in a credential record. Anything else a server sends is
 * dropped, so a server cannot bloat the record rewritten at every refresh.
 */
export const STORED_AUTHORIZATION_SERVER_FIELDS = [
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'device_authorization_endpoint',
  'revocation_endpoint',
  'response_types_supported',
  'code_challenge_methods_supported',
  'token_endpoint_auth_methods_supported',
  'scopes_supported',
  'authorization_response_iss_parameter_supported',
  'client_id_metadata_document_supported',
] as const;

/** The protected-resource metadata fields this code reads; only these are stored. */
export const STORED_RESOURCE_METADATA_FIELDS = [
  'resource',
  'authorization_servers',
  'scopes_supported',
] as const;

function pick(source: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (source[field] !== undefined) out[field] = source[field];
  return out;
}

/**
 * The discovery results as stored: only {@link STORED_AUTHORIZATION_SERVER_FIELDS} and
 * {@link STORED_RESOURCE_METADATA_FIELDS} of the two metadata documents. Applied at discovery
 * and again at every refresh, so a record written before this limit shrinks on its next write.
 */
export function trimDiscovery(discovery: StoredDiscovery): StoredDiscovery {
  const { resourceMetadata, authorizationServerMetadata, ...rest } = discovery;
  return {
    ...rest,
    ...(resourceMetadata
      ? { resourceMetadata: pick(resourceMetadata, STORED_RESOURCE_METADATA_FIELDS) }
      : {}),
    ...(authorizationServerMetadata
      ? { authorizationServerMetadata: pick(authorizationServerMetadata, STORED_AUTHORIZATION_SERVER_FIELDS) }
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
 * Checks that the protected-resource metadata identifies the MCP server it was fetched for, and
 * returns the problem when it does not (undefined when it does). Its `resource` becomes the
 * token's audience (RFC 8707 `resource`), so one broader than the server would hand this server
 * a token that other resources accept. Accepted, and nothing else:
 *
 * 1. **The server's canonical URI**: same scheme, host and port, the same path (a trailing `/`
 *    aside); the URL parser lower-cases scheme and host. This is what the MCP spec asks the
 *    resource to be, and what RFC 9728 §3.3 requires of metadata fetched from the path-aware
 *    well-known URI or from a 401 challenge's `resource_metadata` (identical to the URL the
 *    client requested).
 * 2. **The bare origin, only from the origin's root document**: `resource` is the origin (path
 *    `/`) and the document was fetched from `<origin>/.well-known/oauth-protected-resource`.
 *    RFC 9728 §3.3 makes exactly that document describe the origin, and only the origin's
 *    operator can publish it, not a tenant serving a path below it. Common deployments (the
 *    SDK's metadata router mounted at the root) serve their MCP endpoint at `/mcp` this way.
 *
 * Refused: a `resource` with a query or fragment (RFC 8707 §2 forbids the fragment; a query
 * such as `?tenant=victim` names another tenant's resource), another origin, any other parent
 * path (`/tenants/` for `/tenants/evil/mcp`), and the origin stated by any other document (a
 * path-aware or challenge-supplied one, which a tenant may control: RFC 9728 §7.3). The MCP
 * SDK's own `checkResourceAllowed` accepts any same-origin path prefix and ignores the query;
 * this is stricter on purpose. The query of the server URL itself is not compared (a resource
 * cannot carry one).
 *
 * @see [RFC 9728 §3.3. Protected Resource Metadata Validation](https://www.rfc-editor.org/rfc/rfc9728.html#section-3.3)
 * @see [RFC 9728 §7.3. Impersonation Attacks](https://www.rfc-editor.org/rfc/rfc9728.html#section-7.3)
 * @see [RFC 8707 §2. Resource Parameter](https://www.rfc-editor.org/rfc/rfc8707.html#section-2)
 * @see [MCP Authorization (2025-11-25): Canonical Server URI](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#canonical-server-uri)
 */
export function resourceMismatch(serverUrl: string, discovery: StoredDiscovery): string | undefined {
  const prm = discovery.resourceMetadata as OAuthProtectedResourceMetadata | undefined;
  if (!prm) return undefined;
  const stated = typeof prm.resource === 'string' ? prm.resource : '';
  const named = `its protected-resource metadata names the resource ${JSON.stringify(stated.slice(0, 200))}`;
  const resource = URL.parse(stated);
  if (!resource) return `${named}, which is not a URL`;
  if (resource.search || resource.hash || stated.includes('?') || stated.includes('#'))
    return `${named}, which has a query or fragment (RFC 9728 §3.3, RFC 8707 §2)`;
  const server = resourceUrlFromServerUrl(serverUrl);
  if (resource.origin !== server.origin) return `${named}, another origin than ${server.origin}`;
  const trim = (path: string) => (path.endsWith('/') ? path.slice(0, -1) : path);
  if (trim(resource.pathname) === trim(server.pathname)) return undefined;
  const rootDocument = new URL(PRM_WELL_KNOWN_PATH, server.origin).href;
  if (resource.pathname === '/' && discovery.resourceMetadataUrl === rootDocument) return undefined;
  return `${named}, which is broader than or other than the server ${server.origin}${server.pathname} (only the server's own URI, or the origin from ${rootDocument}, is accepted)`;
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
