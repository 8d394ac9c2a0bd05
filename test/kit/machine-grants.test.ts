import { randomUUID } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorkloadIssuer,
  JWT_BEARER_GRANT_TYPE,
  machineClient,
  startAuthorizationServer,
  startMcpServer,
  type TestAuthorizationServer,
  type TestMcpServer,
} from './index.js';

// The kit's machine grants, driven by hand (no library code): client credentials with each client
// authentication, and the JWT bearer grant with a workload JWT. The tokens must be ones the kit
// MCP server accepts.

async function keyPair(alg = 'ES256') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg }] };
  return { privateKey, jwks };
}

async function token(
  as: TestAuthorizationServer,
  body: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await fetch(as.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Whether the kit MCP server accepts `accessToken` (an initialize that is not answered 401). */
async function mcpAccepts(mcp: TestMcpServer, accessToken: string): Promise<boolean> {
  const response = await fetch(mcp.url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'kit', version: '1' } },
    }),
  });
  await response.body?.cancel();
  return response.status !== 401;
}

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

describe('kit authorization server: machine grants', () => {
  let as: TestAuthorizationServer;
  let mcp: TestMcpServer;
  let clientKey: Awaited<ReturnType<typeof keyPair>>;
  let workload: Awaited<ReturnType<typeof createWorkloadIssuer>>;

  beforeAll(async () => {
    clientKey = await keyPair();
    workload = await createWorkloadIssuer();
    as = await startAuthorizationServer({
      clients: [
        machineClient({ clientId: 'cc-basic', authMethod: 'client_secret_basic', secret: 'basic-secret' }),
        machineClient({ clientId: 'cc-post', authMethod: 'client_secret_post', secret: 'post-secret' }),
        machineClient({ clientId: 'cc-jwt', authMethod: 'private_key_jwt', jwks: clientKey.jwks }),
        machineClient({ clientId: 'workload', authMethod: 'none', grantTypes: [JWT_BEARER_GRANT_TYPE] }),
      ],
      trustedWorkloadIssuers: [workload.trustedIssuer],
    });
    mcp = await startMcpServer({ authorizationServer: as.issuer });
  });
  afterAll(async () => {
    await mcp?.close();
    await as?.close();
  });

  it('advertises the client_credentials and JWT bearer grants and private_key_jwt', async () => {
    const metadata = (await (await fetch(`${as.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      string[]
    >;
    expect(metadata.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', JWT_BEARER_GRANT_TYPE]),
    );
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt']),
    );
  });

  it('client_credentials with client_secret_basic and client_secret_post: tokens for the resource', async () => {
    as.resetStats();
    const viaBasic = await token(
      as,
      { grant_type: 'client_credentials', resource: mcp.url, scope: 'mcp:read' },
      basic('cc-basic', 'basic-secret'),
    );
    expect(viaBasic.status).toBe(200);
    expect(decodeJwt(String(viaBasic.body.access_token))).toMatchObject({
      aud: mcp.url,
      client_id: 'cc-basic',
    });
    expect(await mcpAccepts(mcp, String(viaBasic.body.access_token))).toBe(true);
    const viaPost = await token(as, {
      grant_type: 'client_credentials',
      resource: mcp.url,
      client_id: 'cc-post',
      client_secret: 'post-secret',
    });
    expect(viaPost.status).toBe(200);
    expect(await mcpAccepts(mcp, String(viaPost.body.access_token))).toBe(true);
    const wrong = await token(
      as,
      { grant_type: 'client_credentials', resource: mcp.url },
      basic('cc-basic', 'nope'),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    expect(as.stats.grantRequests).toEqual({ client_credentials: 3 });
    expect(as.stats.grantSuccesses).toEqual({ client_credentials: 2 });
  });

  it('private_key_jwt: records each assertion and refuses a replayed jti or a wrong key', async () => {
    as.resetStats();
    const assertion = (key: CryptoKey, jti = randomUUID()) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('cc-jwt')
        .setSubject('cc-jwt')
        .setAudience(as.issuer)
        .setIssuedAt()
        .setExpirationTime('60s')
        .setJti(jti)
        .sign(key);
    const request = (jwt: string) =>
      token(as, {
        grant_type: 'client_credentials',
        resource: mcp.url,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: jwt,
      });
    const first = await assertion(clientKey.privateKey as CryptoKey);
    const ok = await request(first);
    expect(ok.status).toBe(200);
    expect(await mcpAccepts(mcp, String(ok.body.access_token))).toBe(true);
    const replay = await request(first);
    expect(replay.status).toBe(401);
    const other = await keyPair();
    const wrongKey = await request(await assertion(other.privateKey as CryptoKey));
    expect(wrongKey.status).toBe(401);
    expect(as.stats.clientAssertions.map((a) => [a.iss, a.sub, a.aud, a.status])).toEqual([
      ['cc-jwt', 'cc-jwt', as.issuer, 200],
      ['cc-jwt', 'cc-jwt', as.issuer, 401],
      ['cc-jwt', 'cc-jwt', as.issuer, 401],
    ]);
    expect(as.stats.clientAssertions[0]?.jti).toBe(decodeJwt(first).jti);
    expect(as.stats.replayedClientAssertions).toBe(1);
  });

  it('JWT bearer grant with a workload JWT from a trusted issuer; others refused', async () => {
    as.resetStats();
    const grant = (assertion: string) =>
      token(as, { grant_type: JWT_BEARER_GRANT_TYPE, assertion, resource: mcp.url, client_id: 'workload' });
    const good = await workload.mint({ audience: as.issuer });
    const ok = await grant(good);
    expect(ok.status).toBe(200);
    expect(decodeJwt(String(ok.body.access_token))).toMatchObject({
      aud: mcp.url,
      sub: 'system:serviceaccount:ci:agent',
      client_id: 'workload',
    });
    expect(await mcpAccepts(mcp, String(ok.body.access_token))).toBe(true);
    // The same platform token again (it has not rotated): accepted, counted as a replay.
    expect((await grant(good)).status).toBe(200);
    const stranger = await createWorkloadIssuer('https://other.test');
    const untrusted = await grant(await stranger.mint({ audience: as.issuer }));
    expect(untrusted.body.error).toBe('invalid_grant');
    const wrongAudience = await grant(await workload.mint({ audience: 'https://elsewhere.test' }));
    expect(wrongAudience.body.error).toBe('invalid_grant');
    const expired = await grant(await workload.mint({ audience: as.issuer, ttlSeconds: -60 }));
    expect(expired.body.error).toBe('invalid_grant');
    expect(as.stats.grantRequests).toEqual({ [JWT_BEARER_GRANT_TYPE]: 5 });
    expect(as.stats.jwtBearerAssertions.map((a) => [a.kind, a.accepted, a.replayed])).toEqual([
      ['workload', true, false],
      ['workload', true, true],
      ['workload', false, false],
      ['workload', false, false],
      ['workload', false, false],
    ]);
    expect(as.stats.jwtBearerAssertions[0]?.jti).toBe(decodeJwt(good).jti);
  });
});
