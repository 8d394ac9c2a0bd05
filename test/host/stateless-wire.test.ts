/**
 * connect() on the MCP 2026-07-28 stateless wire and on the older ones: the SDK's version
 * negotiation (`server/discover`, then `initialize`, then HTTP+SSE), with the guarantees connect()
 * gives on every wire (401 recovered once, step-up, breaker, reconnect on credential change).
 * The kit's MCP server serves the 2026-07-28 era through the SDK 2.4.0 server entry
 * (`createMcpHandler`) and the 2025 era through its stateless Streamable HTTP transport.
 */
import { describe, expect, it } from 'vitest';
import { CircuitOpenError, connect, NeedsReauthError, type OAuthManager } from '../../src/index.js';
import { textOf } from '../support/mcp-client.js';
import { type BedOptions, startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

/** Sized for 2 cores: every call is a real HTTP request through the SDK client and server. */
const HERD = 1000;

const bed = (options: BedOptions = {}) =>
  startBed(cleanups, { mcp: {}, manager: {}, login: true, ...options });

async function open(manager: OAuthManager, url: string, extra: Parameters<typeof connect>[1] = {}) {
  const client = await connect('demo', { manager, url, ...extra });
  cleanups.push(() => client.close());
  return client;
}

describe('connect() picks the wire the server speaks', () => {
  it('a 2026-07-28 server: server/discover, no initialize, no session; a tool call works', async () => {
    const { manager, mcp } = await bed();
    const client = await open(manager, mcp.url);
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.transportKind).toBe('streamable-http');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    expect(mcp.stats.methods['server/discover']).toBe(1);
    expect(mcp.stats.methods.initialize).toBeUndefined();
    expect(mcp.stats.toolCalls.echo).toBe(1);
  });

  it('a server that speaks only 2026-07-28 (it refuses initialize): connected, not sent to SSE', async () => {
    const { manager, mcp } = await bed({ mcp: { eras: '2026' } });
    const client = await open(manager, mcp.url);
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.transportKind).toBe('streamable-http');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'modern only' } }))).toBe(
      'modern only',
    );
    expect(mcp.stats.methods.initialize).toBeUndefined();
  });

  it('a 2025-era server: the probe finds no 2026 answer, initialize follows on the same endpoint', async () => {
    const { manager, mcp } = await bed({ mcp: { eras: '2025' } });
    const client = await open(manager, mcp.url);
    expect(client.getProtocolEra()).toBe('legacy');
    expect(client.transportKind).toBe('streamable-http');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: '2025' } }))).toBe('2025');
    expect(mcp.stats.methods['server/discover']).toBe(1);
    expect(mcp.stats.methods.initialize).toBe(1);
  });

  it('an HTTP+SSE server: falls back to SSE, which is never probed', async () => {
    const { manager, mcp } = await bed({ mcp: { transport: 'sse' } });
    const client = await open(manager, mcp.url);
    expect(client.transportKind).toBe('sse');
    expect(client.getProtocolEra()).toBe('legacy');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'sse' } }))).toBe('sse');
    // Messages the SSE session carried: initialize first, no server/discover.
    expect(mcp.stats.methods.initialize).toBe(1);
    expect(mcp.stats.methods['server/discover']).toBeUndefined();
  });

  it("the host's own mode wins: { mode: 'legacy' } never probes", async () => {
    const { manager, mcp } = await bed();
    const client = await open(manager, mcp.url, {
      clientOptions: { versionNegotiation: { mode: 'legacy' } },
    });
    expect(client.getProtocolEra()).toBe('legacy');
    expect(mcp.stats.methods['server/discover']).toBeUndefined();
    expect(mcp.stats.methods.initialize).toBe(1);
  });
});

