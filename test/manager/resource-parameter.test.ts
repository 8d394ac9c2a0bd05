/**
 * RFC 8707 `resource` goes out exactly as the protected-resource metadata publishes it. A server
 * whose metadata (at the origin's root well-known URI) names the bare origin `http://127.0.0.1:P`
 * must see that string in the authorization request, the code exchange and the refresh, not the
 * WHATWG-serialised `http://127.0.0.1:P/` (a different string to an authorization server that
 * compares resources exactly, as the conformance scenario auth/metadata-var2 does).
 *
 * Real parts: the kit's authorization server behind a recording proxy (its public issuer), and a
 * small resource server that serves the root metadata and answers 401 elsewhere.
 */
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { OAuthManager } from '../../src/index.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { type ProxiedRequest, startRecordingProxy } from '../kit/forwarding.js';
import { closeHttpServer, listenOnLoopback } from '../kit/loopback-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { FakeClock } from '../support/fake-clock.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

/** A request's query and form body, as one list of parameters. */
function paramsOf(request: ProxiedRequest): URLSearchParams {
  const params = new URLSearchParams(request.search);
  for (const [k, v] of new URLSearchParams(request.body)) params.append(k, v);
  return params;
}

/** A resource server whose root protected-resource metadata names its bare origin. */
async function startOriginResourceServer(
  issuer: string,
): Promise<{ origin: string; close(): Promise<void> }> {
  let origin = '';
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/.well-known/oauth-protected-resource') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ resource: origin, authorization_servers: [issuer], scopes_supported: ['mcp:read'] }),
      );
      return;
    }
    if (path?.startsWith('/.well-known/')) return void res.writeHead(404).end();
    res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
  });
  origin = await listenOnLoopback(server);
  return { origin, close: () => closeHttpServer(server) };
}

describe('RFC 8707 resource exactly as published', () => {
  it('sends a bare-origin resource without a trailing slash in the authorization, token and refresh requests', async () => {
    const proxy = await startRecordingProxy();
    cleanups.push(() => proxy.close());
    const as = await startAuthorizationServer({ issuer: proxy.url });
    cleanups.push(() => as.close());
    proxy.setTarget(as.listenUrl);
    const rs = await startOriginResourceServer(as.issuer);
    cleanups.push(() => rs.close());
    expect(rs.origin).not.toMatch(/\/$/);

    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const clock = new FakeClock();
    const manager = new OAuthManager({
      home,
      clock,
      interactive: 'never',
      openBrowser: scriptedBrowserHook({ opened: 0 }),
    });
    cleanups.push(() => manager.close());
    manager.getOrBuildProvider('origin', `${rs.origin}/mcp`, {});
    await manager.login('origin');

    const authorization = proxy.seen.filter((s) => s.path === '/auth' && paramsOf(s).has('client_id'));
    const codeExchange = proxy.seen.filter((s) => paramsOf(s).get('grant_type') === 'authorization_code');
    expect(authorization.length).toBeGreaterThanOrEqual(1);
    expect(codeExchange).toHaveLength(1);
    for (const s of [...authorization, ...codeExchange])
      expect(paramsOf(s).getAll('resource')).toEqual([rs.origin]);

    // The refresh names the same string.
    await manager.refreshNow('origin');
    expect(as.stats.refreshSuccesses).toBe(1);
    expect(as.stats.refreshResources).toEqual([rs.origin]);
  });
});
