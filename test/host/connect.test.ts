import { describe, expect, it } from 'vitest';
import {
  CircuitOpenError,
  connect,
  InsufficientScopeError,
  NeedsReauthError,
  type OAuthManager,
  type OAuthManagerOptions,
} from '../../src/index.js';
import type { McpTestServerOptions } from '../kit/mcp-server.js';
import { startChild } from '../support/children.js';
import { FakeClock } from '../support/fake-clock.js';
import { textOf } from '../support/mcp-client.js';
import { startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

const bed = (
  options: {
    mcp?: Partial<McpTestServerOptions>;
    manager?: Partial<OAuthManagerOptions>;
    proxy?: boolean;
    login?: boolean;
  } = {},
) =>
  startBed(cleanups, {
    ...(options.proxy ? { proxy: 'mcp' as const } : {}),
    mcp: options.mcp ?? {},
    manager: options.manager ?? {},
    login: options.login ?? true,
  });

async function open(manager: OAuthManager, url: string, extra: Parameters<typeof connect>[1] = {}) {
  const client = await connect('demo', { manager, url, ...extra });
  cleanups.push(() => client.close());
  return client;
}

describe('connect()', () => {
  it('returns a connected v2 client over Streamable HTTP, and falls back to SSE for an SSE-only server', async () => {
    const { manager, mcp } = await bed();
    const client = await open(manager, mcp.url);
    expect(client.transportKind).toBe('streamable-http');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');

    const sse = await bed({ mcp: { transport: 'sse' } });
    const sseClient = await open(sse.manager, sse.mcp.url);
    expect(sseClient.transportKind).toBe('sse');
    expect(textOf(await sseClient.callTool({ name: 'echo', arguments: { text: 'over sse' } }))).toBe(
      'over sse',
    );
  });

  it('reads the URL from config.yaml when none is given, and says how to add an unknown server', async () => {
    const { manager, mcp, home } = await bed();
    const { addServer } = await import('../../src/config/index.js');
    await addServer(home, { name: 'demo', url: mcp.url });
    const client = await connect('demo', { manager });
    cleanups.push(() => client.close());
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'from config' } }))).toBe(
      'from config',
    );
    await expect(connect('nope', { manager })).rejects.toThrow(/mcp-oauth servers add nope/);
  });
});

describe('retry semantics', () => {
  it('a request rejected with 401 is retried once after recovery; the tool ran exactly once', async () => {
    const { manager, mcp, as } = await bed();
    const client = await open(manager, mcp.url);
    mcp.rejectToken(await manager.accessToken('demo'));
    const result = await client.callTool({ name: 'count', arguments: {} });
    expect(textOf(result)).toBe('1');
    expect(mcp.stats.toolCalls.count).toBe(1);
    expect(mcp.stats.unauthorized).toBeGreaterThanOrEqual(1);
    expect(as.stats.refreshRequests).toBe(1);
  });

  it('a request that failed after the server received it is never replayed', async () => {
    const { manager, mcp, proxy } = await bed({ proxy: true });
    const client = await open(manager, mcp.url);
    expect(textOf(await client.callTool({ name: 'count', arguments: {} }))).toBe('1'); // warm: tools listed
    proxy!.setFault('drop-response', { times: 1 });
    await expect(client.callTool({ name: 'count', arguments: {} })).rejects.toThrow();
    expect(mcp.stats.toolCalls.count).toBe(2);
    const next = await client.callTool({ name: 'count', arguments: {} });
    expect(textOf(next)).toBe('3');
    expect(mcp.stats.toolCalls.count).toBe(3);
  });
});

