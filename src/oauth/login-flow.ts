import type { FetchLike } from '@modelcontextprotocol/client';
import { loginTimeoutMs, type OAuthConfig } from '../config/oauth-config.js';
import { LoginError, McpOAuthError } from '../errors.js';
import type {
  CredentialRecord,
  StoredClient,
  StoredDiscovery,
  StoredTokens,
} from '../store/credential-record.js';
import { runAuthorizationCodeFlow } from './authorization-code-flow.js';
import { limitResponseSize, ResponseTooLargeError, urlOf } from './bounded-fetch.js';
import { type OpenBrowser, openInBrowser } from './browser.js';
import { browserOpener } from './browser-opener.js';
import { checkIssuerBinding, chooseClient } from './client-identity.js';
import { runDeviceFlow } from './device-flow.js';
import { discover, insecureEndpoint, issuerOf, resourceMismatch, resourceOf } from './discovery.js';
import { NetworkError, safeUrl } from './network-error.js';
import { selectScope } from './scope-selection.js';
import { explainMissingMetadata, probeMcpEndpoint } from './server-probe.js';
import { withSignal } from './timeout-fetch.js';

/** What a login asks its caller to show the person: the code flow's prompts, or a device code. */
export type FlowPrompt =
  | { kind: 'open-url'; url: string; sshHint?: string }
  | { kind: 'paste-url'; url: string }
  | { kind: 'paste-ignored'; reason: string }
  /** No browser can be opened here: the login goes on with `fallback` instead. */
  | { kind: 'no-browser'; reason: string; fallback: 'paste' | 'device' }
  | {
      kind: 'device-code';
      verificationUri: string;
      userCode: string;
      verificationUriComplete?: string;
      expiresInSeconds: number;
    };

/**
 * The steps of a login, named in the error when the deadline (`oauth.timeout`) or a
 * cancellation ends it, so the person knows which server or step did not answer.
 */
export type LoginPhase =
  | 'metadata discovery'
  | 'client registration'
  | 'wait for the authorization response'
  | 'token exchange'
  | 'device authorization request'
  | 'wait for the device approval';

/** A client a login registered, with the discovery and binding it belongs to. */
export interface RegisteredClient {
  client: StoredClient;
  discovery: StoredDiscovery;
  resource: string;
  issuer: string;
}

/** What a login obtained, for the caller to commit: the credential and what it is bound to. */
export interface LoginFlowResult {
  discovery: StoredDiscovery;
  client: StoredClient;
  tokens: StoredTokens;
  resource: string;
  issuer: string;
}

/**
 * Runs one interactive login, start to finish, under one deadline (`oauth.timeout`, default
 * {@link loginTimeoutMs}): discovery, refusal of non-https endpoints and of
 * metadata naming another resource, refusal of an authorization server the client does not
 * belong to (`checkIssuerBinding`: `oauth.issuer`, a configured client's first login, a
 * challenge on another origin), scope selection, client identity (a stored client only if
 * registered with the same issuer), then the authorization code flow (browser or paste-back) or
 * the device flow. Every request is aborted at the deadline or by `signal` (the CLI's Ctrl-C),
 * and the whole flow is raced against them, so the login ends then whatever phase it is in:
 * the LoginError names that phase and the timeout. Any failure is a LoginError. Returns what to
 * commit; stores nothing.
 *
 * @see [MCP Authorization (2025-11-25)](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization)
 */
