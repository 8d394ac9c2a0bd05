import { Client, type FetchLike, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { OAuthManager } from '../src/index.js';
import type { TestAuthorizationServer } from '../test/kit/authorization-server.js';
import type { TestMcpServer } from '../test/kit/mcp-server.js';
import { InMemorySdkProvider } from './sdk-baseline-provider.js';

export interface HerdRow {
  subject: 'mcp-oauth-manager (expiry)' | 'mcp-oauth-manager (401 wave)' | 'SDK alone (401 wave)';
  n: number;
  refreshRequests: number;
  invalidGrant: number;
  failedCalls: number;
  wallMs: number;
}

async function fire(client: Client, n: number): Promise<number> {
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => client.callTool({ name: 'echo', arguments: { text: String(i) } })),
  );
  return results.filter((r) => r.status === 'rejected').length;
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
  await client.connect(
    new StreamableHTTPClientTransport(new URL(input.mcp.url), {
      authProvider: provider,
      fetch: provider.fetch,
    }),
  );
  if (input.mode === 'expiry') input.expire();
  else input.mcp.rejectToken((await provider.token())!);
  input.as.resetStats();
  const start = performance.now();
  const failedCalls = await fire(client, input.n);
  const wallMs = performance.now() - start;
  await client.close();
  return {
    subject: input.mode === 'expiry' ? 'mcp-oauth-manager (expiry)' : 'mcp-oauth-manager (401 wave)',
    n: input.n,
    refreshRequests: input.as.stats.refreshRequests,
    invalidGrant: input.as.stats.invalidGrant,
    failedCalls,
    wallMs,
  };
}

/** The SDK alone: the same herd with an in-memory OAuthClientProvider, after the server rejected the token. */
export async function herdSdk(input: {
  manager: OAuthManager;
  name: string;
  as: TestAuthorizationServer;
  mcp: TestMcpServer;
  fetch: FetchLike;
  n: number;
}): Promise<HerdRow> {
  // Start from a fresh, valid credential obtained by our login, copied into the SDK's provider.
  await input.manager.login(input.name);
  const record = await input.manager.store.get({ server: input.name });
  const tokens = record!.tokens!;
  const provider = new InMemorySdkProvider(
    {
      access_token: tokens.accessToken,
      token_type: 'Bearer',
      refresh_token: tokens.refreshToken,
      expires_in: 3600,
    },
    record!.client!.information as never,
    {
      authorizationServerUrl: record!.discovery!.authorizationServerUrl,
      authorizationServerMetadata: record!.discovery!.authorizationServerMetadata as never,
      resourceMetadata: record!.discovery!.resourceMetadata as never,
    },
    record!.client!.redirectUri!,
  );
  const client = new Client({ name: 'bench-sdk', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(input.mcp.url), { authProvider: provider, fetch: input.fetch }),
  );
  input.mcp.rejectToken(tokens.accessToken);
  input.as.resetStats();
  const start = performance.now();
  const failedCalls = await fire(client, input.n);
  const wallMs = performance.now() - start;
  await client.close().catch(() => {});
  return {
    subject: 'SDK alone (401 wave)',
    n: input.n,
    refreshRequests: input.as.stats.refreshRequests,
    invalidGrant: input.as.stats.invalidGrant,
    failedCalls,
    wallMs,
  };
}
