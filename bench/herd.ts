import { Client, type FetchLike, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { OAuthManager } from '../src/index.js';
import type { TestAuthorizationServer } from '../test/kit/authorization-server.js';
import type { TestMcpServer } from '../test/kit/mcp-server.js';
import { InMemorySdkProvider } from './sdk-baseline-provider.js';

export type HerdSubject =
  | 'mcp-oauth-manager (expiry)'
  | 'mcp-oauth-manager (401 wave)'
  | 'SDK alone (401 wave)';

export interface HerdRow {
  subject: HerdSubject;
  n: number;
  refreshRequests: number;
  invalidGrant: number;
  failedCalls: number;
  /** Interactive logins the run asked for: the SDK provider's redirects, the manager's needs-reauth events. */
  loginsDemanded: number;
  /** Wall time of the whole herd, first call to last settlement. */
  wallMs: number;
  /** Up to three distinct failure messages, for diagnosis. */
  errors: string[];
}

/**
 * A generous per-call timeout: with N = 10000 calls queued on 64 connections the last one waits
 * for most of the herd, and the SDK's default (60 s) would then count a slow loopback machine as
 * failed auth. A real host queueing that much sets its own.
 */
const CALL_TIMEOUT_MS = 300_000;

async function fire(client: Client, n: number): Promise<{ failed: number; errors: string[] }> {
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      client.callTool({ name: 'echo', arguments: { text: String(i) } }, { timeout: CALL_TIMEOUT_MS }),
    ),
  );
  const errors = new Set<string>();
  let failed = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    failed++;
    if (errors.size < 3) errors.add(String((r.reason as Error)?.message ?? r.reason).slice(0, 160));
  }
  return { failed, errors: [...errors] };
}

/**
 * The v2 client opens its standalone GET stream right after `connect()` resolves. Waiting for its
 * answer before the herd keeps it out of the count, so that N is exactly N tool calls for every
 * subject (otherwise the SDK baseline's N = 1 is really two racing 401s).
 */
function watchingStandaloneGet(base: FetchLike): { fetch: FetchLike; answered: Promise<void> } {
  let answered: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    answered = resolve;
  });
  const wrapped: FetchLike = async (input, init) => {
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    try {
      return await base(input, init);
    } finally {
      if (method === 'GET') answered();
    }
  };
  return {
    fetch: wrapped,
    answered: Promise.race([promise, new Promise<void>((r) => setTimeout(r, 2000).unref())]),
  };
}

/** Our manager: N concurrent calls after expiry (clock moved past it) or after the server rejected the token. */
export async function herdManager(input: {
  manager: OAuthManager;
  name: string;
  as: TestAuthorizationServer;
  mcp: TestMcpServer;
  n: number;
  mode: 'expiry' | '401';
  expire: () => void;
}): Promise<HerdRow> {
  const provider = input.manager.getOrBuildProvider(input.name, input.mcp.url);
  const client = new Client({ name: 'bench', version: '1' });
  // The manager was built with the pooled fetch, so provider.fetch goes through the same pool.
  // The wrapper only observes: provider.fetch still records which token each request carried.
  const watched = watchingStandaloneGet(provider.fetch);
  await client.connect(
    new StreamableHTTPClientTransport(new URL(input.mcp.url), {
      authProvider: provider,
      fetch: watched.fetch,
    }),
  );
  await watched.answered;
  if (input.mode === 'expiry') input.expire();
  else input.mcp.rejectToken((await provider.token())!);
  let loginsDemanded = 0;
  const onReauth = () => loginsDemanded++;
  input.manager.on('needs-reauth', onReauth);
  input.as.resetStats();
  const start = performance.now();
  const { failed, errors } = await fire(client, input.n);
  const wallMs = performance.now() - start;
  input.manager.off('needs-reauth', onReauth);
  await client.close();
  return {
    subject: input.mode === 'expiry' ? 'mcp-oauth-manager (expiry)' : 'mcp-oauth-manager (401 wave)',
    n: input.n,
    refreshRequests: input.as.stats.refreshRequests,
    invalidGrant: input.as.stats.invalidGrant,
    failedCalls: failed,
    loginsDemanded,
    wallMs,
    errors,
  };
}

/**
 * The SDK alone: the same herd with an in-memory OAuthClientProvider, after the server rejected
 * the token. The SDK has no notion of expiry ahead of the server: its transport sends whatever
 * `tokens()` holds, so "after expiry" is, for the SDK, exactly this wave of 401s.
 * The SDK's `console.warn` line per invalidated credential is counted, not printed.
 */
export async function herdSdk(input: {
  manager: OAuthManager;
  name: string;
  as: TestAuthorizationServer;
  mcp: TestMcpServer;
  fetch: FetchLike;
  n: number;
}): Promise<HerdRow & { sdkWarnings: number }> {
  // Start from a fresh, valid credential (a new grant) obtained by our login, copied into the SDK's provider.
  await input.manager.login(input.name);
  const record = await input.manager.store.get({ server: input.name });
  const tokens = record!.tokens!;
  const issuer = record!.binding.issuer;
  const provider = new InMemorySdkProvider(
    {
      access_token: tokens.accessToken,
      token_type: 'Bearer',
      refresh_token: tokens.refreshToken,
      expires_in: 3600,
      // Stamped as the SDK stamps what it saves itself (SEP-2352), so it does not warn about it.
      ...(issuer ? { issuer } : {}),
    } as never,
    { ...record!.client!.information, ...(issuer ? { issuer } : {}) } as never,
    {
      authorizationServerUrl: record!.discovery!.authorizationServerUrl,
      authorizationServerMetadata: record!.discovery!.authorizationServerMetadata as never,
      resourceMetadata: record!.discovery!.resourceMetadata as never,
    },
    record!.client!.redirectUri!,
  );
  const client = new Client({ name: 'bench-sdk', version: '1' });
  const watched = watchingStandaloneGet(input.fetch);
  await client.connect(
    new StreamableHTTPClientTransport(new URL(input.mcp.url), {
      authProvider: provider,
      fetch: watched.fetch,
    }),
  );
  await watched.answered;
  input.mcp.rejectToken(tokens.accessToken);
  input.as.resetStats();
  const warn = console.warn;
  let sdkWarnings = 0;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('[mcp-sdk]')) sdkWarnings++;
    else warn(...args);
  };
  let outcome: { failed: number; errors: string[] };
  const start = performance.now();
  try {
    outcome = await fire(client, input.n);
  } finally {
    console.warn = warn;
  }
  const wallMs = performance.now() - start;
  await client.close().catch(() => {});
  return {
    subject: 'SDK alone (401 wave)',
    n: input.n,
    refreshRequests: input.as.stats.refreshRequests,
    invalidGrant: input.as.stats.invalidGrant,
    failedCalls: outcome.failed,
    loginsDemanded: provider.redirects,
    wallMs,
    errors: outcome.errors,
    sdkWarnings,
  };
}
