import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import {
  type AuthInfo,
  bearerAuthChallengeResponse,
  buildOAuthProtectedResourceMetadata,
  createMcpHandler,
  getOAuthProtectedResourceMetadataUrl,
  isLegacyRequest,
  McpServer,
  OAuthError,
  OAuthErrorCode,
  requireBearerAuth,
  requireScopes,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { z } from 'zod';
import { closeHttpServer, listenOnLoopback } from './loopback-server.js';

export interface McpTestServerOptions {
  /** Issuer URL of the AS (metadata at <issuer>/.well-known/openid-configuration). */
  authorizationServer: string;
  /**
   * 'streamable-http' (default): the v2 server, stateless, a fresh McpServer
   * per request, serving both the 2025 and the 2026-07-28 protocol eras.
   * 'sse': the v1 SDK's SSE transport (GET /sse + POST /messages).
   */
  transport?: 'streamable-http' | 'sse';
  /** Scopes every request needs (403 insufficient_scope otherwise). */
  requiredScopes?: string[];
  /**
   * Extra scopes per tool: calling the tool without them answers 403
   * insufficient_scope whose `scope` is exactly this list.
   */
  toolScopes?: Record<string, string[]>;
  /**
   * PRM `scopes_supported`. Default: the AS's `scopes_supported` without
   * `openid` and `offline_access`. Leave a step-up scope out of it to make
   * clients that request every advertised scope meet the 403.
   */
  scopesSupported?: string[];
  /** The origin clients use when the server sits behind the fault proxy; the resource uses it. */
  publicOrigin?: string;
  /**
   * The protocol eras the Streamable HTTP endpoint serves. 'both' (default): 2026-07-28
   * (`server/discover`, per-request `_meta`, no session) and the 2025 era (`initialize`).
   * '2025': a 2025-era server; every request goes to the 2025 transport, which answers
   * `server/discover` as such a server does. '2026': 2026-07-28 only; `initialize` is refused
   * (-32022 UnsupportedProtocolVersion).
   */
  eras?: 'both' | '2025' | '2026';
}

export interface McpTestServerStats {
  /** HTTP requests to the MCP endpoint(s): /mcp, or /sse and /messages. */
  requests: number;
  /** Requests whose bearer token was accepted. */
  authorized: number;
  /** 401s sent. */
  unauthorized: number;
  /** Tool name -> times the tool handler ran. */
  toolCalls: Record<string, number>;
  /**
   * JSON-RPC method -> requests that named it: every POST to /mcp (before the token check), and
   * each authorized message POSTed to /messages (SSE).
   */
  methods: Record<string, number>;
  /** Bearer tokens seen on requests, valid or not. */
  tokensSeen: Set<string>;
  requestsWithToken(token: string): number;
}

export interface TestMcpServer {
  /** The MCP endpoint (for 'sse', the SSE endpoint). */
  url: string;
  /** Where the server actually listens (differs from `url` behind the fault proxy). */
  listenUrl: string;
  /** The RFC 8707 resource and PRM `resource` (== url). */
  resource: string;
  /** Where the RFC 9728 metadata is served (path-aware). */
  resourceMetadataUrl: string;
  stats: McpTestServerStats;
  resetStats(): void;
  /** From now on, this token gets 401 invalid_token. */
  rejectToken(token: string): void;
  /** From now on, every JWT with iat * 1000 < epochMs gets 401 invalid_token. */
  rejectAllTokensIssuedBefore(epochMs: number): void;
  close(): Promise<void>;
}

// `record` stays off the public interface: only the server counts tokens.
type RecordingStats = McpTestServerStats & { record(token: string): void };

function emptyStats(): RecordingStats {
  const counts = new Map<string, number>();
  const tokensSeen = new Set<string>();
  return {
    requests: 0,
    authorized: 0,
    unauthorized: 0,
    toolCalls: {},
    methods: {},
    tokensSeen,
    requestsWithToken: (token) => counts.get(token) ?? 0,
    record(token) {
      tokensSeen.add(token);
      counts.set(token, (counts.get(token) ?? 0) + 1);
    },
  };
}

interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri: string;
  scopes_supported?: string[];
}

async function discoverAuthorizationServer(issuer: string): Promise<AuthorizationServerMetadata> {
  const base = issuer.replace(/\/$/, '');
  for (const suffix of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const response = await fetch(`${base}${suffix}`);
    if (!response.ok) {
      await response.body?.cancel();
      continue;
    }
    const metadata = (await response.json()) as Partial<AuthorizationServerMetadata>;
    if (typeof metadata.issuer === 'string' && typeof metadata.jwks_uri === 'string') {
      return metadata as AuthorizationServerMetadata;
    }
  }
  throw new Error(`no authorization server metadata for ${issuer}`);
}

