import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverIdentityProvider } from '../../src/oauth/id-jag-exchange.js';
import { RefreshFailure } from '../../src/oauth/refresh-failure.js';
import { closeHttpServer, listenOnLoopback } from '../kit/loopback-server.js';

// An IdP whose OpenID metadata has only what a token exchange needs (the conformance suite's
// enterprise-managed-authorization IdP publishes exactly this): the SDK discovery refuses it for
// the login fields it lacks; the exchange still finds its token endpoint, and still checks the issuer.

async function idpWith(metadata: (origin: string) => Record<string, unknown>) {
  let origin = '';
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata(origin)));
    } else {
      res.writeHead(404).end();
    }
  });
  origin = await listenOnLoopback(server);
  return { origin, requests, close: () => closeHttpServer(server) };
}

describe('identity provider discovery with partial OpenID metadata', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  it('uses issuer and token_endpoint when the login fields are missing', async () => {
    const idp = await idpWith((origin) => ({
      issuer: origin,
      token_endpoint: `${origin}/token`,
      grant_types_supported: ['urn:ietf:params:oauth:grant-type:token-exchange'],
    }));
    close = idp.close;
    const metadata = await discoverIdentityProvider(
      { name: 'corp', issuer: idp.origin, clientId: 'c' },
      fetch,
      10_000,
    );
    expect(metadata.token_endpoint).toBe(`${idp.origin}/token`);
  });

  it('still refuses metadata naming another issuer', async () => {
    const idp = await idpWith((origin) => ({
      issuer: 'https://evil.example',
      token_endpoint: `${origin}/token`,
    }));
    close = idp.close;
    const failure = await discoverIdentityProvider(
      { name: 'corp', issuer: idp.origin, clientId: 'c' },
      fetch,
      10_000,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RefreshFailure);
    expect(String((failure as Error).message)).toContain('https://evil.example');
  });

  it('says the IdP did not answer when no document has a token endpoint', async () => {
    const idp = await idpWith((origin) => ({ issuer: origin }));
    close = idp.close;
    await expect(
      discoverIdentityProvider({ name: 'corp', issuer: idp.origin, clientId: 'c' }, fetch, 10_000),
    ).rejects.toThrow(/did not answer|published no metadata/);
  });
});
