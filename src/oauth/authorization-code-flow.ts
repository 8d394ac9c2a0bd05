import { createHash, randomBytes } from 'node:crypto';
import {
  type AuthorizationServerMetadata,
  exchangeAuthorization,
  type FetchLike,
  type OAuthClientInformationMixed,
  OAuthError,
  startAuthorization,
} from '@modelcontextprotocol/client';
import type { OAuthConfig } from '../config/oauth-config.js';
import { ConfigError, LoginError } from '../errors.js';
import { registerSecret } from '../logger.js';
import type { StoredClient, StoredDiscovery, StoredTokens } from '../store/credential-record.js';
import { NoBrowserError, type OpenBrowser } from './browser.js';
import { chooseClient } from './client-identity.js';
import {
  ANY_FREE_PORT,
  type AuthorizationResponse,
  type ExpectedIssuer,
  type LoopbackCallback,
  startLoopbackCallback,
} from './loopback-callback.js';
import { readPastedResponse } from './paste-back.js';
import { sshPortForwardHint } from './ssh.js';
import { capturingTokenFetch, tokensFromResponse } from './token-refresh.js';

/**
 * The loopback callback path of `server` (a hash of its name): concurrent logins to different
 * servers listen on different paths, so a redirect never lands in another login's listener.
 */
export function callbackPath(server: string): string {
  return `/callback/${createHash('sha256').update(server).digest('base64url').slice(0, 12)}`;
}

/** What the code flow asks its caller to show the person. */
export type CodeFlowPrompt =
  /** Open `url` in a browser; over SSH, `sshHint` says how to forward the callback port. */
  | { kind: 'open-url'; url: string; sshHint?: string }
  /** Open `url` anywhere, then paste the address the browser ends on. */
  | { kind: 'paste-url'; url: string }
  /** A pasted line was not the awaited response; `reason` says why. */
  | { kind: 'paste-ignored'; reason: string }
  /** No browser can be opened (`reason`): the login goes on with `fallback`. */
  | { kind: 'no-browser'; reason: string; fallback: 'paste' | 'device' };

/**
 * Runs the authorization code grant with PKCE S256, the `resource` indicator, exact `state`
 * matching and `iss` checking (by the SDK's exchange), and a loopback redirect on 127.0.0.1.
 * An authorization server whose metadata does not list S256 is refused, as MCP requires. The
 * response arrives at the loopback listener or, with `receive: 'paste'`, as the redirected
 * address pasted on `input` (whichever comes first). A stored DCR client keeps its redirect
 * port; a stored DCR client the token endpoint rejects with `invalid_client` is registered
 * again, once. Returns the client and tokens to commit; stores nothing.
 *
 * @see [RFC 6749 §4.1. Authorization Code Grant](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1)
 * @see [RFC 7636 §4. Protocol](https://www.rfc-editor.org/rfc/rfc7636.html#section-4)
 * @see [RFC 8707 §2. Resource Parameter](https://www.rfc-editor.org/rfc/rfc8707.html#section-2)
 * @see [RFC 9207 §2.4. Validating the Issuer Identifier](https://www.rfc-editor.org/rfc/rfc9207.html#section-2.4)
 * @see [RFC 8252 §7.3. Loopback Interface Redirection](https://www.rfc-editor.org/rfc/rfc8252.html#section-7.3)
 */
