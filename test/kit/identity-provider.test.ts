import { createHash, randomBytes } from 'node:crypto';
import { requestJwtAuthorizationGrant } from '@modelcontextprotocol/client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ID_JAG_TOKEN_TYPE,
  ID_JAG_TYP,
  ID_TOKEN_TYPE,
  IDP_ACCOUNT_ID,
  JWT_BEARER_GRANT_TYPE,
  machineClient,
  scriptedBrowse,
  startAuthorizationServer,
  startIdentityProvider,
  startMcpServer,
  type TestAuthorizationServer,
  type TestIdentityProvider,
  type TestMcpServer,
  TOKEN_EXCHANGE_GRANT_TYPE,
} from './index.js';

// The kit's enterprise IdP driven by hand: a browser login for an ID token, the RFC 8693 exchange
// of that ID token for an ID-JAG, and the ID-JAG presented at the kit authorization server's JWT
// bearer grant for a token the kit MCP server accepts.

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

async function post(endpoint: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('kit identity provider: login, ID-JAG exchange, JWT bearer grant', () => {
  let idp: TestIdentityProvider;
  let as: TestAuthorizationServer;
  let mcp: TestMcpServer;
  const idpAuth = () => basic(idp.clientId, idp.clientSecret ?? '');

  beforeAll(async () => {
    idp = await startIdentityProvider({ idTokenTtlSeconds: 120 });
    as = await startAuthorizationServer({
      clients: [
        machineClient({
          clientId: 'xaa-client',
          authMethod: 'client_secret_basic',
          secret: 'xaa-secret',
          grantTypes: [JWT_BEARER_GRANT_TYPE],
        }),
        machineClient({
          clientId: 'other-client',
          authMethod: 'client_secret_basic',
          secret: 'other-secret',
          grantTypes: [JWT_BEARER_GRANT_TYPE],
        }),
      ],
      trustedIdentityProviders: [idp.trustedIssuer],
    });
    idp.setClientIdAt(as.issuer, 'xaa-client');
    mcp = await startMcpServer({ authorizationServer: as.issuer });
  });
  afterAll(async () => {
    await mcp?.close();
    await as?.close();
    await idp?.close();
  });

  async function login(): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${idp.issuer}/auth`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: idp.clientId,
      // Any loopback port and path: a native client picks its own.
      redirect_uri: 'http://127.0.0.1:49152/callback/idp-kit',
      scope: 'openid email',
      state: 'st',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const { callbackUrl } = await scriptedBrowse(url.href, { loadCallback: false });
    const code = new URL(callbackUrl).searchParams.get('code');
    expect(code).toBeTruthy();
    const response = await post(
      idp.tokenEndpoint,
      {
        grant_type: 'authorization_code',
        code: code ?? '',
        redirect_uri: 'http://127.0.0.1:49152/callback/idp-kit',
        code_verifier: verifier,
      },
      idpAuth(),
    );
    expect(response.status).toBe(200);
    return String(response.body.id_token);
  }

  const exchange = (subjectToken: string, audience = as.issuer, extra: Record<string, string> = {}) =>
    post(
      idp.tokenEndpoint,
      {
        grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
        subject_token: subjectToken,
        subject_token_type: ID_TOKEN_TYPE,
        requested_token_type: ID_JAG_TOKEN_TYPE,
        audience,
        resource: mcp.url,
        scope: 'mcp:read',
        ...extra,
      },
      idpAuth(),
    );

  it('a browser login yields an ID token of the configured lifetime', async () => {
    idp.resetStats();
    const idToken = await login();
    const claims = decodeJwt(idToken);
    expect(claims).toMatchObject({ iss: idp.issuer, sub: IDP_ACCOUNT_ID, aud: idp.clientId });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(120);
    expect(idp.stats.authorizations).toBe(1);
    expect(idp.stats.idTokensIssued).toBe(1);
  });

  it('exchanges an ID token for an ID-JAG the authorization server turns into an access token', async () => {
    const idToken = await login();
    idp.resetStats();
    as.resetStats();
    const exchanged = await exchange(idToken);
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).toMatchObject({
      issued_token_type: ID_JAG_TOKEN_TYPE,
      token_type: 'N_A',
      expires_in: 300,
    });
    const idJag = String(exchanged.body.access_token);
    expect(decodeProtectedHeader(idJag).typ).toBe(ID_JAG_TYP);
    const claims = decodeJwt(idJag);
    expect(claims).toMatchObject({
      iss: idp.issuer,
      sub: IDP_ACCOUNT_ID,
      aud: as.issuer,
      client_id: 'xaa-client',
      resource: mcp.url,
      scope: 'mcp:read',
    });
    expect(typeof claims.jti).toBe('string');
    expect(idp.stats.exchangesByAudience).toEqual({ [as.issuer]: 1 });
    expect(idp.stats.exchangesByResource).toEqual({ [mcp.url]: 1 });
    expect(idp.stats.subjectTokenDigests).toEqual([idp.digest(idToken)]);

    const granted = await post(
      as.tokenEndpoint,
      { grant_type: JWT_BEARER_GRANT_TYPE, assertion: idJag, resource: mcp.url },
      basic('xaa-client', 'xaa-secret'),
    );
    expect(granted.status).toBe(200);
    expect(decodeJwt(String(granted.body.access_token))).toMatchObject({
      aud: mcp.url,
      sub: IDP_ACCOUNT_ID,
      client_id: 'xaa-client',
      scope: 'mcp:read',
    });
    const call = await fetch(mcp.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${granted.body.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'kit', version: '1' },
        },
      }),
    });
    await call.body?.cancel();
    expect(call.status).toBe(200);

    // Another client presenting it: the ID-JAG names xaa-client.
    const stolen = await post(
      as.tokenEndpoint,
      { grant_type: JWT_BEARER_GRANT_TYPE, assertion: idJag, resource: mcp.url },
      basic('other-client', 'other-secret'),
    );
    expect(stolen.body.error).toBe('invalid_grant');
    expect(as.stats.jwtBearerAssertions.map((a) => [a.kind, a.requestingClient, a.accepted])).toEqual([
      ['id-jag', 'xaa-client', true],
      ['id-jag', 'other-client', false],
    ]);
  });

  it('refuses an expired ID token, a foreign one and a wrong requested_token_type', async () => {
    idp.resetStats();
    const expired = await exchange(await idp.issueIdToken({ ttlSeconds: -60 }));
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe('invalid_grant');
    const otherClient = await exchange(await idp.issueIdToken({ clientId: 'someone-else' }));
    expect(otherClient.body.error).toBe('invalid_grant');
    const wrongType = await exchange(await idp.issueIdToken(), as.issuer, {
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expect(wrongType.body.error).toBe('invalid_request');
    expect(idp.stats.exchangeRequests).toBe(3);
    expect(idp.stats.exchanges).toBe(0);
    expect(idp.stats.exchangeFailures).toHaveLength(3);
    // An ID token handed over by the environment (no browser) works like a login's.
    expect((await exchange(await idp.issueIdToken())).status).toBe(200);
  });

  it("answers the SDK's requestJwtAuthorizationGrant (what the library sends) with an ID-JAG", async () => {
    idp.resetStats();
    const result = await requestJwtAuthorizationGrant({
      tokenEndpoint: idp.tokenEndpoint,
      audience: as.issuer,
      resource: mcp.url,
      idToken: await idp.issueIdToken(),
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      scope: 'mcp:read',
    });
    expect(decodeJwt(result.jwtAuthGrant)).toMatchObject({
      aud: as.issuer,
      resource: mcp.url,
      client_id: 'xaa-client',
    });
    expect(result.expiresIn).toBe(300);
    expect(idp.stats.exchanges).toBe(1);
  });
});
