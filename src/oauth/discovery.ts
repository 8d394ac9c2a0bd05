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
 * Discovery per the MCP authorization spec: RFC 9728 protected-resource metadata (path-aware,
 * then root; or the `resource_metadata` URL of a challenge), then RFC 8414 / OpenID Connect
 * metadata of the first authorization server, with the SDK's 2025-03-26 fallback to the server
 * origin. Thin over the SDK's `discoverOAuthServerInfo`, which also checks the RFC 8414 §3.3
 * issuer echo.
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

/** The issuer a credential is bound to: the metadata's `issuer`, else the discovered server URL. */
export function issuerOf(discovery: StoredDiscovery): string {
  const issuer = discovery.authorizationServerMetadata?.issuer;
  return typeof issuer === 'string' ? issuer : discovery.authorizationServerUrl;
}

/**
 * RFC 9728 §3.3: the protected-resource metadata must describe the server it was fetched for.
 * Returns the problem when its `resource` does not cover `serverUrl` (a token for another
 * resource must never be requested, let alone sent), else undefined.
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
 * The RFC 8707 resource indicator for a server: the protected-resource metadata's `resource`
 * when present (the SDK refuses one that does not cover the server URL), else the server URL
 * without its fragment.
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
 * OAuth 2.1 §1.5 and the MCP authorization spec: every authorization server endpoint must be
 * https, except on loopback (127.0.0.0/8, ::1, localhost). Returns the first offending endpoint,
 * so a login stops before a code, a secret or a person is sent to it.
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
