import {
  type AuthorizationServerMetadata,
  type FetchLike,
  registerClient,
} from '@modelcontextprotocol/client';
import type { OAuthConfig } from '../config/oauth-config.js';
import { LoginError } from '../errors.js';
import type { StoredClient } from '../store/credential-record.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The `client_name` registered when `oauth.client_name` is not configured. */
export const DEFAULT_CLIENT_NAME = 'mcp-oauth-manager';

export interface ClientChoice {
  client: StoredClient;
  /** True when the client was registered just now (so a rejection is not worth a second registration). */
  fresh: boolean;
}

/**
 * Client identity in the order of the MCP authorization spec (2025-11-25): a configured
 * (pre-registered) client; else a Client ID Metadata Document URL when the authorization server
 * advertises `client_id_metadata_document_supported`; else the stored dynamically registered
 * client of this issuer, unless it was rejected or cannot use this grant or redirect; else
 * Dynamic Client Registration (RFC 7591 §3.1). The token endpoint authentication method of a
 * configured confidential client is chosen per request by the SDK from the server's metadata.
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

/** Dynamic Client Registration (RFC 7591) of a public native client. */
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
