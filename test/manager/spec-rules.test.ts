import { describe, expect, it } from 'vitest';
import { LoginError, type OAuthManagerOptions } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { startBed, useCleanups } from '../support/testbed.js';

// The MCP 2025-11-25 client rules the conformance suite does not check, each on the test kit.
const cleanups = useCleanups();

const bed = (manager: Partial<OAuthManagerOptions> = {}) => startBed(cleanups, { login: false, manager });

/** A fetch that rewrites the authorization server's metadata in flight: faults a real server will not produce on demand. */
function rewritingMetadata(edit: (metadata: Record<string, unknown>) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = String(input instanceof Request ? input.url : input);
    if (!/\/\.well-known\/(oauth-authorization-server|openid-configuration)/.test(url) || !response.ok)
      return response;
    const body = (await response.json()) as Record<string, unknown>;
    edit(body);
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
}

describe('MCP 2025-11-25 client rules beyond the conformance suite', () => {
  it('RFC 8707: refresh requests carry the resource too', async () => {
    const clock = new FakeClock();
    const { as, manager, provider, mcp } = await bed({ clock });
    await manager.login('demo');
    clock.advance(3600_000 + 1);
    await provider.token();
    clock.advance(3600_000 + 1);
    await provider.token();
    expect(as.stats.refreshResources).toEqual([mcp.resource, mcp.resource]);
  });

  it('refuses an authorization server whose metadata does not advertise PKCE S256: no registration, no browser', async () => {
    const { as, manager, opened } = await bed({
      fetch: rewritingMetadata((m) => {
        m.code_challenge_methods_supported = ['plain'];
      }),
    });
    await expect(manager.login('demo')).rejects.toThrow(/PKCE S256/);
    expect(as.stats.registrations).toBe(0);
    expect(opened.opened).toBe(0);
  });

  it('requires https for authorization server endpoints that are not on loopback', async () => {
    for (const endpoint of ['authorization_endpoint', 'token_endpoint']) {
      const { as, manager, opened } = await bed({
        fetch: rewritingMetadata((m) => {
          m[endpoint] = `http://auth.example.com/${endpoint}`;
        }),
      });
      const error = await manager.login('demo').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LoginError);
      expect((error as Error).message).toContain(
        `${endpoint} http://auth.example.com/${endpoint} is not https`,
      );
      expect(as.stats.registrations).toBe(0);
      expect(opened.opened).toBe(0);
    }
  });

  it('the metadata issuer must match the issuer the resource metadata named', async () => {
    const { as, manager, opened } = await bed({
      fetch: rewritingMetadata((m) => {
        m.issuer = 'http://127.0.0.1:1/another-issuer';
      }),
    });
    const error = await manager.login('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    expect((error as Error).message).toMatch(/[Ii]ssuer mismatch/);
    expect(as.stats.registrations).toBe(0);
    expect(opened.opened).toBe(0);
  });
});
