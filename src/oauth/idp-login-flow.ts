import type { FetchLike } from '@modelcontextprotocol/client';
import type { IdentityProviderConfig } from '../config/oauth-config.js';
import { LoginError, McpOAuthError } from '../errors.js';
import { registerSecret } from '../logger.js';
import type { StoredClient, StoredDiscovery } from '../store/credential-record.js';
import { type CodeFlowPrompt, runAuthorizationCodeFlow } from './authorization-code-flow.js';
import { limitResponseSize } from './bounded-fetch.js';
import type { OpenBrowser } from './browser.js';
import { trimDiscovery } from './discovery.js';
import { discoverIdentityProvider } from './id-jag-exchange.js';
import { withSignal } from './timeout-fetch.js';
import { capturingTokenFetch } from './token-refresh.js';

/** What a sign-in at an identity provider obtained: the identity assertion and how to renew it. */
export interface IdpLoginResult {
  discovery: StoredDiscovery;
  client: StoredClient;
  /** The ID token: the identity assertion exchanged for ID-JAGs. */
  idToken: string;
  refreshToken: string | undefined;
  obtainedAt: number;
}

/**
 * `mcp-oauth login --idp NAME`: an OpenID Connect authorization-code login (PKCE, loopback or
 * paste-back, `iss` checked) at the company's identity provider with its configured client, kept
 * for its ID token, the identity assertion (SEP-990). The same code flow as a server login; the
 * IdP's metadata must name the configured issuer. Stores nothing. Any failure is a LoginError.
 *
 * @see [OpenID Connect Core §3.1. Authorization Code Flow](https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth)
 */
export async function runIdpLoginFlow(input: {
  idp: IdentityProviderConfig;
  flow: 'browser' | 'paste';
  fetchFn: FetchLike;
  openBrowser: OpenBrowser;
  input: NodeJS.ReadableStream | undefined;
  prompt: (prompt: CodeFlowPrompt) => void;
  now: () => number;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<IdpLoginResult> {
  const server = `idp:${input.idp.name}`;
  const deadline = AbortSignal.any([
    AbortSignal.timeout(input.timeoutMs),
    ...(input.signal ? [input.signal] : []),
  ]);
  const fetchFn = limitResponseSize(withSignal(input.fetchFn, deadline));
  try {
    const metadata = await discoverIdentityProvider(input.idp, fetchFn, input.timeoutMs);
    const discovery: StoredDiscovery = {
      authorizationServerUrl: input.idp.issuer,
      authorizationServerMetadata: metadata as unknown as Record<string, unknown>,
    };
    const captured = capturingTokenFetch(fetchFn);
    const scope = input.idp.scope ?? 'openid';
    const { client, tokens } = await runAuthorizationCodeFlow({
      server,
      config: {
        clientId: input.idp.clientId,
        ...(input.idp.clientSecret ? { clientSecret: input.idp.clientSecret } : {}),
        timeoutSeconds: Math.ceil(input.timeoutMs / 1000),
      },
      discovery,
      resource: undefined,
      scope: scope.split(/\s+/).includes('openid') ? scope : `openid ${scope}`,
      storedClient: undefined,
      fetchFn: captured.fetchFn,
      receive: input.flow,
      openBrowser: input.openBrowser,
      input: input.input,
      prompt: input.prompt,
      now: input.now,
      deadline,
    });
    const idToken = (captured.successBody() as { id_token?: unknown } | undefined)?.id_token;
    if (typeof idToken !== 'string' || idToken.length === 0)
      throw new LoginError(
        server,
        'the identity provider returned no ID token; its client must allow the openid scope',
      );
    registerSecret(idToken);
    return {
      discovery: trimDiscovery(discovery),
      client,
      idToken,
      refreshToken: tokens.refreshToken,
      obtainedAt: tokens.obtainedAt,
    };
  } catch (error) {
    if (error instanceof McpOAuthError) throw error;
    throw new LoginError(server, error instanceof Error ? error.message : String(error), { cause: error });
  }
}
