import { createHash, randomBytes } from 'node:crypto';
import {
  type AuthorizationServerMetadata,
  exchangeAuthorization,
  type FetchLike,
  type OAuthClientInformationMixed,
  type OAuthProtectedResourceMetadata,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/client';
import type { OAuthConfig } from '../config/oauth-config.js';
import { ConfigError, LoginError, McpOAuthError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
  CredentialRecord,
  StoredClient,
  StoredDiscovery,
  StoredTokens,
} from '../store/credential-record.js';
import type { OpenBrowser } from './browser.js';
import { discover, issuerOf, resourceOf } from './discovery.js';
import { startLoopbackCallback } from './loopback-callback.js';
import { tokensFromResponse } from './token-refresh.js';

export interface AuthorizationResult {
  discovery: StoredDiscovery;
  client: StoredClient;
  tokens: StoredTokens;
  resource: string;
  issuer: string;
}

/** The per-server callback path, so concurrent logins to different servers never cross. */
export function callbackPath(server: string): string {
  return `/callback/${createHash('sha256').update(server).digest('base64url').slice(0, 12)}`;
}

/**
 * Scope selection (MCP 2025-11-25 "Scope Selection Strategy"): the configured scope, else the
 * challenge's, else all of the protected-resource metadata's `scopes_supported`, else none; plus
 * `offline_access` only when the authorization server lists it (SEP-2207).
 */
export function selectScope(
  config: OAuthConfig,
  discovery: StoredDiscovery,
  challengeScope: string | undefined,
): string | undefined {
  const prm = discovery.resourceMetadata as OAuthProtectedResourceMetadata | undefined;
  const base = config.scope ?? challengeScope ?? prm?.scopes_supported?.join(' ');
  const asScopes = (discovery.authorizationServerMetadata?.scopes_supported ?? []) as string[];
  const words = new Set((base ?? '').split(/\s+/).filter(Boolean));
  if (asScopes.includes('offline_access')) words.add('offline_access');
  return words.size > 0 ? [...words].join(' ') : undefined;
}

/**
 * The authorization code grant (RFC 6749 §4.1) with PKCE S256 (RFC 7636), the RFC 8707 resource,
 * RFC 9207 `iss` checking and a loopback redirect (RFC 8252), through the SDK's helpers. Client
 * identity: configured client, else the stored DCR client of the same issuer (its redirect port
 * is reused so its registration stays valid), else dynamic registration (RFC 7591). Nothing is
 * stored here: the caller commits the result only when the whole flow succeeded.
 */
export async function runAuthorizationCodeFlow(input: {
  server: string;
  serverUrl: string;
  config: OAuthConfig;
  existing: CredentialRecord | undefined;
  fetchFn: FetchLike;
  openBrowser: OpenBrowser;
  now: () => number;
  logger: Logger;
  challengeScope?: string;
  resourceMetadataUrl?: URL;
  signal?: AbortSignal;
}): Promise<AuthorizationResult> {
  const timeoutMs = (input.config.timeoutSeconds ?? 300) * 1000;
  const deadline = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(input.signal ? [input.signal] : [])]);
  try {
    const discovery = await discover(input.serverUrl, {
      fetchFn: input.fetchFn,
      ...(input.resourceMetadataUrl ? { resourceMetadataUrl: input.resourceMetadataUrl } : {}),
    });
    const issuer = issuerOf(discovery);
    const resource = resourceOf(input.serverUrl, discovery);
    const metadata = discovery.authorizationServerMetadata as AuthorizationServerMetadata | undefined;
    const methods = metadata?.code_challenge_methods_supported;
    if (metadata && !methods?.includes('S256')) {
      throw new LoginError(input.server, `the authorization server ${issuer} does not advertise PKCE S256`);
    }

    const reusable =
      !input.config.clientId &&
      input.existing?.client?.kind === 'dcr' &&
      input.existing.binding.issuer === issuer &&
      input.existing.client.redirectUri
        ? input.existing.client
        : undefined;
    const path = callbackPath(input.server);
    const configuredPort = input.config.redirectPort ?? 0;
    const reusedPort = reusable ? Number(new URL(reusable.redirectUri!).port) : 0;
    let listener = await startLoopbackCallback({
      server: input.server,
      port: configuredPort || reusedPort,
      path,
    }).catch(async (error: unknown) => {
      // The stored client's port is taken and none is configured: pick a new port and register again.
      if (error instanceof ConfigError && !configuredPort && reusedPort) {
        return startLoopbackCallback({ server: input.server, port: 0, path });
      }
      throw error;
    });
    try {
      const scope = selectScope(input.config, discovery, input.challengeScope);
      const client = await resolveClient({
        ...input,
        discovery,
        metadata,
        redirectUri: listener.redirectUri,
        reusable: reusable?.redirectUri === listener.redirectUri ? reusable : undefined,
        scope,
      });
      const state = randomBytes(32).toString('base64url');
      const { authorizationUrl, codeVerifier } = await startAuthorization(discovery.authorizationServerUrl, {
        metadata,
        clientInformation: client.information as OAuthClientInformationMixed,
        redirectUrl: listener.redirectUri,
        ...(scope ? { scope } : {}),
        state,
        resource: new URL(resource),
      });
      input.logger.info(`Opening the browser to log in to '${input.server}'`, { issuer });
      const browser = await input.openBrowser(authorizationUrl.href);
      const response = await Promise.race([listener.waitForResponse(state, deadline), browser.failed]);
      const tokens = await exchangeAuthorization(discovery.authorizationServerUrl, {
        metadata,
        clientInformation: client.information as OAuthClientInformationMixed,
        authorizationCode: response.code,
        iss: response.iss,
        codeVerifier,
        redirectUri: listener.redirectUri,
        resource: new URL(resource),
        fetchFn: input.fetchFn,
      });
      return { discovery, client, tokens: tokensFromResponse(tokens, input.now()), resource, issuer };
    } finally {
      await listener.close();
      listener = undefined as never;
    }
  } catch (error) {
    if (error instanceof McpOAuthError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new LoginError(input.server, detail, { cause: error });
  }
}

async function resolveClient(input: {
  server: string;
  config: OAuthConfig;
  discovery: StoredDiscovery;
  metadata: AuthorizationServerMetadata | undefined;
  redirectUri: string;
  reusable: StoredClient | undefined;
  scope: string | undefined;
  fetchFn: FetchLike;
}): Promise<StoredClient> {
  if (input.config.clientId) {
    return {
      kind: 'preregistered',
      information: {
        client_id: input.config.clientId,
        ...(input.config.clientSecret ? { client_secret: input.config.clientSecret } : {}),
        redirect_uris: [input.redirectUri],
      },
      redirectUri: input.redirectUri,
    };
  }
  if (input.reusable) return input.reusable;
  const information = await registerClient(input.discovery.authorizationServerUrl, {
    metadata: input.metadata,
    clientMetadata: {
      client_name: input.config.clientName ?? 'mcp-oauth-manager',
      redirect_uris: [input.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      ...(input.scope ? { scope: input.scope } : {}),
    },
    fetchFn: input.fetchFn,
  });
  return { kind: 'dcr', information: { ...information }, redirectUri: input.redirectUri };
}
