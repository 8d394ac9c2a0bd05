/**
 * The scopes an authorization request asks for (MCP 2026-07-28), on the kit's real servers:
 * `offline_access` only where the authorization server lists it in `scopes_supported` (SEP-2207),
 * a step-up asks for the union of the granted and the challenged scopes (SEP-2350), and one call
 * starts at most 2 step-ups (3 authorizations counting the one it started from).
 */
import { describe, expect, it } from 'vitest';
import { MAX_STEP_UPS_PER_CALL } from '../../src/host/managed-client.js';
import { connect, InsufficientScopeError, type OAuthManager } from '../../src/index.js';
import type { OpenBrowser } from '../../src/oauth/browser.js';
import type { AuthorizationServerOptions } from '../kit/authorization-server.js';
import type { McpTestServerOptions } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { textOf } from '../support/mcp-client.js';
import { startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

/**
 * The kit's servers, logged in, with a browser that records the `scope` of every authorization
 * request it is sent to (what the authorization server receives), as a sorted list of words.
 */
async function bed(options: { as?: AuthorizationServerOptions; mcp?: Partial<McpTestServerOptions> } = {}) {
  const requested: string[][] = [];
  const browser = scriptedBrowserHook();
  const openBrowser: OpenBrowser = (url) => {
    requested.push(words(new URL(url).searchParams.get('scope')));
    return browser(url);
  };
  const parts = await startBed(cleanups, {
    ...options,
    manager: { interactive: 'always', openBrowser },
  });
  return { ...parts, requested };
}

const words = (scope: string | null | undefined) => (scope ?? '').split(' ').filter(Boolean).sort();

async function open(manager: OAuthManager, url: string) {
  const client = await connect('demo', { manager, url });
  cleanups.push(() => client.close());
  return client;
}

async function advertised(issuer: string): Promise<string[]> {
  const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  return ((await response.json()) as { scopes_supported: string[] }).scopes_supported;
}

describe('offline_access only where the authorization server lists it (SEP-2207)', () => {
  it('listed in scopes_supported: the authorization request asks for it', async () => {
    const { as, requested } = await bed();
    expect(await advertised(as.issuer)).toContain('offline_access');
    expect(requested).toEqual([['mcp:read', 'mcp:write', 'offline_access']]);
  });

  it('not listed: the authorization request does not ask for it', async () => {
    const { as, requested, manager } = await bed({ as: { offlineAccess: false } });
    expect(await advertised(as.issuer)).not.toContain('offline_access');
    expect(requested).toEqual([['mcp:read', 'mcp:write']]);
    expect((await manager.status('demo')).state).toBe('valid');
  });
});

describe('step-up asks for the granted scopes plus the challenged ones (SEP-2350)', () => {
  // The resource advertises mcp:read; whoami answers 403 naming only the scope it lacks (a delta).
  const deltaChallenge = { scopesSupported: ['mcp:read'], toolScopes: { whoami: ['mcp:write'] } };

  it('a challenge naming only the missing scope: the step-up asks for granted ∪ challenged, and the call runs once', async () => {
    const { manager, mcp, as, requested } = await bed({ mcp: deltaChallenge });
    expect((await manager.status('demo')).scopes).toEqual(['mcp:read']);
    const client = await open(manager, mcp.url);
    const whoami = await client.callTool({ name: 'whoami', arguments: {} });
    expect(JSON.parse(textOf(whoami)).scope.split(' ').sort()).toEqual(['mcp:read', 'mcp:write']);
    expect(requested[1]).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    expect(as.stats.authorizations).toBe(1);
    expect(mcp.stats.toolCalls.whoami).toBe(1);
  });

  it('the step-up keeps offline_access where the authorization server lists it', async () => {
    const { manager, mcp, requested } = await bed({ mcp: deltaChallenge });
    const client = await open(manager, mcp.url);
    await client.callTool({ name: 'whoami', arguments: {} });
    expect(requested).toEqual([
      ['mcp:read', 'offline_access'],
      ['mcp:read', 'mcp:write', 'offline_access'],
    ]);
  });

  it('and does not add offline_access where it is not listed', async () => {
    const { manager, mcp, requested } = await bed({ as: { offlineAccess: false }, mcp: deltaChallenge });
    const client = await open(manager, mcp.url);
    await client.callTool({ name: 'whoami', arguments: {} });
    expect(requested).toEqual([['mcp:read'], ['mcp:read', 'mcp:write']]);
  });

  it('a server that asks for one more scope after every step-up: 2 step-ups in one call, then InsufficientScopeError', async () => {
    let authorizations = () => 0;
    const { manager, mcp, as, requested } = await bed({
      as: { scopes: ['mcp:read', 'mcp:s1', 'mcp:s2', 'mcp:s3'] },
      mcp: {
        scopesSupported: ['mcp:read'],
        // Read by the server on every request: after n step-ups, it wants mcp:s(n+1).
        toolScopes: {
          get whoami() {
            return [`mcp:s${authorizations() + 1}`];
          },
        },
      },
    });
    authorizations = () => as.stats.authorizations;
    const client = await open(manager, mcp.url);
    const error = await client.callTool({ name: 'whoami', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect((error as Error).message).toContain(
      `gave up after ${MAX_STEP_UPS_PER_CALL + 1} authorization requests`,
    );
    expect((error as InsufficientScopeError).missingScopes).toEqual(['mcp:s3']);
    expect(as.stats.authorizations).toBe(MAX_STEP_UPS_PER_CALL);
    expect(requested.slice(1)).toEqual([
      ['mcp:read', 'mcp:s1', 'offline_access'],
      ['mcp:read', 'mcp:s1', 'mcp:s2', 'offline_access'],
    ]);
    expect(mcp.stats.toolCalls.whoami ?? 0).toBe(0);
  });
});