describe('step-up on 403 insufficient_scope', () => {
  const stepUpServer = { scopesSupported: ['mcp:read'], toolScopes: { whoami: ['mcp:read', 'mcp:write'] } };

  it('authorizes again for the union of granted and required scopes, then the call runs once', async () => {
    const { manager, mcp, as, opened } = await bed({ mcp: stepUpServer, manager: { interactive: 'always' } });
    const client = await open(manager, mcp.url);
    expect((await manager.status('demo')).scopes).not.toContain('mcp:write');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'ok' } }))).toBe('ok');
    const whoami = await client.callTool({ name: 'whoami', arguments: {} });
    expect(textOf(whoami)).toContain('mcp:write');
    expect(as.stats.authorizations).toBe(1);
    expect(opened.opened).toBe(2);
    expect(mcp.stats.toolCalls.whoami).toBe(1);
    const scopes = (await manager.status('demo')).scopes;
    expect(scopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
  });

  it('without permission to prompt: NeedsReauthError naming the missing scopes, no authorization', async () => {
    const { manager, mcp, as } = await bed({ mcp: stepUpServer });
    const client = await open(manager, mcp.url);
    const error = await client.callTool({ name: 'whoami', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeedsReauthError);
    expect((error as Error).message).toContain('mcp:write');
    expect(as.stats.authorizations).toBe(0);
    expect(mcp.stats.toolCalls.whoami ?? 0).toBe(0);
  });

  it('a scope the server never grants: bounded authorizations, then InsufficientScopeError; the tool never ran', async () => {
    const { manager, mcp, as } = await bed({
      mcp: { scopesSupported: ['mcp:read'], toolScopes: { count: ['mcp:admin'] } },
      manager: { interactive: 'always' },
    });
    const client = await open(manager, mcp.url);
    const error = await client.callTool({ name: 'count', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientScopeError);
    // One step-up; its grant lacks the scope, so the refusal is noted (test/security/step-up-loop.test.ts).
    expect(as.stats.authorizations).toBe(1);
    expect(mcp.stats.toolCalls.count ?? 0).toBe(0);
    expect((error as InsufficientScopeError).missingScopes).toEqual(['mcp:admin']);
  });
});

describe('circuit breaker', () => {
  it('opens after 3 server failures, fails fast, probes once after the cooldown, and a credential change closes it', async () => {
    const clock = new FakeClock();
    const { manager, mcp, proxy } = await bed({ proxy: true, manager: { clock } });
    const client = await open(manager, mcp.url, { breaker: { threshold: 3, cooldownMs: 10_000 } });
    proxy!.setFault('status500');
    for (let i = 0; i < 3; i++)
      await expect(client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow();
    const sent = proxy!.stats.requests;
    await expect(client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toBeInstanceOf(
      CircuitOpenError,
    );
    expect(proxy!.stats.requests).toBe(sent);
    expect(client.circuitState).toBe('open');
    clock.advance(10_001);
    expect(client.circuitState).toBe('half-open');
    await expect(client.callTool({ name: 'echo', arguments: { text: 'probe' } })).rejects.toThrow(); // probe fails
    expect(proxy!.stats.requests).toBe(sent + 1);
    expect(client.circuitState).toBe('open'); // doubled cooldown
    clock.advance(10_001);
    expect(client.circuitState).toBe('open');
    proxy!.setFault('pass');
    await manager.refreshNow('demo'); // a credential change resets the breaker at once
    expect(client.circuitState).toBe('closed');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'back' } }))).toBe('back');
  });
});

describe('needs-reauth as a state, and recovery from another process', () => {
  it('after a logout elsewhere calls fail fast; a login elsewhere brings the client back without a restart', async () => {
    const { manager, mcp, home } = await bed();
    const client = await open(manager, mcp.url);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
    const other = await startChild({ CHILD_HOME: home, CHILD_MCP_URL: mcp.url });
    cleanups.push(() => other.stop());
    const changed = new Promise((r) => manager.once('credentials-changed', r));
    await other.request({ type: 'logout' }, 'logged-out');
    await changed;
    expect((await manager.status('demo')).state).toBe('logged_out');
    const requests = mcp.stats.requests;
    await expect(client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toBeInstanceOf(
      NeedsReauthError,
    );
    expect(mcp.stats.requests).toBe(requests); // fail fast: nothing sent
    const restored = new Promise((r) => manager.once('reconnect-required', r));
    await other.request({ type: 'login' }, 'logged-in');
    await restored;
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
  }, 60_000);

  it('with login allowed, the first call starts one login and concurrent calls wait for it', async () => {
    const { manager, mcp, as, opened } = await bed({ login: false, manager: { interactive: 'always' } });
    const client = await open(manager, mcp.url);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: String(i) } })),
    );
    expect(results).toHaveLength(10);
    expect(opened.opened).toBe(1);
    expect(as.stats.authorizations).toBe(1);
  });
});