function bearerToken(authorization: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

// Untyped on purpose: the v1 and the v2 SDK each want their own result type.
function textResult(text: string) {
  return { content: [{ type: 'text' as const, text }] };
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  res.end(Buffer.from(await response.arrayBuffer()));
}

export async function startMcpServer(options: McpTestServerOptions): Promise<TestMcpServer> {
  const transportKind = options.transport ?? 'streamable-http';
  const eras = options.eras ?? 'both';
  const toolScopes = options.toolScopes ?? {};
  const requiredScopes = options.requiredScopes ?? [];
  const asMetadata = await discoverAuthorizationServer(options.authorizationServer);
  // The test AS never rotates its key: fetch it once now, so that faults
  // injected between a client and the AS later never reach token checks here.
  const jwks = createRemoteJWKSet(new URL(asMetadata.jwks_uri), { cacheMaxAge: Infinity });
  await jwks.reload();

  let stats = emptyStats();
  const rejectedTokens = new Set<string>();
  let rejectIssuedBefore = 0;
  let counter = 0;

  const server = createServer();
  const origin = await listenOnLoopback(server);
  const url = `${options.publicOrigin ?? origin}${transportKind === 'sse' ? '/sse' : '/mcp'}`;
  const resource = url;
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(new URL(resource));
  const protectedResourceMetadata = buildOAuthProtectedResourceMetadata({
    oauthMetadata: {
      issuer: asMetadata.issuer,
      // Only the issuer is read; the rest of the type is the AS's business.
      authorization_endpoint: `${asMetadata.issuer}/auth`,
      token_endpoint: `${asMetadata.issuer}/token`,
      response_types_supported: ['code'],
    },
    resourceServerUrl: new URL(resource),
    scopesSupported:
      options.scopesSupported ??
      (asMetadata.scopes_supported ?? []).filter((scope) => scope !== 'openid' && scope !== 'offline_access'),
    resourceName: 'mcp-oauth-manager test kit MCP server',
    dangerouslyAllowInsecureIssuerUrl: true,
  });

  const verifier = {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      if (rejectedTokens.has(token))
        throw new OAuthError(OAuthErrorCode.InvalidToken, 'Token rejected by the test');
      let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
      try {
        ({ payload } = await jwtVerify(token, jwks, { issuer: asMetadata.issuer, audience: resource }));
      } catch (error) {
        // The SDK answers 500 to anything that is not an OAuthError.
        throw new OAuthError(
          OAuthErrorCode.InvalidToken,
          error instanceof Error ? error.message : 'Invalid token',
        );
      }
      if ((payload.iat ?? 0) * 1000 < rejectIssuedBefore) {
        throw new OAuthError(OAuthErrorCode.InvalidToken, 'Token issued before the server revoked it');
      }
      return {
        token,
        clientId: typeof payload.client_id === 'string' ? payload.client_id : '',
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
        expiresAt: payload.exp,
        resource: new URL(resource),
        extra: { sub: payload.sub },
      };
    },
  };
  const gate = requireBearerAuth({
    verifier,
    requiredScopes,
    resourceMetadataUrl,
    expectedResource: new URL(resource),
  });

  // Counts the request and its token, then verifies it: AuthInfo, or the
  // challenge Response to send back.
  async function authenticate(authorization: string | null | undefined): Promise<AuthInfo | Response> {
    stats.requests += 1;
    const token = bearerToken(authorization);
    if (token !== undefined) {
      stats.record(token);
    }
    const result = await gate(new Request(url, { headers: authorization ? { authorization } : {} }));
    if (result instanceof Response) {
      if (result.status === 401) stats.unauthorized += 1;
    } else {
      stats.authorized += 1;
    }
    return result;
  }

  function sawMethods(message: unknown): void {
    for (const m of Array.isArray(message) ? message : [message]) {
      const method = (m as { method?: unknown } | null)?.method;
      if (typeof method === 'string') stats.methods[method] = (stats.methods[method] ?? 0) + 1;
    }
  }

  function ranTool(name: string): void {
    stats.toolCalls[name] = (stats.toolCalls[name] ?? 0) + 1;
  }
  const tools = {
    echo: (text: string) => textResult(text),
    whoami: (authInfo: { scopes: string[]; extra?: Record<string, unknown> } | undefined) =>
      textResult(
        JSON.stringify({ sub: authInfo?.extra?.sub ?? null, scope: authInfo?.scopes.join(' ') ?? '' }),
      ),
    count: () => {
      counter += 1;
      return textResult(String(counter));
    },
  };

  function scopeChallengeFor(tool: string) {
    const scopes = toolScopes[tool];
    return scopes?.[0] === undefined ? undefined : requireScopes(scopes[0], ...scopes.slice(1));
  }

  // v2: one McpServer per request; the SDK turns a tool's scopeChallenge
  // into the 403 insufficient_scope answer before the handler runs.
  function buildServer(authInfo: AuthInfo | undefined): McpServer {
    const mcp = new McpServer({ name: 'kit-mcp-server', version: '1.0.0' });
    mcp.registerTool(
      'echo',
      {
        description: 'Returns the text',
        inputSchema: z.object({ text: z.string() }),
        scopeChallenge: scopeChallengeFor('echo'),
      },
      async ({ text }) => {
        ranTool('echo');
        return tools.echo(text);
      },
    );
    mcp.registerTool(
      'whoami',
      { description: "The token's sub and scope", scopeChallenge: scopeChallengeFor('whoami') },
      async () => {
        ranTool('whoami');
        return tools.whoami(authInfo);
      },
    );
    mcp.registerTool(
      'count',
      { description: 'Increments and returns a server counter', scopeChallenge: scopeChallengeFor('count') },
      async () => {
        ranTool('count');
        return tools.count();
      },
    );
    mcp.registerTool(
      'big',
      {
        description: 'Returns `bytes` characters of text (bigResultText)',
        inputSchema: z.object({ bytes: z.number() }),
      },
      async ({ bytes }) => {
        ranTool('big');
        return textResult(bigResultText(bytes));
      },
    );
    return mcp;
  }

  // v1 (SSE): one McpServer per SSE connection; authInfo arrives per message.
  function buildServerV1(): McpServerV1 {
    const mcp = new McpServerV1(
      { name: 'kit-mcp-server-sse', version: '1.0.0' },
      { capabilities: { logging: {} } },
    );
    mcp.registerTool(
      'echo',
      { description: 'Returns the text', inputSchema: { text: z.string() } },
      async ({ text }) => {
        ranTool('echo');
        return tools.echo(text);
      },
    );
    mcp.registerTool('whoami', { description: "The token's sub and scope" }, async (extra) => {
      ranTool('whoami');
      return tools.whoami(extra.authInfo);
    });
    mcp.registerTool('count', { description: 'Increments and returns a server counter' }, async () => {
      ranTool('count');
      return tools.count();
    });
    registerRelayTools(mcp, ranTool);
    return mcp;
  }

  // 2026-07-28 (envelope) traffic goes to the SDK's entry; 2025-era traffic
  // (what the v1 and v2 clients speak today) to a stateless transport with
  // JSON answers, which is lighter than the entry's SSE-framed fallback when
  // a test fires hundreds of calls at once.
  const modernHandler = createMcpHandler((ctx) => buildServer(ctx.authInfo), { legacy: 'reject' });
  async function serveLegacy(request: Request, authInfo: AuthInfo): Promise<Response> {
    // Stateless: no session stream to GET, no session to DELETE (as the SDK's
    // own stateless fallback answers); a GET stream here would end at once
    // and make clients reconnect in a loop.
    if (request.method !== 'POST') {
      return Response.json(
        { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null },
        { status: 405, headers: { allow: 'POST' } },
      );
    }
    const mcp = buildServer(authInfo);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await mcp.connect(transport);
    try {
      return await transport.handleRequest(request, { authInfo });
    } finally {
      void mcp.close();
    }
  }
  const streamableHandler = toNodeHandler({
    fetch: async (request) => {
      if (request.method === 'POST')
        sawMethods(
          await request
            .clone()
            .json()
            .catch(() => undefined),
        );
      const auth = await authenticate(request.headers.get('authorization'));
      if (auth instanceof Response) return auth;
      const legacy = eras === '2025' || (eras === 'both' && (await isLegacyRequest(request.clone())));
      if (legacy) return serveLegacy(request, auth);
      return modernHandler.fetch(request, { authInfo: auth });
    },
  });

  const sseSessions = new Map<string, { transport: SSEServerTransport; mcp: McpServerV1 }>();

  async function handleSseStream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = await authenticate(req.headers.authorization);
    if (auth instanceof Response) return sendWebResponse(res, auth);
    const transport = new SSEServerTransport('/messages', res);
    const mcp = buildServerV1();
    sseSessions.set(transport.sessionId, { transport, mcp });
    res.on('close', () => {
      sseSessions.delete(transport.sessionId);
      void mcp.close();
    });
    await mcp.connect(transport);
  }

  async function handleSseMessage(req: IncomingMessage, res: ServerResponse, requestUrl: URL): Promise<void> {
    const auth = await authenticate(req.headers.authorization);
    if (auth instanceof Response) return sendWebResponse(res, auth);
    const session = sseSessions.get(requestUrl.searchParams.get('sessionId') ?? '');
    if (!session) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('unknown session');
      return;
    }
    const body = await readJsonBody(req);
    sawMethods(body);
    // The v1 SSE transport has no scope challenges: check tools/call here.
    const message = body as { method?: unknown; params?: { name?: unknown } };
    const toolName = message.method === 'tools/call' ? message.params?.name : undefined;
    const missing = typeof toolName === 'string' ? (toolScopes[toolName] ?? []) : [];
    if (missing.some((scope) => !auth.scopes.includes(scope))) {
      return sendWebResponse(
        res,
        bearerAuthChallengeResponse(new OAuthError(OAuthErrorCode.InsufficientScope, 'Insufficient scope'), {
          requiredScopes: missing,
          resourceMetadataUrl,
        }),
      );
    }
    await session.transport.handlePostMessage(Object.assign(req, { auth }), res, body);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const requestUrl = new URL(req.url ?? '/', origin);
    const route = async () => {
      if (requestUrl.pathname === new URL(resourceMetadataUrl).pathname) {
        res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
        res.end(JSON.stringify(protectedResourceMetadata));
      } else if (transportKind === 'streamable-http' && requestUrl.pathname === '/mcp') {
        await streamableHandler(req, res);
      } else if (transportKind === 'sse' && requestUrl.pathname === '/sse' && req.method === 'GET') {
        await handleSseStream(req, res);
      } else if (transportKind === 'sse' && requestUrl.pathname === '/messages' && req.method === 'POST') {
        await handleSseMessage(req, res, requestUrl);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    };
    route().catch((error: unknown) => {
      console.error('[test MCP server]', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });

  return {
    url,
    listenUrl: origin,
    resource,
    resourceMetadataUrl,
    get stats() {
      return stats;
    },
    resetStats() {
      stats = emptyStats();
    },
    rejectToken(token: string) {
      rejectedTokens.add(token);
    },
    rejectAllTokensIssuedBefore(epochMs: number) {
      rejectIssuedBefore = epochMs;
    },
    async close() {
      await Promise.all([...sseSessions.values()].map(({ mcp }) => mcp.close()));
      sseSessions.clear();
      await modernHandler.close();
      await closeHttpServer(server);
    },
  };
}

/** The text of the `big` tool: `bytes` characters that change along the way (a cut or a swap shows). */
export function bigResultText(bytes: number): string {
  const line = (i: number) => `${String(i).padStart(9, '0')} ${'abcdefghijklmnopqrstuvwxyz'.repeat(2)}\n`;
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const next = line(i);
    parts.push(next);
    length += next.length;
  }
  return parts.join('').slice(0, bytes);
}