export async function runAuthorizationCodeFlow(input: {
  server: string;
  config: OAuthConfig;
  discovery: StoredDiscovery;
  /** RFC 8707 `resource`; undefined for a sign-in at an identity provider (no resource). */
  resource: string | undefined;
  scope: string | undefined;
  storedClient: StoredClient | undefined;
  fetchFn: FetchLike;
  receive: 'browser' | 'paste';
  /** When the opener fails: 'paste' goes on by reading the redirected URL (a CLI), 'fail' ends the login. */
  noBrowser?: 'paste' | 'fail';
  openBrowser: OpenBrowser;
  input: NodeJS.ReadableStream | undefined;
  prompt: (prompt: CodeFlowPrompt) => void;
  now: () => number;
  deadline: AbortSignal;
  /** Told when the flow enters a step, so a timeout can name it. */
  onPhase?: (phase: 'client registration' | 'wait for the authorization response' | 'token exchange') => void;
  /** Told of a client registered by this flow, before the person is asked, so a cancel keeps it. */
  onRegistered?: (client: StoredClient) => Promise<void>;
}): Promise<{ client: StoredClient; tokens: StoredTokens }> {
  const metadata = input.discovery.authorizationServerMetadata as AuthorizationServerMetadata | undefined;
  if (metadata && !metadata.code_challenge_methods_supported?.includes('S256')) {
    throw new LoginError(
      input.server,
      `the authorization server ${metadata.issuer} does not advertise PKCE S256 (code_challenge_methods_supported), which MCP requires`,
    );
  }
  let stored = input.storedClient;
  const listener = await listen(input.server, input.config, stored);
  try {
    for (let attempt = 0; ; attempt++) {
      input.onPhase?.('client registration');
      const { client, fresh } = await chooseClient({
        server: input.server,
        config: input.config,
        authorizationServerUrl: input.discovery.authorizationServerUrl,
        metadata,
        stored,
        grant: 'authorization_code',
        redirectUri: listener.redirectUri,
        scope: input.scope,
        fetchFn: input.fetchFn,
      });
      if (fresh) await input.onRegistered?.(client);
      const state = randomBytes(32).toString('base64url');
      const { authorizationUrl, codeVerifier } = await startAuthorization(
        input.discovery.authorizationServerUrl,
        {
          metadata,
          clientInformation: client.information as OAuthClientInformationMixed,
          redirectUrl: listener.redirectUri,
          ...(input.scope ? { scope: input.scope } : {}),
          state,
          // The string as published: new URL() would add a `/` to a bare origin (RFC 8707 exact match).
          ...(input.resource !== undefined ? { resource: input.resource } : {}),
        },
      );
      registerSecret(codeVerifier);
      // OIDC Core §3.1.2.1: which account to preselect (`oauth.login_hint`).
      if (input.config.loginHint) authorizationUrl.searchParams.set('login_hint', input.config.loginHint);
      input.onPhase?.('wait for the authorization response');
      const response = await receive(input, listener, authorizationUrl.href, state, expectedIssuer(metadata));
      input.onPhase?.('token exchange');
      // The raw 2xx body is validated by tokensFromResponse, not the SDK's parse of it (which
      // turns `expires_in: null` into 0 and a missing `token_type` into an opaque parse error).
      const captured = capturingTokenFetch(input.fetchFn);
      try {
        await exchangeAuthorization(input.discovery.authorizationServerUrl, {
          metadata,
          clientInformation: client.information as OAuthClientInformationMixed,
          authorizationCode: response.code,
          iss: response.iss,
          codeVerifier,
          redirectUri: listener.redirectUri,
          ...(input.resource !== undefined ? { resource: input.resource } : {}),
          fetchFn: captured.fetchFn,
        });
      } catch (error) {
        // A 200 the SDK refused is judged by tokensFromResponse; an OAuth error stays one.
        if (captured.successBody() !== undefined && !OAuthError.isInstance(error))
          return {
            client,
            tokens: tokensFromResponse(captured.successBody(), input.now(), undefined, input.scope),
          };
        // A dead stored registration: register again, once (never for a configured client).
        const rejected = OAuthError.isInstance(error) && String(error.code) === 'invalid_client';
        if (rejected && client.kind === 'dcr' && !fresh && attempt === 0) {
          stored = { ...client, rejectedAt: input.now() };
          continue;
        }
        throw error;
      }
      return {
        client,
        tokens: tokensFromResponse(captured.successBody(), input.now(), undefined, input.scope),
      };
    }
  } finally {
    await listener.close();
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof NoBrowserError) return error.why;
  return error instanceof Error ? error.message : String(error);
}