export async function runLoginFlow(input: {
  server: string;
  serverUrl: string;
  config: OAuthConfig;
  existing: CredentialRecord | undefined;
  flow: 'browser' | 'paste' | 'device';
  fetchFn: FetchLike;
  openBrowser: OpenBrowser;
  input: NodeJS.ReadableStream | undefined;
  prompt: (prompt: FlowPrompt) => void;
  now: () => number;
  challengeScope?: string;
  /** The scope to request (a step-up's union), overriding scope selection; `offline_access` is still added where listed. */
  scope?: string;
  resourceMetadataUrl?: URL;
  signal?: AbortSignal;
  /**
   * When no browser can be opened: 'paste' (a CLI, which owns the terminal: print the URL, read
   * the redirected one), 'device' (a library: the device flow where offered, else a
   * NoBrowserLoginError). Default 'device'.
   */
  noBrowser?: 'paste' | 'device';
  /** Told each phase as the login enters it (progress for a person). */
  onPhase?: (phase: LoginPhase) => void;
  /**
   * Told of a client this login registered (dynamic client registration), before the person is
   * asked, with what it is bound to: the caller may keep it, so that a cancelled or failed login
   * does not cost a new registration next time.
   */
  onClientRegistered?: (registered: RegisteredClient) => Promise<void>;
}): Promise<LoginFlowResult> {
  const timeoutMs = loginTimeoutMs(input.config);
  const timeout = AbortSignal.timeout(timeoutMs);
  const deadline = AbortSignal.any([timeout, ...(input.signal ? [input.signal] : [])]);
  let phase: LoginPhase = 'metadata discovery';
  const onPhase = (next: LoginPhase) => {
    if (next !== phase) input.onPhase?.(next);
    phase = next;
  };
  input.onPhase?.(phase);
  // Every request of the login (discovery, registration, code exchange, device polling) ends
  // with the deadline, and no response body is read past MAX_OAUTH_RESPONSE_BYTES.
  // The request last started, named when the deadline ends the login: which server did not answer.
  let lastRequest: string | undefined;
  const tracked: FetchLike = (url, init) => {
    lastRequest = `${(init?.method ?? 'GET').toUpperCase()} ${safeUrl(urlOf(url))}`;
    return input.fetchFn(url, init);
  };
  const fetchFn = limitResponseSize(withSignal(tracked, deadline));
  try {
    return await untilAborted(loginSteps({ ...input, fetchFn }, deadline, onPhase), deadline);
  } catch (error) {
    if (deadline.aborted) {
      const detail = timeout.aborted
        ? `the ${phase} did not finish within ${timeoutMs / 1000} s (oauth.timeout)${phase === 'metadata discovery' && lastRequest ? `, no answer to ${lastRequest}` : ''}; check that the server answers, or raise oauth.timeout`
        : `it was cancelled during the ${phase}`;
      throw new LoginError(input.server, detail, { cause: error });
    }
    if (error instanceof McpOAuthError) throw error;
    throw new LoginError(input.server, error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}

/** A login that needed a browser where none can be opened, and had no other flow to use. */
export class NoBrowserLoginError extends LoginError {
  constructor(server: string, why: string) {
    super(
      server,
      `no browser can be opened here (${why}) and the authorization server offers no device flow`,
    );
    this.name = 'NoBrowserLoginError';
  }
}

/** The flow to use instead of the browser (see `noBrowser`), announced through the prompt. */
function noBrowserFallback(
  input: Parameters<typeof runLoginFlow>[0],
  discovery: StoredDiscovery,
  why: string,
): 'paste' | 'device' {
  const fallback =
    input.noBrowser === 'paste'
      ? 'paste'
      : discovery.authorizationServerMetadata?.device_authorization_endpoint
        ? 'device'
        : undefined;
  if (!fallback) throw new NoBrowserLoginError(input.server, why);
  input.prompt({ kind: 'no-browser', reason: why, fallback });
  return fallback;
}

/** Settles like `work`, or rejects as soon as `signal` aborts, whichever comes first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

async function loginSteps(
  input: Parameters<typeof runLoginFlow>[0],
  deadline: AbortSignal,
  onPhase: (phase: LoginPhase) => void,
): Promise<LoginFlowResult> {
  onPhase('metadata discovery');
  let discovery: StoredDiscovery;
  try {
    discovery = await discover(input.serverUrl, {
      fetchFn: input.fetchFn,
      ...(input.resourceMetadataUrl ? { resourceMetadataUrl: input.resourceMetadataUrl } : {}),
    });
  } catch (error) {
    // A network failure or the deadline says what it is; anything else (metadata that is not
    // metadata: a `200 {}` everywhere) is explained by asking the server as an MCP client would.
    if (error instanceof NetworkError || error instanceof McpOAuthError || deadline.aborted) throw error;
    if (error instanceof ResponseTooLargeError) throw error;
    throw await explainMissingMetadata({ ...input, fallback: error });
  }
  // No metadata at all (a base URL, a server that needs no authentication, not an MCP server):
  // say which, instead of failing later at a registration endpoint that is not there. A server
  // that asks for authentication goes on: a 2025-03-26 server's endpoints are the defaults at its
  // origin (/authorize, /token, /register), which the flow falls back to.
  if (!discovery.resourceMetadata && !discovery.authorizationServerMetadata) {
    const answer = await probeMcpEndpoint(input.serverUrl, input.fetchFn).catch(() => undefined);
    if (answer?.kind !== 'challenge') throw await explainMissingMetadata({ ...input, fallback: undefined });
  }
  const insecure = insecureEndpoint(discovery);
  if (insecure) {
    throw new LoginError(
      input.server,
      `the authorization server's ${insecure} is not https (only loopback hosts may use http)`,
    );
  }
  const mismatch = resourceMismatch(input.serverUrl, discovery);
  if (mismatch) throw new LoginError(input.server, `${mismatch}; refusing to ask for a token for it`);
  // Before anything reaches the authorization server: is it the one this client belongs to?
  await checkIssuerBinding({
    server: input.server,
    serverUrl: input.serverUrl,
    config: input.config,
    existing: input.existing,
    discovery,
    discoverAtServerOrigin: () => discover(input.serverUrl, { fetchFn: input.fetchFn }),
  });
  const issuer = issuerOf(discovery);
  const resource = resourceOf(input.serverUrl, discovery);
  const scope = selectScope(input.config, discovery, input.challengeScope, input.scope);
  // Known before anything waits: no browser can open here. Only for the default opener (a host's
  // own hook knows better).
  let flow = input.flow;
  if (flow === 'browser' && input.openBrowser === openInBrowser) {
    const verdict = await browserOpener(process.env);
    if (!verdict.usable) flow = noBrowserFallback(input, discovery, verdict.why);
  }
  // A client registered with another authorization server is never reused.
  const storedClient = input.existing?.binding.issuer === issuer ? input.existing.client : undefined;
  if (flow === 'device') {
    if (!discovery.authorizationServerMetadata?.device_authorization_endpoint) {
      throw new LoginError(
        input.server,
        `the authorization server ${issuer} offers no device flow (its metadata has no device_authorization_endpoint); log in without --device (a browser), or with --no-browser (paste the redirected URL) where no browser can open`,
      );
    }
    onPhase('client registration');
    const { client, fresh } = await chooseClient({
      server: input.server,
      config: input.config,
      authorizationServerUrl: discovery.authorizationServerUrl,
      metadata: discovery.authorizationServerMetadata as never,
      stored: storedClient,
      grant: 'device_code',
      redirectUri: undefined,
      scope,
      fetchFn: input.fetchFn,
    });
    if (fresh) await input.onClientRegistered?.({ client, discovery, resource, issuer });
    const tokens = await runDeviceFlow({
      server: input.server,
      discovery,
      client,
      scope,
      resource,
      fetchFn: input.fetchFn as typeof fetch,
      signal: deadline,
      now: input.now,
      show: (p) => input.prompt({ kind: 'device-code', ...p }),
      onPhase,
    });
    return { discovery, client, tokens, resource, issuer };
  }
  const { client, tokens } = await runAuthorizationCodeFlow({
    server: input.server,
    config: input.config,
    discovery,
    resource,
    scope,
    storedClient,
    fetchFn: input.fetchFn,
    receive: flow,
    noBrowser: input.noBrowser === 'paste' ? 'paste' : 'fail',
    openBrowser: input.openBrowser,
    input: input.input,
    prompt: input.prompt,
    now: input.now,
    deadline,
    onPhase,
    ...(input.onClientRegistered
      ? {
          onRegistered: (registered: StoredClient) =>
            input.onClientRegistered!({ client: registered, discovery, resource, issuer }),
        }
      : {}),
  });
  return { discovery, client, tokens, resource, issuer };
}
