import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { OAuthManager } from '../../src/index.js';
import { createV1SseTransport, createV1StreamableHttpTransport } from '../../src/sdk/v1.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer, type TestMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { FakeClock } from '../support/fake-clock.js';
import { textOf } from '../support/mcp-client.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';

const HERD = 500;
const cleanups = useCleanups();

async function bed(
  transport: 'streamable-http' | 'sse' = 'streamable-http',
  eras?: 'both' | '2025' | '2026',
) {
  const as: TestAuthorizationServer = await startAuthorizationServer();
  cleanups.push(() => as.close());
  const mcp: TestMcpServer = await startMcpServer({ authorizationServer: as.issuer, transport, eras });
  cleanups.push(() => mcp.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const clock = new FakeClock();
  const manager = new OAuthManager({ home, clock, interactive: 'never', openBrowser: scriptedBrowserHook() });
  cleanups.push(() => manager.close());
  const provider = manager.getOrBuildProvider('demo', mcp.url);
  await manager.login('demo');
  const client = new Client({ name: 'v1-host', version: '1.0.0' });
  await client.connect(
    transport === 'sse'
      ? createV1SseTransport(provider, mcp.url)
      : createV1StreamableHttpTransport(provider, mcp.url),
  );
  cleanups.push(() => client.close());
  as.resetStats();
  return { as, mcp, clock, provider, client };
}

/** Like `bed` up to the login; the v1 client's connect is left to the test. */
async function loggedIn(eras: 'both' | '2025' | '2026') {
  const as: TestAuthorizationServer = await startAuthorizationServer();
  cleanups.push(() => as.close());
  const mcp: TestMcpServer = await startMcpServer({ authorizationServer: as.issuer, eras });
  cleanups.push(() => mcp.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const manager = new OAuthManager({ home, interactive: 'never', openBrowser: scriptedBrowserHook() });
  cleanups.push(() => manager.close());
  const provider = manager.getOrBuildProvider('demo', mcp.url);
  await manager.login('demo');
  return { mcp, provider };
}

const herd = (client: Client) =>
  Promise.allSettled(
    Array.from({ length: HERD }, (_, i) => client.callTool({ name: 'echo', arguments: { text: String(i) } })),
  );

describe('the v1 SDK adapter (mcp-oauth-manager/sdk-v1)', () => {
  it(`${HERD} concurrent calls through the v1 client after expiry: all succeed, exactly 1 refresh request`, async () => {
    const { as, mcp, clock, client } = await bed();
    clock.advance(3600_000 + 1);
    const results = await herd(client);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.invalidGrant).toBe(0);
    expect(mcp.stats.toolCalls.echo).toBe(HERD);
  });

  it(`${HERD} concurrent calls through the v1 client after a 401 wave: all succeed, exactly 1 refresh request`, async () => {
    const { as, mcp, provider, client } = await bed();
    mcp.rejectToken((await provider.token())!);
    const results = await herd(client);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(mcp.stats.unauthorized).toBeGreaterThanOrEqual(1);
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.invalidGrant).toBe(0);
  });

  it('the v1 SSE transport is authenticated by the same fetch', async () => {
    const { client } = await bed('sse');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'v1 sse' } }))).toBe('v1 sse');
  });

  it('speaks only the 2025 wire: it works with a 2025-era server, and a 2026-07-28-only server refuses its initialize', async () => {
    const { client, mcp } = await bed('streamable-http', '2025');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'v1 2025' } }))).toBe('v1 2025');
    expect(mcp.stats.methods['server/discover']).toBeUndefined();

    const modern = await loggedIn('2026');
    const v1 = new Client({ name: 'v1-host', version: '1.0.0' });
    await expect(
      v1.connect(createV1StreamableHttpTransport(modern.provider, modern.mcp.url)),
    ).rejects.toThrow();
    await v1.close();
    expect(modern.mcp.stats.methods).toEqual({ initialize: 1 });
  });
});