// The issuer the response must name: the one of the metadata the login validated and started with.
function expectedIssuer(metadata: AuthorizationServerMetadata | undefined): ExpectedIssuer | undefined {
  if (!metadata?.issuer) return undefined;
  return {
    issuer: metadata.issuer,
    issParameterSupported: metadata.authorization_response_iss_parameter_supported === true,
  };
}

async function listen(
  server: string,
  config: OAuthConfig,
  stored: StoredClient | undefined,
): Promise<LoopbackCallback> {
  const path = callbackPath(server);
  const configured = config.redirectPort ?? ANY_FREE_PORT;
  // A DCR client's redirect URI includes its port: reuse it so the registration stays valid.
  const kept =
    !config.clientId && stored?.kind === 'dcr' && stored.redirectUri
      ? Number(new URL(stored.redirectUri).port)
      : ANY_FREE_PORT;
  try {
    return await startLoopbackCallback({
      server,
      port: configured || kept,
      path,
    });
  } catch (error) {
    // The kept port is taken and none is configured: a new port, and so a new registration.
    if (error instanceof ConfigError && !configured && kept)
      return startLoopbackCallback({ server, port: ANY_FREE_PORT, path });
    throw error;
  }
}

async function receive(
  input: Parameters<typeof runAuthorizationCodeFlow>[0],
  listener: LoopbackCallback,
  url: string,
  state: string,
  issuer: ExpectedIssuer | undefined,
): Promise<AuthorizationResponse> {
  const fromListener = listener.waitForResponse(state, input.deadline, issuer);
  // A response can arrive while the browser opener is still being awaited: its rejection is
  // raced below, not unhandled in between.
  fromListener.catch(() => {});
  const pasteBack = (noBrowser?: string) => {
    input.prompt({ kind: 'paste-url', url });
    const pasted = readPastedResponse({
      server: input.server,
      stream: input.input ?? process.stdin,
      state,
      signal: input.deadline,
      ...(issuer ? { issuer } : {}),
      onIgnored: (reason) => input.prompt({ kind: 'paste-ignored', reason }),
    });
    // After a failed browser, a paste that fails too names both (why it came to pasting).
    const fromPaste = noBrowser
      ? pasted.catch((error: unknown) => {
          const detail = (error instanceof Error ? error.message : String(error))
            .replace(/^Login to MCP server '[^']*' failed: /, '')
            .replace(/\. The previous credential.*$/s, '');
          throw new LoginError(input.server, `no browser could be opened (${noBrowser}), and ${detail}`, {
            cause: error,
          });
        })
      : pasted;
    // The person may be on this machine after all: the listener can win the race.
    return Promise.race([fromListener, fromPaste]);
  };
  if (input.receive === 'paste') return pasteBack();
  const sshHint = sshPortForwardHint(listener.port);
  input.prompt({ kind: 'open-url', url, ...(sshHint ? { sshHint } : {}) });
  let failed: Promise<never> = new Promise<never>(() => {});
  try {
    ({ failed } = await input.openBrowser(url));
  } catch (error) {
    // No opener here: the URL was shown, so the person can still open it by hand; a CLI goes
    // on with the paste flow at once instead of waiting for a browser that will not come.
    if (input.noBrowser === 'paste') {
      input.prompt({ kind: 'no-browser', reason: reasonOf(error), fallback: 'paste' });
      return pasteBack(reasonOf(error));
    }
  }
  // A BROWSER command that fails (exits non-zero) ends the wait: a CLI goes on with the paste
  // flow (the listener still races it), a library ends the login saying so.
  const browserFailed = failed.catch((error: unknown) => {
    if (input.noBrowser === 'paste') {
      input.prompt({ kind: 'no-browser', reason: reasonOf(error), fallback: 'paste' });
      return pasteBack(reasonOf(error));
    }
    throw new LoginError(
      input.server,
      `${error instanceof Error ? error.message : String(error)}; open the address shown by hand, or log in with --no-browser`,
    );
  });
  return Promise.race([fromListener, browserFailed]);
}
