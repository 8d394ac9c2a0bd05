/**
 * `provider.fetch` sends the credential only to the server it is bound to: the same origin and a
 * path under the server URL's path (or under the bound resource's path), plus the message endpoint
 * the bound server announced on its own SSE stream. Any other URL goes out without an
 * Authorization header (one the caller set is removed) and a 401 from it starts no recovery.
 * Real servers: the kit's authorization and MCP servers, the MCP server seen through a recording
 * front (its public origin, so other paths of that origin are seen too), and a second recording
 * server on another port.
 */
import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
import { ConfigError, OAuthManager } from '../../src/index.js';
import { createV1SseTransport } from '../../src/sdk/v1.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { makeRecord, SECRET_ACCESS_TOKEN } from '../store/helpers.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { connectV2, textOf } from '../support/mcp-client.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { type RecordingServer, startRecordingServer } from './support/credential-scope-servers.js';

const cleanups = useCleanups();

async function recorder(): Promise<RecordingServer> {
  const server = await startRecordingServer();
  cleanups.push(() => server.close());
  return server;
}

async function newManager(home: string): Promise<OAuthManager> {
  const manager = new OAuthManager({ home, interactive: 'never', openBrowser: scriptedBrowserHook() });
  cleanups.push(() => manager.close());
  return manager;
}

/** The kit's servers, the MCP server behind a recording front, a logged-in manager, another origin. */
async function bed(transport: 'streamable-http' | 'sse' = 'streamable-http') {
  const front = await recorder();
  const other = await recorder();
  const as = await startAuthorizationServer();
  cleanups.push(() => as.close());
  const mcp = await startMcpServer({ authorizationServer: as.issuer, publicOrigin: front.origin, transport });
  cleanups.push(() => mcp.close());
  front.setTarget(mcp.listenUrl);
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const manager = await newManager(home);
  const provider = manager.getOrBuildProvider('demo', mcp.url);
  await manager.login('demo');
  const token = await manager.accessToken('demo');
  as.resetStats();
  front.seen.length = 0;
  return { as, mcp, front, other, home, manager, provider, token };
}

/** A manager holding a stored credential for `serverUrl` (no authorization server involved). */
async function boundTo(serverUrl: string, resource?: string) {
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const manager = await newManager(home);
  const key = { server: 'bound' };
  const binding = { serverUrl, issuer: 'https://auth.example.com', ...(resource ? { resource } : {}) };
  const stored = await manager.store.put(key, makeRecord(key, { binding }), null);
  expect(stored.ok).toBe(true);
  return manager.getOrBuildProvider(key.server, serverUrl);
}

const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };

describe('provider.fetch to another origin', () => {
  it('sends no Authorization (even one the caller set) and recovers no 401 there', async () => {
    const { as, other, provider, token } = await bed();
    const bare = await provider.fetch(`${other.origin}/collect`);
    const preset = await provider.fetch(`${other.origin}/collect`, {
      ...post,
      headers: { ...post.headers, authorization: `Bearer ${token}` },
    });
    expect([bare.status, preset.status]).toEqual([401, 401]);
    expect(other.seen).toHaveLength(2);
    expect(other.withAuthorization()).toEqual([]);
    // The v2 transport's 401 path: no refresh, no login, a typed error that says why.
    const error = await provider
      .onUnauthorized({ response: bare, serverUrl: new URL(other.origin), fetchFn: provider.fetch })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(other.origin);
    expect((error as Error).message).not.toContain(token);
    expect(as.stats.tokenRequests).toBe(0);
  });
});

describe('provider.fetch on the bound origin', () => {
  it('sends the token under the server URL’s path only', async () => {
    const { as, front, mcp, provider } = await bed();
    expect(new URL(mcp.url).pathname).toBe('/mcp');
    for (const path of ['/admin', '/mcp-other', '/mcp/../admin', '/', '/.well-known/x']) {
      await provider.fetch(`${front.origin}${path}`);
    }
    await provider.fetch(`${front.origin}/admin`, post);
    expect(front.seen.map((r) => r.path)).toEqual([
      '/admin',
      '/mcp-other',
      '/admin',
      '/',
      '/.well-known/x',
      '/admin',
    ]);
    expect(front.withAuthorization()).toEqual([]);
    // Under the path it does go: the server URL itself and below it.
    await provider.fetch(mcp.url, post);
    await provider.fetch(`${mcp.url}/sub`);
    expect(front.withAuthorization().map((r) => r.path)).toEqual(['/mcp', '/mcp/sub']);
    expect(as.stats.tokenRequests).toBe(0);
  });

  it('a host on streamable HTTP works as before: every request it makes goes to the server URL, with the token', async () => {
    const { front, mcp, provider } = await bed();
    const client = await connectV2(mcp.url, provider);
    cleanups.push(() => client.close());
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'in scope' } }))).toBe('in scope');
    expect(front.seen.length).toBeGreaterThan(0);
    expect(front.seen.every((r) => r.path === '/mcp' && r.authorization !== undefined)).toBe(true);
  });
});

