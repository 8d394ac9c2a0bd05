import { describe, expect, it } from 'vitest';
import { LoginError, OAuthManager } from '../../src/index.js';
import { resourceMismatch } from '../../src/oauth/discovery.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { FakeClock } from '../support/fake-clock.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { startScriptedHttpServer } from './support/scripted-http-server.js';

// A tenant's MCP server at /tenants/evil/mcp publishes protected-resource metadata whose
// `resource` (the token's audience) is broader than itself, or another tenant's. The kit's real
// authorization server would issue a token for whatever resource is asked, so only the client's
// check stands between the tenant and a token valid for the whole origin.

const cleanups = useCleanups();
const PRM = '/.well-known/oauth-protected-resource';

async function tenantLogin(resource: (origin: string) => string, where: 'path-aware' | 'root') {
  const as = await startAuthorizationServer();
  cleanups.push(() => as.close());
  const server = await startScriptedHttpServer();
  cleanups.push(() => server.close());
  const prm = { resource: resource(server.url), authorization_servers: [as.issuer] };
  server.on(where === 'root' ? PRM : `${PRM}/tenants/evil/mcp`, { json: prm });
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const manager = new OAuthManager({
    home,
    clock: new FakeClock(),
    interactive: 'never',
    openBrowser: scriptedBrowserHook(),
  });
  cleanups.push(() => manager.close());
  manager.getOrBuildProvider('demo', `${server.url}/tenants/evil/mcp`, {});
  const outcome = await manager.login('demo').then(
    (r) => r,
    (e: unknown) => e as Error,
  );
  return { outcome, as };
}

describe('protected-resource metadata must identify the MCP server (RFC 9728 §3.3, §7.3)', () => {
  it.each([
    ['the whole origin, from the path-aware document', (o: string) => o, 'path-aware'],
    ['the whole origin with a slash, from the path-aware document', (o: string) => `${o}/`, 'path-aware'],
    ['a parent path', (o: string) => `${o}/tenants`, 'path-aware'],
    ['its own URL plus ?tenant=victim', (o: string) => `${o}/tenants/evil/mcp?tenant=victim`, 'path-aware'],
    ['its own URL plus a fragment', (o: string) => `${o}/tenants/evil/mcp#x`, 'path-aware'],
    ['another tenant', (o: string) => `${o}/tenants/victim/mcp`, 'path-aware'],
    ['a parent path, from the root document', (o: string) => `${o}/tenants`, 'root'],
  ] as const)('refuses %s: LoginError, no token requested', async (_, resource, where) => {
    const { outcome, as } = await tenantLogin(resource, where);
    expect(outcome).toBeInstanceOf(LoginError);
    expect((outcome as Error).message).toMatch(/protected-resource metadata names the resource/);
    expect(as.stats.tokenRequests).toBe(0);
  });

  it.each([
    ['its exact URL', (o: string) => `${o}/tenants/evil/mcp`, 'path-aware'],
    ['its exact URL with a trailing slash', (o: string) => `${o}/tenants/evil/mcp/`, 'path-aware'],
    ['the origin, from the origin root document only the operator publishes', (o: string) => o, 'root'],
  ] as const)('accepts %s', async (_, resource, where) => {
    const { outcome } = await tenantLogin(resource, where);
    expect(outcome).not.toBeInstanceOf(Error);
  });

  it('the rule, without servers', () => {
    const server = 'https://mcp.example.com/tenants/evil/mcp';
    const of = (resource: string, resourceMetadataUrl?: string) =>
      resourceMismatch(server, {
        authorizationServerUrl: 'https://as.example.com',
        resourceMetadata: { resource },
        ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}),
      });
    expect(of('https://MCP.example.com/tenants/evil/mcp')).toBeUndefined();
    expect(of('https://mcp.example.com/tenants/evil/mcp?tenant=victim')).toMatch(/query or fragment/);
    expect(of('https://mcp.example.com')).toMatch(/broader/);
    expect(of('https://mcp.example.com', `https://mcp.example.com${PRM}/tenants/evil/mcp`)).toMatch(
      /broader/,
    );
    expect(of('https://mcp.example.com', `https://mcp.example.com${PRM}`)).toBeUndefined();
    expect(of('https://evil.example.com/tenants/evil/mcp')).toMatch(/another origin/);
  });
});

describe('the no-metadata exception to the RFC 8414 issuer check (the 2025-03-26 fallback)', () => {
  it('applies only when the protected-resource metadata is absent (404), not when its fetch fails', async () => {
    // A server that publishes no usable protected-resource metadata (500) and, at its own origin,
    // authorization-server metadata copied from a real server (another issuer): were a failed
    // fetch "none", the issuer check would be skipped and the login would go to that server.
    const as = await startAuthorizationServer();
    cleanups.push(() => as.close());
    const server = await startScriptedHttpServer();
    cleanups.push(() => server.close());
    const copied = await (await fetch(`${as.issuer}/.well-known/oauth-authorization-server`)).json();
    server.on(PRM, { json: { error: 'unavailable' }, status: 500 });
    server.on(`${PRM}/mcp`, { json: { error: 'unavailable' }, status: 500 });
    server.on('/.well-known/oauth-authorization-server', { json: copied as Record<string, unknown> });
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const manager = new OAuthManager({ home, interactive: 'never', openBrowser: scriptedBrowserHook() });
    cleanups.push(() => manager.close());
    manager.getOrBuildProvider('demo', `${server.url}/mcp`, {});
    const outcome = await manager.login('demo').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(outcome).toBeInstanceOf(Error);
    expect(as.stats.registrations).toBe(0);
    expect(as.stats.authorizations).toBe(0);
    expect(as.stats.tokenRequests).toBe(0);
  });
});