describe('a 401 or 403 on the probe is an authorization event, never an older server', () => {
  it('a rejected token: one refresh, the probe is sent again, modern; no initialize, no SSE', async () => {
    const { manager, mcp, as } = await bed();
    mcp.rejectToken(await manager.accessToken('demo'));
    const client = await open(manager, mcp.url);
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.transportKind).toBe('streamable-http');
    expect(as.stats.refreshRequests).toBe(1);
    expect(mcp.stats.unauthorized).toBe(1);
    expect(mcp.stats.methods['server/discover']).toBe(2);
    expect(mcp.stats.methods.initialize).toBeUndefined();
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
  });

  it('no credential and login allowed: exactly one login, then modern', async () => {
    const { manager, mcp, as, opened } = await bed({ login: false, manager: { interactive: 'always' } });
    const client = await open(manager, mcp.url);
    expect(client.getProtocolEra()).toBe('modern');
    expect(opened.opened).toBe(1);
    expect(as.stats.authorizations).toBe(1);
    expect(mcp.stats.methods['server/discover']).toBe(2);
    expect(mcp.stats.methods.initialize).toBeUndefined();
  });

  it('no credential and no login allowed: NeedsReauthError after one bare probe (no initialize, no SSE)', async () => {
    const { manager, mcp, as } = await bed({ login: false });
    const error = await connect('demo', { manager, url: mcp.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeedsReauthError);
    // Never logged in: the probe goes out without a credential (a server that needs no
    // authentication would answer it: the no_auth case); this one answers 401, and that is all.
    expect(mcp.stats.requests).toBe(1);
    expect(mcp.stats.unauthorized).toBe(1);
    expect(as.stats.authorizations).toBe(0);
  });

  it('a token the server keeps refusing: the 401 error, no fallback to initialize or SSE', async () => {
    const { manager, mcp, as } = await bed();
    mcp.rejectAllTokensIssuedBefore(Number.MAX_SAFE_INTEGER);
    const error = await connect('demo', { manager, url: mcp.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(as.stats.refreshRequests).toBe(1); // the 401 was recovered once
    expect(mcp.stats.methods).toEqual({ 'server/discover': 2 });
    expect(mcp.stats.requests).toBe(2);
  });

  it('a 403 insufficient_scope on the probe, no login allowed: NeedsReauthError naming the scope, no fallback', async () => {
    const { manager, mcp, as } = await bed({
      mcp: { requiredScopes: ['mcp:write'], scopesSupported: ['mcp:read'] },
    });
    const error = await connect('demo', { manager, url: mcp.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeedsReauthError);
    expect((error as Error).message).toContain('mcp:write');
    expect(mcp.stats.methods).toEqual({ 'server/discover': 1 });
    expect(mcp.stats.requests).toBe(1);
    expect(as.stats.authorizations).toBe(0);
  });

  it('a 403 insufficient_scope on the probe, login allowed: one step-up, then modern', async () => {
    const { manager, mcp, as, opened } = await bed({
      mcp: { requiredScopes: ['mcp:write'], scopesSupported: ['mcp:read'] },
      manager: { interactive: 'always' },
    });
    const client = await open(manager, mcp.url);
    expect(client.getProtocolEra()).toBe('modern');
    expect(as.stats.authorizations).toBe(1);
    expect(opened.opened).toBe(2); // the login of the bed, and the step-up
    expect((await manager.status('demo')).scopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    expect(mcp.stats.methods).toEqual({ 'server/discover': 2 });
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'scoped' } }))).toBe('scoped');
  });
});

describe('the guarantees on the 2026-07-28 wire', () => {
  it('step-up: one authorization for the union of scopes, the tool runs once', async () => {
    const { manager, mcp, as, opened } = await bed({
      mcp: { scopesSupported: ['mcp:read'], toolScopes: { whoami: ['mcp:read', 'mcp:write'] } },
      manager: { interactive: 'always' },
    });
    const client = await open(manager, mcp.url);
    expect(client.getProtocolEra()).toBe('modern');
    const whoami = await client.callTool({ name: 'whoami', arguments: {} });
    expect(textOf(whoami)).toContain('mcp:write');
    expect(as.stats.authorizations).toBe(1);
    expect(opened.opened).toBe(2);
    expect(mcp.stats.toolCalls.whoami).toBe(1);
    expect(mcp.stats.methods.initialize).toBeUndefined();
  });

  it('breaker: opens after 3 server failures, a credential change closes it', async () => {
    const { manager, mcp, proxy } = await bed({ proxy: 'mcp' });
    const client = await open(manager, mcp.url, { breaker: { threshold: 3, cooldownMs: 10_000 } });
    expect(client.getProtocolEra()).toBe('modern');
    proxy!.setFault('status500');
    for (let i = 0; i < 3; i++)
      await expect(client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow();
    await expect(client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toBeInstanceOf(
      CircuitOpenError,
    );
    proxy!.setFault('pass');
    await manager.refreshNow('demo');
    expect(client.circuitState).toBe('closed');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'back' } }))).toBe('back');
  });

  it('a new login reconnects without probing again: the verdict is reused on each wire', async () => {
    for (const eras of ['both', '2025'] as const) {
      const { manager, mcp } = await bed({ mcp: { eras } });
      const client = await open(manager, mcp.url);
      const era = client.getProtocolEra();
      expect(era).toBe(eras === 'both' ? 'modern' : 'legacy');
      const reconnect = new Promise((r) => manager.once('reconnect-required', r));
      await manager.login('demo');
      await reconnect;
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: eras } }))).toBe(eras);
      expect(client.getProtocolEra()).toBe(era);
      expect(mcp.stats.methods['server/discover']).toBe(1);
      // A 2025 session is rebuilt with initialize; the stateless wire has nothing to rebuild.
      expect(mcp.stats.methods.initialize).toBe(eras === 'both' ? undefined : 2);
    }
  });
});

describe(`${HERD} calls after the access token expired: exactly 1 refresh on each wire`, () => {
  for (const eras of ['both', '2025'] as const) {
    it(`${eras === 'both' ? '2026-07-28' : '2025'} wire`, async () => {
      const { manager, mcp, as, clock } = await bed({ mcp: { eras } });
      const client = await open(manager, mcp.url);
      expect(client.getProtocolEra()).toBe(eras === 'both' ? 'modern' : 'legacy');
      const before = await manager.accessToken('demo');
      as.resetStats();
      clock.advance(3600_000 + 1);
      const results = await Promise.allSettled(
        Array.from({ length: HERD }, (_, i) =>
          client.callTool({ name: 'echo', arguments: { text: `call ${i}` } }),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(textOf((results[7] as PromiseFulfilledResult<unknown>).value)).toBe('call 7');
      expect(as.stats.refreshRequests).toBe(1);
      expect(as.stats.invalidGrant).toBe(0);
      expect(mcp.stats.toolCalls.echo).toBe(HERD);
      expect(await manager.accessToken('demo')).not.toBe(before);
    }, 120_000);
  }
});
