import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BROWSER_COMMAND,
  type FaultProxy,
  scriptedBrowse,
  startAuthorizationServer,
  startFaultProxy,
  startMcpServer,
  startTestbed,
  type TestAuthorizationServer,
  type Testbed,
  type TestMcpServer,
} from './index.js';

// ---------------------------------------------------------------- helpers

interface CallbackServer {
  url: string; // the redirect URI
  requests: string[]; // request URLs received
  close(): Promise<void>;
}

async function startCallbackServer(status = 200): Promise<CallbackServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'signed in' : 'nope');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback/kit`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface AsMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  registration_endpoint: string;
  revocation_endpoint: string;
}

async function metadataOf(issuer: string): Promise<AsMetadata> {
  return (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as AsMetadata;
}

async function register(
  meta: AsMetadata,
  redirectUri: string,
): Promise<{ status: number; clientId: string }> {
  const response = await fetch(meta.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      application_type: 'native',
      client_name: 'kit smoke test',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }),
  });
  const body = (await response.json()) as { client_id: string };
  return { status: response.status, clientId: body.client_id };
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
  token_type?: string;
  error?: string;
}

async function tokenRequest(
  meta: AsMetadata,
  params: Record<string, string>,
): Promise<{ status: number; body: TokenResponse }> {
  const response = await fetch(meta.token_endpoint, { method: 'POST', body: new URLSearchParams(params) });
  return { status: response.status, body: (await response.json()) as TokenResponse };
}

interface Login {
  meta: AsMetadata;
  clientId: string;
  callback: URL;
  accessToken: string;
  refreshToken: string;
}

/** DCR + authorization code with PKCE S256 through the scripted browser + code exchange. */
async function login(issuer: string, resource: string, scope = 'mcp:read mcp:write'): Promise<Login> {
  const meta = await metadataOf(issuer);
  const callbackServer = await startCallbackServer();
  try {
    const { clientId } = await register(meta, callbackServer.url);
    const verifier = randomBytes(32).toString('base64url');
    const authorizationUrl = new URL(meta.authorization_endpoint);
    authorizationUrl.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: callbackServer.url,
      scope,
      state: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource,
    }).toString();
    const browsed = await scriptedBrowse(authorizationUrl.href);
    const callback = new URL(browsed.callbackUrl);
    const { status, body } = await tokenRequest(meta, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: callbackServer.url,
      client_id: clientId,
      code_verifier: verifier,
      resource,
    });
    expect(status).toBe(200);
    return {
      meta,
      clientId,
      callback,
      accessToken: body.access_token ?? '',
      refreshToken: body.refresh_token ?? '',
    };
  } finally {
    await callbackServer.close();
  }
}

function refresh(session: Login, refreshToken: string, extra: Record<string, string> = {}) {
  return tokenRequest(session.meta, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: session.clientId,
    ...extra,
  });
}

async function connectV2(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'kit-smoke', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { authProvider: { token: async () => token } }),
  );
  return client;
}

function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** A raw JSON-RPC POST, to look at the HTTP answer itself. */
function rawMcpPost(url: string, token: string | undefined, body: object): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

const toolCall = (name: string, args: object = {}) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name, arguments: args },
});

// ---------------------------------------------------------------- tests

describe('test kit: authorization server + MCP server', () => {
  let bed: Testbed;
  let first: Login;

  beforeAll(async () => {
    bed = await startTestbed();
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('registers a loopback client, authorizes with PKCE S256 and iss, issues a JWT for the resource', async () => {
    const meta = await metadataOf(bed.as.issuer);
    const callbackServer = await startCallbackServer();
    try {
      const registration = await register(meta, callbackServer.url);
      expect(registration.status).toBe(201);
      const verifier = randomBytes(32).toString('base64url');
      const authorizationUrl = new URL(meta.authorization_endpoint);
      authorizationUrl.search = new URLSearchParams({
        response_type: 'code',
        client_id: registration.clientId,
        redirect_uri: callbackServer.url,
        scope: 'mcp:read mcp:write',
        state: 'kit-state',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        resource: bed.mcp.resource,
      }).toString();

      const browsed = await scriptedBrowse(authorizationUrl.href);
      expect(browsed.callbackStatus).toBe(200);
      expect(browsed.callbackBody).toBe('signed in');
      const callback = new URL(browsed.callbackUrl);
      expect(callback.origin + callback.pathname).toBe(callbackServer.url);
      expect(callback.searchParams.get('state')).toBe('kit-state');
      expect(callback.searchParams.get('iss')).toBe(bed.as.issuer);
      const code = callback.searchParams.get('code');
      expect(code).toBeTruthy();
      expect(callbackServer.requests).toHaveLength(1);
      expect(bed.as.stats.registrations).toBe(1);
      expect(bed.as.stats.authorizations).toBe(1);

      // A wrong verifier is refused: PKCE is enforced, not decorative.
      const wrong = await tokenRequest(meta, {
        grant_type: 'authorization_code',
        code: code ?? '',
        redirect_uri: callbackServer.url,
        client_id: registration.clientId,
        code_verifier: randomBytes(32).toString('base64url'),
        resource: bed.mcp.resource,
      });
      expect(wrong.body.error).toBe('invalid_grant');

      // The code was burnt by the failed attempt, so log in again for real.
      first = await login(bed.as.issuer, bed.mcp.resource);
      const claims = decodeJwt(first.accessToken);
      expect(claims.aud).toBe(bed.mcp.resource);
      expect(claims.iss).toBe(bed.as.issuer);
      expect(claims.sub).toBe('test-user');
      expect(claims.scope).toBe('mcp:read mcp:write');
      expect(first.refreshToken).toMatch(/.{20,}/);
      expect(bed.as.stats.authorizationCodeGrants).toBe(1);
    } finally {
      await callbackServer.close();
    }
  });

  it('serves the MCP tools to a valid token and challenges a bogus or missing one', async () => {
    const client = await connectV2(bed.mcp.url, first.accessToken);
    try {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
      expect(JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} })))).toEqual({
        sub: 'test-user',
        scope: 'mcp:read mcp:write',
      });
      expect(textOf(await client.callTool({ name: 'count', arguments: {} }))).toBe('1');
      expect(textOf(await client.callTool({ name: 'count', arguments: {} }))).toBe('2');
    } finally {
      await client.close();
    }
    expect(bed.mcp.stats.toolCalls).toEqual({ echo: 1, whoami: 1, count: 2 });
    expect(bed.mcp.stats.tokensSeen.has(first.accessToken)).toBe(true);
    expect(bed.mcp.stats.requestsWithToken(first.accessToken)).toBe(bed.mcp.stats.authorized);

    const challenge = `resource_metadata="${bed.mcp.resourceMetadataUrl}"`;
    for (const token of ['bogus.token.value', undefined]) {
      const response = await rawMcpPost(bed.mcp.url, token, toolCall('echo', { text: 'x' }));
      expect(response.status).toBe(401);
      const header = response.headers.get('www-authenticate') ?? '';
      expect(header).toMatch(/^Bearer /);
      expect(header).toContain('error="invalid_token"');
      expect(header).toContain(challenge);
    }
    expect(bed.mcp.stats.unauthorized).toBe(2);
    expect(bed.mcp.stats.toolCalls.echo).toBe(1);
  });

  it('serves path-aware protected resource metadata, not the root document', async () => {
    const origin = new URL(bed.mcp.url).origin;
    expect(bed.mcp.resourceMetadataUrl).toBe(`${origin}/.well-known/oauth-protected-resource/mcp`);
    const prm = (await (await fetch(bed.mcp.resourceMetadataUrl)).json()) as Record<string, unknown>;
    expect(prm.resource).toBe(bed.mcp.resource);
    expect(prm.authorization_servers).toEqual([bed.as.issuer]);
    expect(prm.scopes_supported).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    expect((await fetch(`${origin}/.well-known/oauth-protected-resource`)).status).toBe(404);
  });

  it('answers 500 concurrent tool calls', async () => {
    bed.mcp.resetStats();
    const client = await connectV2(bed.mcp.url, first.accessToken);
    try {
      const results = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          client.callTool({ name: 'echo', arguments: { text: `n${i}` } }),
        ),
      );
      expect(results.map(textOf)).toEqual(Array.from({ length: 500 }, (_, i) => `n${i}`));
    } finally {
      await client.close();
    }
    expect(bed.mcp.stats.toolCalls.echo).toBe(500);
  });

  it('rotates refresh tokens and revokes the grant when a used one comes back', async () => {
    bed.as.resetStats();
    const rotated = await refresh(first, first.refreshToken);
    expect(rotated.status).toBe(200);
    const secondRt = rotated.body.refresh_token ?? '';
    expect(secondRt).not.toBe(first.refreshToken);
    expect(decodeJwt(rotated.body.access_token ?? '').aud).toBe(bed.mcp.resource);

    const replay = await refresh(first, first.refreshToken);
    expect(replay).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });
    // Reuse detection revoked the whole grant: the newest token died too.
    const newest = await refresh(first, secondRt);
    expect(newest.body.error).toBe('invalid_grant');

    expect(bed.as.stats.refreshRequests).toBe(3);
    expect(bed.as.stats.refreshSuccesses).toBe(1);
    expect(bed.as.stats.invalidGrant).toBe(2);
    expect(bed.as.stats.tokenRequests).toBe(3);
    expect(bed.as.stats.refreshTokensSeen).toEqual([first.refreshToken, first.refreshToken, secondRt]);
  });

  it('lets exactly one of five racing refreshes with one token win, then revokes the grant', async () => {
    const session = await login(bed.as.issuer, bed.mcp.resource);
    bed.as.resetStats();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => refresh(session, session.refreshToken)),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(4);
    expect((await refresh(session, winners[0]?.body.refresh_token ?? '')).body.error).toBe('invalid_grant');
    expect(new Set(bed.as.stats.refreshTokensSeen).size).toBeLessThan(bed.as.stats.refreshTokensSeen.length);
  });

  it('refreshes with or without resource; revokeAllGrants kills every refresh token', async () => {
    const session = await login(bed.as.issuer, bed.mcp.resource);
    const withResource = await refresh(session, session.refreshToken, { resource: bed.mcp.resource });
    expect(withResource.status).toBe(200);
    expect(decodeJwt(withResource.body.access_token ?? '').aud).toBe(bed.mcp.resource);
    const withoutResource = await refresh(session, withResource.body.refresh_token ?? '');
    expect(withoutResource.status).toBe(200);

    await bed.as.revokeAllGrants();
    const afterRevoke = await refresh(session, withoutResource.body.refresh_token ?? '');
    expect(afterRevoke.body.error).toBe('invalid_grant');

    // RFC 7009 revocation of a fresh grant's refresh token works as well.
    const other = await login(bed.as.issuer, bed.mcp.resource);
    const revoked = await fetch(other.meta.revocation_endpoint, {
      method: 'POST',
      body: new URLSearchParams({ token: other.refreshToken, client_id: other.clientId }),
    });
    expect(revoked.status).toBe(200);
    expect(bed.as.stats.revocations).toBe(1);
    expect((await refresh(other, other.refreshToken)).body.error).toBe('invalid_grant');
  });

  it('rejects a token on demand, by value or by issue time, and expires short-lived tokens', async () => {
    const session = await login(bed.as.issuer, bed.mcp.resource);
    expect((await rawMcpPost(bed.mcp.url, session.accessToken, toolCall('echo', { text: 'a' }))).status).toBe(
      200,
    );
    bed.mcp.rejectToken(session.accessToken);
    const rejected = await rawMcpPost(bed.mcp.url, session.accessToken, toolCall('echo', { text: 'a' }));
    expect(rejected.status).toBe(401);
    expect(rejected.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const next = await refresh(session, session.refreshToken);
    const nextAt = next.body.access_token ?? '';
    expect((await rawMcpPost(bed.mcp.url, nextAt, toolCall('echo', { text: 'b' }))).status).toBe(200);
    bed.mcp.rejectAllTokensIssuedBefore(((decodeJwt(nextAt).iat ?? 0) + 1) * 1000);
    expect((await rawMcpPost(bed.mcp.url, nextAt, toolCall('echo', { text: 'b' }))).status).toBe(401);
    bed.mcp.rejectAllTokensIssuedBefore(0);

    bed.as.setAccessTokenTtl(1);
    try {
      const short = await refresh(session, next.body.refresh_token ?? '');
      expect(short.body.expires_in).toBe(1);
      const claims = decodeJwt(short.body.access_token ?? '');
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(1);
      await new Promise((r) => setTimeout(r, 1100));
      const expired = await rawMcpPost(bed.mcp.url, short.body.access_token, toolCall('echo', { text: 'c' }));
      expect(expired.status).toBe(401);
    } finally {
      bed.as.setAccessTokenTtl(3600);
    }
  });

  it('asks the callback origin for a favicon when told to, like a real browser', async () => {
    const meta = await metadataOf(bed.as.issuer);
    const callbackServer = await startCallbackServer();
    try {
      const { clientId } = await register(meta, callbackServer.url);
      const url = new URL(meta.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: callbackServer.url,
        scope: 'mcp:read',
        state: 'f',
        code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      await scriptedBrowse(url.href, { favicon: 'before' });
      expect(callbackServer.requests.map((r) => r.split('?')[0])).toEqual(['/favicon.ico', '/callback/kit']);
    } finally {
      await callbackServer.close();
    }
  });

  it('stops on the authorization server error page instead of inventing a callback', async () => {
    const meta = await metadataOf(bed.as.issuer);
    const url = new URL(meta.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'no-such-client',
      redirect_uri: 'http://127.0.0.1:1/cb',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    }).toString();
    await expect(scriptedBrowse(url.href)).rejects.toThrow(/answered 400/);
  });
});

describe('test kit: scripted browser as the BROWSER command', () => {
  it('runs as a script, waits for BROWSER_WAIT_FILE, exits 0 on a 2xx callback and 1 otherwise', async () => {
    const bed = await startTestbed();
    const ok = await startCallbackServer(200);
    const failing = await startCallbackServer(500);
    const dir = await mkdtemp(join(tmpdir(), 'kit-browser-'));
    try {
      const meta = await metadataOf(bed.as.issuer);
      const authorizationUrlFor = async (redirectUri: string) => {
        const { clientId } = await register(meta, redirectUri);
        const url = new URL(meta.authorization_endpoint);
        url.search = new URLSearchParams({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: redirectUri,
          scope: 'mcp:read',
          state: 's',
          code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
          code_challenge_method: 'S256',
          resource: bed.mcp.resource,
        }).toString();
        return url.href;
      };
      const [command = '', ...args] = BROWSER_COMMAND.split(' ');
      const waitFile = join(dir, 'go');
      const run = (url: string, env: NodeJS.ProcessEnv = {}) =>
        promisify(execFile)(command, [...args, url], { env: { ...process.env, ...env } }).then(
          () => ({ code: 0, stderr: '' }),
          (error: { code?: number; stderr?: string }) => ({
            code: error.code ?? -1,
            stderr: error.stderr ?? '',
          }),
        );

      const okRun = run(await authorizationUrlFor(ok.url), { BROWSER_WAIT_FILE: waitFile });
      await new Promise((r) => setTimeout(r, 300));
      expect(ok.requests).toHaveLength(0); // still waiting for the file
      await writeFile(waitFile, '');
      const [okResult, failResult] = await Promise.all([okRun, run(await authorizationUrlFor(failing.url))]);
      expect(okResult).toEqual({ code: 0, stderr: '' });
      expect(ok.requests).toHaveLength(1);
      expect(failResult.code).toBe(1);
      expect(failResult.stderr).toContain('answered 500');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await ok.close();
      await failing.close();
      await bed.close();
    }
  });
});

describe('test kit: fault proxy in front of the authorization server', () => {
  let proxy: FaultProxy;
  let as: TestAuthorizationServer;
  let mcp: TestMcpServer;

  beforeAll(async () => {
    proxy = await startFaultProxy();
    as = await startAuthorizationServer({ issuer: proxy.url });
    proxy.setTarget(as.listenUrl);
    mcp = await startMcpServer({ authorizationServer: as.issuer });
  });
  afterAll(async () => {
    await mcp?.close();
    await as?.close();
    await proxy?.close();
  });

  it('passes everything through, with every URL on the public issuer', async () => {
    expect(as.issuer).toBe(proxy.url);
    expect(as.listenUrl).not.toBe(proxy.url);
    const meta = await metadataOf(as.issuer);
    expect(meta.issuer).toBe(proxy.url);
    expect(meta.token_endpoint).toBe(`${proxy.url}/token`);
    const session = await login(as.issuer, mcp.resource);
    expect(session.callback.searchParams.get('iss')).toBe(proxy.url);
    expect(decodeJwt(session.accessToken).iss).toBe(proxy.url);
    expect((await rawMcpPost(mcp.url, session.accessToken, toolCall('echo', { text: 'p' }))).status).toBe(
      200,
    );
    expect(proxy.stats.faulted).toBe(0);
  });

  it('answers 500, drops the connection, or hangs, only on the matching path and only `times` times', async () => {
    const session = await login(as.issuer, mcp.resource);
    as.resetStats();
    proxy.setFault('status500', { path: '/token', times: 1 });
    const failed = await fetch(session.meta.token_endpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: session.refreshToken,
        client_id: session.clientId,
      }),
    });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: 'server_error' });
    expect(as.stats.tokenRequests).toBe(0); // never reached the server: the token is still good

    proxy.setFault('drop', { path: /^\/token$/, times: 1 });
    expect((await fetch(`${as.issuer}/.well-known/openid-configuration`)).status).toBe(200); // other paths pass
    await expect(refresh(session, session.refreshToken)).rejects.toThrow();

    proxy.setFault('hang', { path: '/token' });
    const hung = fetch(session.meta.token_endpoint, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.refreshToken }),
      signal: AbortSignal.timeout(300),
    });
    await expect(hung).rejects.toThrow(/aborted|timeout/i);
    proxy.setFault('pass');

    const recovered = await refresh(session, session.refreshToken);
    expect(recovered.status).toBe(200);
    expect(as.stats.refreshRequests).toBe(1);
    expect(proxy.stats.faulted).toBe(3);
  });
});

describe('test kit: SSE variant and insufficient_scope', () => {
  let bed: Testbed;
  let sse: TestMcpServer;

  beforeAll(async () => {
    bed = await startTestbed({
      as: { scopes: ['mcp:read', 'mcp:write', 'mcp:admin'] },
      mcp: { toolScopes: { count: ['mcp:admin'] } },
    });
    sse = await startMcpServer({
      authorizationServer: bed.as.issuer,
      transport: 'sse',
      toolScopes: { count: ['mcp:admin'] },
    });
  });
  afterAll(async () => {
    await sse?.close();
    await bed?.close();
  });

  it('answers a tool call over the v1 SSE transport with a bearer token', async () => {
    expect(sse.url).toMatch(/\/sse$/);
    const session = await login(bed.as.issuer, sse.resource);
    expect(decodeJwt(session.accessToken).aud).toBe(sse.resource);

    const unauthenticated = await fetch(sse.url, { headers: { accept: 'text/event-stream' } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toContain(
      `resource_metadata="${sse.resourceMetadataUrl}"`,
    );

    const headers = { Authorization: `Bearer ${session.accessToken}` };
    const client = new ClientV1({ name: 'kit-smoke-v1', version: '1.0.0' });
    await client.connect(
      new SSEClientTransport(new URL(sse.url), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }),
        },
      }),
    );
    try {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over sse' } }))).toBe(
        'over sse',
      );
      await expect(client.callTool({ name: 'count', arguments: {} })).rejects.toThrow(/403/);
    } finally {
      await client.close();
    }
    expect(sse.stats.toolCalls).toEqual({ echo: 1 });
  });

  it('answers 403 insufficient_scope for a tool whose scope the token lacks', async () => {
    const session = await login(bed.as.issuer, bed.mcp.resource, 'mcp:read mcp:write');
    const response = await rawMcpPost(bed.mcp.url, session.accessToken, toolCall('count'));
    expect(response.status).toBe(403);
    const header = response.headers.get('www-authenticate') ?? '';
    expect(header).toContain('error="insufficient_scope"');
    expect(header).toContain('scope="mcp:admin"');
    expect(header).toContain(`resource_metadata="${bed.mcp.resourceMetadataUrl}"`);
    expect(
      (await rawMcpPost(bed.mcp.url, session.accessToken, toolCall('echo', { text: 'ok' }))).status,
    ).toBe(200);

    const admin = await login(bed.as.issuer, bed.mcp.resource, 'mcp:read mcp:write mcp:admin');
    expect((await rawMcpPost(bed.mcp.url, admin.accessToken, toolCall('count'))).status).toBe(200);
    expect(bed.mcp.stats.toolCalls).toEqual({ echo: 1, count: 1 });
  });

  it('requiredScopes guard every request and are named in the 401 challenge', async () => {
    const strict = await startMcpServer({
      authorizationServer: bed.as.issuer,
      requiredScopes: ['mcp:admin'],
    });
    try {
      const missing = await rawMcpPost(strict.url, undefined, toolCall('echo', { text: 'x' }));
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toContain('scope="mcp:admin"');
      const session = await login(bed.as.issuer, strict.resource, 'mcp:read');
      const lacking = await rawMcpPost(strict.url, session.accessToken, toolCall('echo', { text: 'x' }));
      expect(lacking.status).toBe(403);
      expect(lacking.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      expect(strict.stats.toolCalls).toEqual({});
    } finally {
      await strict.close();
    }
  });
});