/**
 * The tools the stdio proxy's relay tests use, on the stateful (SSE) server, where the server can
 * send the client requests and notifications during a call: `ask` (an elicitation), `notify` (a log
 * message and a progress notification), `slow` (runs until cancelled; counted as 'slow:cancelled'
 * when its cancellation arrives) and `big`.
 */
function registerRelayTools(mcp: McpServerV1, ranTool: (name: string) => void): void {
  mcp.registerTool('ask', { description: 'Asks the user for a name (elicitation)' }, async () => {
    ranTool('ask');
    const answer = await mcp.server.elicitInput({
      message: 'Your name?',
      requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    });
    return textResult(JSON.stringify(answer));
  });
  mcp.registerTool(
    'notify',
    { description: 'Sends a log message and a progress notification' },
    async (extra) => {
      ranTool('notify');
      await extra.sendNotification({
        method: 'notifications/message',
        params: { level: 'info', data: 'hello from the server' },
      });
      const progressToken = extra._meta?.progressToken;
      if (progressToken !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken, progress: 1, total: 2 },
        });
      }
      return textResult('notified');
    },
  );
  mcp.registerTool('slow', { description: 'Runs until cancelled (at most 60 s)' }, async (extra) => {
    ranTool('slow');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000);
      extra.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        ranTool('slow:cancelled');
        resolve();
      });
    });
    return textResult('slow done');
  });
  mcp.registerTool(
    'big',
    { description: 'Returns `bytes` characters of text (bigResultText)', inputSchema: { bytes: z.number() } },
    async ({ bytes }) => {
      ranTool('big');
      return textResult(bigResultText(bytes));
    },
  );
}

/** The `iat` of a JWT access token in epoch ms (handy with rejectAllTokensIssuedBefore). */
export function tokenIssuedAt(accessToken: string): number {
  return (decodeJwt(accessToken).iat ?? 0) * 1000;
}
