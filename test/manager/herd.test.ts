import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OAuthManager } from '../../src/index.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer, type TestMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { FakeClock } from '../support/fake-clock.js';
import { connectV2, textOf } from '../support/mcp-client.js';
import { tempHome } from '../support/temp-home.js';

const HERD = 500;

describe('a herd of concurrent calls through the SDK v2 client', () => {
  let as: TestAuthorizationServer;
  let mcp: TestMcpServer;
  let home: { home: string; cleanup: () => Promise<void> };
  let manager: OAuthManager;
  let clock: FakeClock;

  beforeEach(async () => {
    as = await startAuthorizationServer();
    mcp = await startMcpServer({ authorizationServer: as.issuer });
    home = await tempHome();
    clock = new FakeClock();
    manager = new OAuthManager({
      home: home.home,
      clock,
      interactive: 'never',
      openBrowser: scriptedBrowserHook(),
    });
    manager.getOrBuildProvider('demo', mcp.url);
    await manager.login('demo');
    as.resetStats();
  });

  afterEach(async () => {
    await manager.close();
    await mcp.close();
    await as.close();
    await home.cleanup();
  });

  it(`${HERD} calls after the access token expired: all succeed, exactly 1 refresh request`, async () => {
    const provider = manager.getOrBuildProvider('demo', mcp.url);
    const client = await connectV2(mcp.url, provider);
    const before = await provider.token();
    clock.advance(3600_000 + 1);
    const results = await Promise.allSettled(
      Array.from({ length: HERD }, (_, i) =>
        client.callTool({ name: 'echo', arguments: { text: `call ${i}` } }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toEqual([]);
    expect(textOf((results[7] as PromiseFulfilledResult<unknown>).value)).toBe('call 7');
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.invalidGrant).toBe(0);
    expect(mcp.stats.toolCalls.echo).toBe(HERD);
    expect(await provider.token()).not.toBe(before);
    await client.close();
  });

  it(`${HERD} calls after the MCP server rejected the token early (the 401 path): exactly 1 refresh request`, async () => {
    const provider = manager.getOrBuildProvider('demo', mcp.url);
    const client = await connectV2(mcp.url, provider);
    const rejected = (await provider.token())!;
    mcp.rejectToken(rejected);
    const results = await Promise.allSettled(
      Array.from({ length: HERD }, (_, i) =>
        client.callTool({ name: 'echo', arguments: { text: `call ${i}` } }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(mcp.stats.unauthorized).toBeGreaterThanOrEqual(1);
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.invalidGrant).toBe(0);
    expect(mcp.stats.toolCalls.echo).toBe(HERD);
    expect(await provider.token()).not.toBe(rejected);
    // A late 401 for the already-replaced token adopts the new one: no second refresh.
    expect(await manager.handle401('demo', rejected)).toBe(true);
    expect(as.stats.refreshRequests).toBe(1);
    await client.close();
  });

  it('inside the skew window callers get the current token at once while one refresh runs', async () => {
    const provider = manager.getOrBuildProvider('demo', mcp.url);
    const current = await provider.token();
    clock.advance(3600_000 - 30_000); // 30 s before expiry, inside the 60 s skew
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.token()));
    expect(new Set(tokens)).toEqual(new Set([current]));
    // The background refresh lands (persisted, then installed) while callers keep getting the current token.
    await expect.poll(() => provider.token(), { timeout: 10_000 }).not.toBe(current);
    expect(as.stats.refreshRequests).toBe(1);
  });

  it('the standalone fetch injects the token and recovers a 401 once, keyed by the token it sent', async () => {
    const provider = manager.getOrBuildProvider('demo', mcp.url);
    const rejected = (await provider.token())!;
    mcp.rejectToken(rejected);
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        provider.fetch(mcp.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body,
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(as.stats.refreshRequests).toBe(1);
  });
});
