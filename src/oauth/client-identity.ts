import {
  type AuthorizationServerMetadata,
  type FetchLike,
  RegistrationRejectedError,
  registerClient,
} from '@modelcontextprotocol/client';
import type { OAuthConfig } from '../config/oauth-config.js';
import { LoginError } from '../errors.js';
import { registerSecret } from '../logger.js';
import { isLoopbackHost } from '../loopback.js';
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
 * Registers a public client (`token_endpoint_auth_method: none`) for one grant plus
 * `refresh_token`, with the `application_type` of its redirect ({@link applicationTypeFor}) and no
 * `scope`, so that a later step-up can ask for more. Every failure is a LoginError that says what
 * the server refused and what to configure instead (a pre-registered client, a fixed redirect
 * port): when the metadata lists no `registration_endpoint`, when that endpoint answers without
 * an OAuth error (a 404: it is not there), and when the server refuses the registration (RFC 7591
 * §3.2.2, e.g. `invalid_redirect_uri`).
 *
 * @see [RFC 7591 §3.1. Client Registration Request](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.1)
 * @see [RFC 7591 §3.2.2. Client Registration Error Response](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.2)
 * @see [RFC 8252 §8.4. Registration of Native App Clients](https://www.rfc-editor.org/rfc/rfc8252.html#section-8.4)
 * @see [MCP Authorization (2026-07-28): Client Registration](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
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
  const code = input.grant === 'authorization_code';
  const redirectUri = code ? input.redirectUri : undefined;
  if (input.metadata && !input.metadata.registration_endpoint) {
    throw new LoginError(
      input.server,
      `the authorization server offers no dynamic client registration (its metadata has no registration_endpoint). ${needsClient(input, redirectUri)}`,
    );
  }
  let information: Awaited<ReturnType<typeof registerClient>>;
  try {
    information = await registerClient(input.authorizationServerUrl, {
      metadata: input.metadata,
      clientMetadata: {
        client_name: input.config.clientName ?? DEFAULT_CLIENT_NAME,
        redirect_uris: redirectUri ? [redirectUri] : [],
        grant_types: grantTypesFor(code, input.metadata),
        response_types: code ? ['code'] : [],
        token_endpoint_auth_method: 'none',
        application_type: applicationTypeFor(redirectUri),
        // No `scope`: a registration limited to today's scope could never step up to more.
      },
      fetchFn: input.fetchFn,
    });
  } catch (error) {
    if (RegistrationRejectedError.isInstance(error)) throw registrationRefused(input, redirectUri, error);
    throw error;
  }
  registerSecret(information.client_secret);
  return {
    kind: 'dcr',
    information: { ...information },
    ...(redirectUri ? { redirectUri } : {}),
  };
}

/**
 * The grants to register: the flow's own and `refresh_token`, plus the other interactive flow
 * (the device grant for a browser login, the code grant for a device login) where the server
 * offers a device flow, so that switching between `--device` and the browser reuses the one
 * registration instead of making a new client each time. A device login registers the device
 * grant only (a code-grant client needs a redirect URI, which a device login has none of): the
 * first browser login after it registers once more, with both grants, and that client serves both.
 */
function grantTypesFor(code: boolean, metadata: AuthorizationServerMetadata | undefined): string[] {
  if (!code) return [DEVICE_CODE_GRANT, 'refresh_token'];
  const device =
    typeof (metadata as { device_authorization_endpoint?: unknown } | undefined)
      ?.device_authorization_endpoint === 'string';
  const supported = metadata?.grant_types_supported as string[] | undefined;
  return device && (supported === undefined || supported.includes(DEVICE_CODE_GRANT))
    ? ['authorization_code', DEVICE_CODE_GRANT, 'refresh_token']
    : ['authorization_code', 'refresh_token'];
}

/**
 * The `application_type` to register for `redirectUri` (OpenID Connect Dynamic Client Registration
 * §2, which defaults it to `web`): `native` for a loopback or private-scheme redirect and for no
 * redirect at all (device flow), as the MCP spec asks of desktop and command-line clients; `web`
 * only for an https redirect to a host name. Servers hold a `web` client to web redirect rules,
 * and some refuse a loopback http redirect URI for one.
 *
 * @see [MCP Authorization (2026-07-28): Client Registration (SEP-837)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
 * @see [OpenID Connect Dynamic Client Registration 1.0 §2. Client Metadata](https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata)
 * @see [RFC 8252 §7. Receiving the Authorization Response in a Native App](https://www.rfc-editor.org/rfc/rfc8252.html#section-7)
 */
export function applicationTypeFor(redirectUri: string | undefined): 'native' | 'web' {
  const url = redirectUri === undefined ? null : URL.parse(redirectUri);
  return url?.protocol === 'https:' && !isLoopbackHost(url.hostname) ? 'web' : 'native';
}

/** Longest error code shown (a real one is a word or two). */
const MAX_CODE_SHOWN = 60;

/**
 * The LoginError for a registration the endpoint answered with an error: the server's `error`
 * and `error_description` (cleaned) when it sent an RFC 7591 error document, else its HTTP
 * status (a 404 or an HTML page means there is no registration endpoint to use).
 */
function registrationRefused(
  input: Parameters<typeof register>[0],
  redirectUri: string | undefined,
  error: RegistrationRejectedError,
): LoginError {
  const refusal = oauthError(error.body);
  if (refusal === undefined) {
    return new LoginError(
      input.server,
      `the authorization server's registration endpoint answered HTTP ${error.status} without an OAuth error, so it offers no dynamic client registration here. ${needsClient(input, redirectUri)}`,
      { cause: error },
    );
  }
  const said = `${displayText(refusal.error, MAX_CODE_SHOWN)}${refusal.description ? `: ${displayText(refusal.description)}` : ''}`;
  const forWhat = redirectUri ? ` for the redirect URI ${redirectUri}` : '';
  return new LoginError(
    input.server,
    `the authorization server refused to register this client${forWhat} (HTTP ${error.status}, ${said}). ${needsClient(input, redirectUri)}`,
    { cause: error },
  );
}

/** An RFC 7591 §3.2.2 error document's `error` and `error_description`, if `body` is one. */
function oauthError(body: string): { error: string; description: string | undefined } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const { error, error_description: description } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof error !== 'string' || error === '') return undefined;
  return { error, description: typeof description === 'string' ? description : undefined };
}

