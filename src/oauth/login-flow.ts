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
import type { OpenBrowser } from './browser.js';
import { chooseClient } from './client-identity.js';
import { runDeviceFlow } from './device-flow.js';
import { discover, insecureEndpoint, issuerOf, resourceMismatch, resourceOf } from './discovery.js';
import { selectScope } from './scope-selection.js';

/** What a login asks its caller to show the person: the code flow's prompts, or a device code. */
export type FlowPrompt =
  | { kind: 'open-url'; url: string; sshHint?: string }
  | { kind: 'paste-url'; url: string }
  | { kind: 'paste-ignored'; reason: string }
  | {
      kind: 'device-code';
      verificationUri: string;
      userCode: string;
      verificationUriComplete?: string;
      expiresInSeconds: number;
    };

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
 * metadata naming another resource, scope selection, client identity (a stored client only if
 * registered with the same issuer), then the authorization code flow (browser or paste-back) or
 * the device flow. Any failure is a LoginError. Returns what to commit; stores nothing.
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
  /** An exact scope to request (step-up), overriding scope selection. */
  scope?: string;
  resourceMetadataUrl?: URL;
  signal?: AbortSignal;
}): Promise<LoginFlowResult> {
  const timeoutMs = loginTimeoutMs(input.config);
  const deadline = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(input.signal ? [input.signal] : [])]);
  try {
    const discovery = await discover(input.serverUrl, {
      fetchFn: input.fetchFn,
      ...(input.resourceMetadataUrl ? { resourceMetadataUrl: input.resourceMetadataUrl } : {}),
    });
    const insecure = insecureEndpoint(discovery);
    if (insecure) {
      throw new LoginError(
        input.server,
        `the authorization server's ${insecure} is not https (only loopback hosts may use http)`,
      );
    }
    const mismatch = resourceMismatch(input.serverUrl, discovery);
    if (mismatch) throw new LoginError(input.server, `${mismatch}; refusing to ask for a token for it`);
    const issuer = issuerOf(discovery);
    const resource = resourceOf(input.serverUrl, discovery);
    const scope = input.scope ?? selectScope(input.config, discovery, input.challengeScope);
    // A client registered with another authorization server is never reused.
    const storedClient = input.existing?.binding.issuer === issuer ? input.existing.client : undefined;
    if (input.flow === 'device') {
      const { client } = await chooseClient({
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
      receive: input.flow,
      openBrowser: input.openBrowser,
      input: input.input,
      prompt: input.prompt,
      now: input.now,
      deadline,
    });
    return { discovery, client, tokens, resource, issuer };
  } catch (error) {
    if (error instanceof McpOAuthError) throw error;
    const detail =
      deadline.aborted && !input.signal?.aborted
        ? `it did not finish within ${timeoutMs / 1000} s (oauth.timeout)`
        : error instanceof Error
          ? error.message
          : String(error);
    throw new LoginError(input.server, detail, { cause: error });
  }
}
