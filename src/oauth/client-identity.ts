import {
  type AuthorizationServerMetadata,
  type FetchLike,
  registerClient,
} from '@modelcontextprotocol/client';
import type { OAuthConfig } from '../config/oauth-config.js';
import { LoginError } from '../errors.js';
import { registerSecret } from '../logger.js';
import { shellQuote } from '../shell-quote.js';
import type { CredentialRecord, StoredClient, StoredDiscovery } from '../store/credential-record.js';
import { displayText } from '../terminal-text.js';
import { issuerOf } from './discovery.js';

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
    registerSecret(input.config.clientSecret);
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
  registerSecret(information.client_secret);
  return {
    kind: 'dcr',
    information: { ...information },
    ...(code && input.redirectUri ? { redirectUri: input.redirectUri } : {}),
  };
}

/** Longest issuer shown in an error (it comes from a server). */
const MAX_ISSUER_SHOWN = 200;
const shown = (issuer: string) => displayText(issuer, MAX_ISSUER_SHOWN);

/**
 * Refuses a login whose discovered authorization server is not the one the client belongs to,
 * before anything is sent to it (no registration, no authorization request, no client id or
 * secret, no code). Client ids are unique to the authorization server that issued them (RFC 6749
 * §2.2), and the MCP authorization spec (2026-07-28 draft, SEP-2352) asks clients to key
 * pre-registered credentials by issuer and to surface an error rather than use them with another
 * one. The rules, in order:
 *
 * 1. **`oauth.issuer` configured**: the discovered issuer must be exactly it (RFC 8414 §3.3
 *    string comparison), whatever the client identity.
 * 2. **Not a configured client** (CIMD, DCR): nothing more. A DCR client is registered with
 *    whichever issuer it meets (a stored one is reused only with its own issuer), and a CIMD
 *    client id is a URL that any authorization server can resolve: neither carries a secret
 *    that belongs to one server.
 * 3. **A configured client (`oauth.client_id`) that has logged in before**: the stored record of
 *    that client id names the issuer of its first login (`binding.issuer`); the discovered
 *    issuer must be it. Moving on is a decision for the person: `oauth.issuer`, or
 *    `mcp-oauth logout NAME --reset`.
 * 4. **A configured client's first login**: the authorization server must be the one named by
 *    the metadata the MCP server publishes at its own origin. Protected-resource metadata that
 *    came from another origin (a 401 challenge's `resource_metadata` can point anywhere, and
 *    whoever can answer or rewrite a 401 chooses it: RFC 9728 §7.3, §7.6) is confirmed by
 *    discovering again at the server's own origin; the issuer must be the one found there, or
 *    listed in that document's `authorization_servers`. Without such a confirmation the login
 *    fails and names `oauth.issuer` as the way to trust that server.
 *
 * Every refusal is a LoginError naming the issuer found and the one expected.
 *
 * @see [RFC 6749 §2.2. Client Identifier](https://www.rfc-editor.org/rfc/rfc6749.html#section-2.2)
 * @see [RFC 8414 §3.3. Authorization Server Metadata Validation](https://www.rfc-editor.org/rfc/rfc8414.html#section-3.3)
 * @see [RFC 9728 §7.3. Impersonation Attacks](https://www.rfc-editor.org/rfc/rfc9728.html#section-7.3)
 * @see [MCP Authorization (draft): Authorization Server Binding](https://modelcontextprotocol.io/specification/draft/basic/authorization/client-registration)
 */
export async function checkIssuerBinding(input: {
  server: string;
  serverUrl: string;
  config: OAuthConfig;
  existing: CredentialRecord | undefined;
  discovery: StoredDiscovery;
  /** Discovery from the MCP server's own origin only (no challenge-supplied metadata URL). */
  discoverAtServerOrigin: () => Promise<StoredDiscovery>;
}): Promise<void> {
  const issuer = issuerOf(input.discovery);
  const { config, server } = input;
  const found = shown(issuer);
  if (config.issuer !== undefined) {
    if (issuer === config.issuer) return;
    throw new LoginError(
      server,
      `the authorization server it names is ${found}, but oauth.issuer is ${config.issuer}; nothing was sent to ${found}. If the server really moved there, set oauth.issuer: ${found} (and a client registered there) in config.yaml`,
    );
  }
  if (!config.clientId) return;
  const existing = input.existing;
  const boundIssuer =
    existing?.client?.kind === 'preregistered' && existing.binding.clientId === config.clientId
      ? existing.binding.issuer
      : undefined;
  if (boundIssuer !== undefined) {
    if (boundIssuer === issuer) return;
    const bound = shown(boundIssuer);
    throw new LoginError(
      server,
      `its configured client (oauth.client_id) is bound to the authorization server ${bound}, where it first logged in, but the server now names ${found}; neither the client id nor its secret was sent to ${found}. If the server really moved, set oauth.issuer: ${found} in config.yaml, or forget the old binding with: mcp-oauth logout ${shellQuote(server)} --reset`,
    );
  }
  const serverOrigin = new URL(input.serverUrl).origin;
  const from = input.discovery.resourceMetadataUrl;
  const fromOwnOrigin =
    input.discovery.resourceMetadata === undefined ||
    (from !== undefined && new URL(from).origin === serverOrigin);
  if (fromOwnOrigin) return;
  const elsewhere = from ? shown(new URL(from).origin) : 'another origin';
  const steered = `its configured client (oauth.client_id) has not logged in yet, and the authorization server ${found} is named by protected-resource metadata on ${elsewhere} (from a 401 challenge) instead of the server's own origin ${serverOrigin}`;
  let own: StoredDiscovery;
  try {
    own = await input.discoverAtServerOrigin();
  } catch (error) {
    const reason = error instanceof Error ? displayText(error.message, MAX_ISSUER_SHOWN) : 'no answer';
    throw new LoginError(
      server,
      `${steered}, which publishes no metadata to confirm it (${reason}); nothing was sent to ${found}. If ${found} is the right authorization server, set oauth.issuer: ${found} in config.yaml`,
      { cause: error },
    );
  }
  const ownIssuer = issuerOf(own);
  const listed = own.resourceMetadata?.authorization_servers;
  if (ownIssuer === issuer || (Array.isArray(listed) && listed.includes(issuer))) return;
  throw new LoginError(
    server,
    `${steered}, whose metadata names ${shown(ownIssuer)}; neither the client id nor its secret was sent to ${found}. If ${found} is the right authorization server, set oauth.issuer: ${found} in config.yaml`,
  );
}
