import {
  type AuthorizationServerMetadata,
  type FetchLike,
  registerClient,
} from '@modelcontextprotocol/client';
import type { OAuthConfig } from '../config/oauth-config.js';
import { LoginError } from '../errors.js';
import type { StoredClient } from '../store/credential-record.js';

/**
 * The `grant_type` of the device authorization grant.
 *
 * @see [RFC 8628 §3.4. Device Access Token Request](https://www.rfc-editor.org/rfc/rfc8628.html#section-3.4)
 */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The `client_name` registered when `oauth.client_name` is not configured. */
export const DEFAULT_CLIENT_NAME = 'mcp-oauth-manager';

/** The client identity a login uses, as chosen by `chooseClient`. */
export interface ClientChoice {
  client: StoredClient;
  /** True when the client was registered just now (so a rejection is not worth a second registration). */
  fresh: boolean;
}

/**
 * Chooses the client identity in the order of the MCP authorization spec: a configured
 * (pre-registered) client; else a Client ID Metadata Document URL when the authorization server
 * advertises `client_id_metadata_document_supported`; else the stored dynamically registered
 * client (the caller passes only one of this issuer), unless it was rejected or cannot use this
 * grant or redirect URI; else a new Dynamic Client Registration. A configured confidential
 * client authenticates at the token endpoint as the SDK picks from the metadata (code flow,
 * refresh) or with `client_secret_post` (device flow, revocation).
 *
 * @see [MCP Authorization (2025-11-25): Client Registration Approaches](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-registration-approaches)
 * @see [OAuth Client ID Metadata Document](https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/)
 * @see [RFC 7591 §3.1. Client Registration Request](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.1)
 */
export async function chooseClient(input: {
  server: string;
  config: OAuthConfig;
  authorizationServerUrl: string;
  metadata: AuthorizationServerMetadata | undefined;
  stored: StoredClient | undefined;
  grant: 'authorization_code' | 'device_code';
  redirectUri: string | undefined;
  scope: string | undefined;
  fetchFn: FetchLike;
}): Promise<ClientChoice> {
  const redirect = input.redirectUri ? { redirect_uris: [input.redirectUri] } : {};
  if (input.config.clientId) {
    return {
      client: {
        kind: 'preregistered',
        information: {
          client_id: input.config.clientId,
          ...(input.config.clientSecret ? { client_secret: input.config.clientSecret } : {}),
          ...redirect,
        },
        ...(input.redirectUri ? { redirectUri: input.redirectUri } : {}),
      },
      fresh: false,
    };
  }
  const cimdSupported = (input.metadata as { client_id_metadata_document_supported?: boolean } | undefined)
    ?.client_id_metadata_document_supported;
  if (input.config.clientMetadataUrl && cimdSupported === true) {
    return {
      client: {
        kind: 'cimd',
        information: { client_id: input.config.clientMetadataUrl, ...redirect },
        ...(input.redirectUri ? { redirectUri: input.redirectUri } : {}),
      },
      fresh: false,
    };
  }
  if (reusable(input.stored, input.grant, input.redirectUri)) return { client: input.stored!, fresh: false };
  return { client: await register(input), fresh: true };
}

function reusable(
  stored: StoredClient | undefined,
  grant: 'authorization_code' | 'device_code',
  redirectUri?: string,
): boolean {
  if (stored?.kind !== 'dcr' || stored.rejectedAt !== undefined) return false;
  const grants = (stored.information.grant_types as string[] | undefined) ?? ['authorization_code'];
  if (grant === 'device_code') return grants.includes(DEVICE_CODE_GRANT);
  return grants.includes('authorization_code') && stored.redirectUri === redirectUri;
}

/**
 * Registers a public native client (`token_endpoint_auth_method: none`, `application_type:
 * native`) for one grant plus `refresh_token`, with no `scope`, so that a later step-up can ask
 * for more. A LoginError, naming the way to configure a client, when the metadata lists no
 * `registration_endpoint`.
 *
 * @see [RFC 7591 §3.1. Client Registration Request](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.1)
 * @see [RFC 8252 §8.4. Registration of Native App Clients](https://www.rfc-editor.org/rfc/rfc8252.html#section-8.4)
 */
export async function register(input: {
  server: string;
  config: OAuthConfig;
  authorizationServerUrl: string;
  metadata: AuthorizationServerMetadata | undefined;
  grant: 'authorization_code' | 'device_code';
  redirectUri: string | undefined;
  scope: string | undefined;
  fetchFn: FetchLike;
}): Promise<StoredClient> {
  if (input.metadata && !input.metadata.registration_endpoint) {
    throw new LoginError(
      input.server,
      'the authorization server offers no dynamic client registration; configure a client: mcp-oauth servers add NAME URL --client-id ID',
    );
  }
  const code = input.grant === 'authorization_code';
  const information = await registerClient(input.authorizationServerUrl, {
    metadata: input.metadata,
    clientMetadata: {
      client_name: input.config.clientName ?? DEFAULT_CLIENT_NAME,
      redirect_uris: code && input.redirectUri ? [input.redirectUri] : [],
      grant_types: code ? ['authorization_code', 'refresh_token'] : [DEVICE_CODE_GRANT, 'refresh_token'],
      response_types: code ? ['code'] : [],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      // No `scope`: a registration limited to today's scope could never step up to more.
    },
    fetchFn: input.fetchFn,
  });
  return {
    kind: 'dcr',
    information: { ...information },
    ...(code && input.redirectUri ? { redirectUri: input.redirectUri } : {}),
  };
}