describe('the legacy SSE transport', () => {
  it('POSTs to the endpoint the bound server announced carry the token (v2 and v1 transports)', async () => {
    const { front, mcp, provider, home } = await bed('sse');
    expect(new URL(mcp.url).pathname).toBe('/sse');
    const v2 = new Client({ name: 'sse-v2', version: '1.0.0' });
    await v2.connect(
      new SSEClientTransport(new URL(mcp.url), { authProvider: provider, fetch: provider.fetch }),
    );
    cleanups.push(() => v2.close());
    expect(textOf(await v2.callTool({ name: 'echo', arguments: { text: 'v2' } }))).toBe('v2');
    const v1 = new ClientV1({ name: 'sse-v1', version: '1.0.0' });
    await v1.connect(createV1SseTransport(provider, mcp.url));
    cleanups.push(() => v1.close());
    expect(textOf(await v1.callTool({ name: 'echo', arguments: { text: 'v1' } }))).toBe('v1');
    const posts = front.seen.filter((r) => r.path === '/messages');
    expect(posts.length).toBeGreaterThanOrEqual(4);
    expect(posts.every((r) => r.authorization !== undefined)).toBe(true);

    // A provider that never read that server's stream has no announcement: nothing is sent there.
    const fresh = (await newManager(home)).getOrBuildProvider('demo', mcp.url);
    front.seen.length = 0;
    await fresh.fetch(`${front.origin}/messages?sessionId=unannounced`, post);
    expect(front.seen.map((r) => r.path)).toEqual(['/messages']);
    expect(front.withAuthorization()).toEqual([]);
  });

  it('only a same-origin endpoint announced on the bound server’s own stream is trusted, at exactly its path', async () => {
    const server = await recorder();
    const other = await recorder();
    server.route('GET', '/sse', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: endpoint\ndata: ${other.origin}/collect\n\n`);
      // Split across writes, CRLF line ends: the parser must still see it.
      res.write('event: endpoint\r\nda');
      res.end('ta: /announced?sessionId=1\r\n\r\n');
    });
    server.route('GET', '/not-bound/sse', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('event: endpoint\ndata: /from-elsewhere\n\n');
    });
    server.route('POST', '/announced', (req, res) => {
      req.resume();
      res.writeHead(202).end();
    });
    const provider = await boundTo(`${server.origin}/sse`);
    await provider.fetch(`${server.origin}/announced?sessionId=1`, post);
    expect(server.withAuthorization('/announced')).toEqual([]);

    const stream = await provider.fetch(`${server.origin}/sse`, { headers: { accept: 'text/event-stream' } });
    // The stream reaches the caller byte for byte.
    expect(await stream.text()).toBe(
      `event: endpoint\ndata: ${other.origin}/collect\n\nevent: endpoint\r\ndata: /announced?sessionId=1\r\n\r\n`,
    );
    expect(server.withAuthorization('/sse')).toHaveLength(1);
    // An SSE stream outside the bound path announces nothing.
    await (await provider.fetch(`${server.origin}/not-bound/sse`)).text();

    await provider.fetch(`${other.origin}/collect`, post);
    await provider.fetch(`${server.origin}/announced?sessionId=2`, post);
    await provider.fetch(`${server.origin}/announced/deeper`, post);
    await provider.fetch(`${server.origin}/from-elsewhere`, post);
    expect(other.withAuthorization()).toEqual([]);
    expect(server.withAuthorization('/announced').map((r) => r.authorization)).toEqual([
      `Bearer ${SECRET_ACCESS_TOKEN}`,
    ]);
    expect(server.withAuthorization('/announced/deeper')).toEqual([]);
    expect(server.withAuthorization('/from-elsewhere')).toEqual([]);
  });
});

describe('the bound resource', () => {
  it('widens the scope to the resource’s path on the same origin; a resource on another origin widens nothing', async () => {
    const server = await recorder();
    const other = await recorder();
    server.route('GET', '/api/files', (_req, res) => {
      res.writeHead(200).end('[]');
    });
    const wide = await boundTo(`${server.origin}/api/mcp`, `${server.origin}/api`);
    await wide.fetch(`${server.origin}/api/files`);
    await wide.fetch(`${server.origin}/admin`);
    expect(server.withAuthorization().map((r) => r.path)).toEqual(['/api/files']);

    const elsewhere = await boundTo(`${server.origin}/mcp`, `${other.origin}/`);
    await elsewhere.fetch(`${other.origin}/x`);
    expect(other.withAuthorization()).toEqual([]);
  });
});