/**
 * What to configure when this client cannot register itself: a client the server's
 * administrator registers, with its fixed loopback redirect URI for the code flow (a registered
 * redirect URI names its port, hence `oauth.redirect_port`); or a Client ID Metadata Document
 * where the server supports them.
 */
function needsClient(input: Parameters<typeof register>[0], redirectUri: string | undefined): string {
  // Only a loopback redirect has a port to choose; this project registers no other kind.
  const redirect =
    redirectUri && applicationTypeFor(redirectUri) === 'native' ? new URL(redirectUri) : undefined;
  const cimd =
    (input.metadata as { client_id_metadata_document_supported?: unknown } | undefined)
      ?.client_id_metadata_document_supported === true
      ? '; or, as the server supports Client ID Metadata Documents, set oauth.client_metadata_url'
      : '';
  const keys = redirect
    ? 'oauth.client_id, oauth.client_secret_env (the environment variable holding its secret, if it has one) and oauth.redirect_port: PORT'
    : 'oauth.client_id and oauth.client_secret_env (the environment variable holding its secret, if it has one)';
  const registered = redirect
    ? `with the redirect URI http://127.0.0.1:PORT${redirect.pathname} (PORT: a free port you choose)`
    : redirectUri
      ? `with the redirect URI ${redirectUri}`
      : 'for the device flow';
  return `It needs a pre-registered client: ask the server's administrator to register one ${registered}, then set ${keys} for server ${shellQuote(input.server)} in config.yaml${cimd}`;
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
