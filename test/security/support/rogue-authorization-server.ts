/**
 * Servers for test/security/rogue-authorization-server.test.ts.
 *
 * - A rogue authorization server on 127.0.0.1: RFC 8414 metadata under its own issuer, an
 *   authorization endpoint that redirects straight back with a code of its own (and its own
 *   `iss`), dynamic client registration and a token endpoint that answer like a real server. It
 *   records every request (method, path, body, Authorization header). It also serves, on the same
 *   origin, a protected-resource metadata document (`/prm`) that names itself as the authorization
 *   server of a resource the test chooses: the hostile origin a challenge can point to.
 * - A challenge-rewriting proxy in front of the kit's MCP server (as that server's public origin):
 *   it forwards everything, and rewrites the `resource_metadata` of every 401 challenge to a URL
 *   the test chooses (another origin).
 */
import { randomBytes } from 'node:crypto';
import { createServer, request, type ServerResponse } from 'node:http';
import { forwardableHeaders } from '../../kit/forwarding.js';
import { closeHttpServer, listenOnLoopback, readBody } from '../../kit/loopback-server.js';

export interface RogueRequest {
  method: string;
  path: string;
  /** The query (authorization requests) or the body (registration, token requests), as sent. */
  query: string;
  body: string;
  authorization: string | undefined;
}

export interface RogueAuthorizationServer {
  /** http://127.0.0.1:PORT, its issuer. */
  issuer: string;
  /** The URL of its protected-resource metadata document. */
  prmUrl: string;
  /** The `resource` its protected-resource metadata claims (set before the login). */
  resource: string;
  /** The authorization server its protected-resource metadata names (default: itself). */
  namedIssuer: string;
  /** Every request it received, in order. */
  requests: RogueRequest[];
  /** Requests other than metadata reads (registration, authorization, token, anything else). */
  actionRequests(): RogueRequest[];
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const METADATA_PATHS = new Set([
  '/prm',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
]);

/** Starts the rogue authorization server (see the file comment). */
export async function startRogueAuthorizationServer(): Promise<RogueAuthorizationServer> {
  const requests: RogueRequest[] = [];
  let issuer = '';
  let resource = '';
  let namedIssuer: string | undefined;
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = await readBody(req);
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search,
        body,
        authorization: req.headers.authorization,
      });
      switch (url.pathname) {
        case '/prm':
          return sendJson(res, 200, {
            resource,
            authorization_servers: [namedIssuer ?? issuer],
            scopes_supported: ['mcp:read', 'mcp:write'],
          });
        case '/.well-known/oauth-authorization-server':
        case '/.well-known/openid-configuration':
          return sendJson(res, 200, {
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            registration_endpoint: `${issuer}/register`,
            device_authorization_endpoint: `${issuer}/device`,
            revocation_endpoint: `${issuer}/revoke`,
            response_types_supported: ['code'],
            grant_types_supported: ['authorization_code', 'refresh_token'],
            code_challenge_methods_supported: ['S256'],
            token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
            scopes_supported: ['mcp:read', 'mcp:write', 'offline_access'],
            authorization_response_iss_parameter_supported: true,
          });
        case '/authorize': {
          // Like a real server that approves at once: back to the client with a code of its own.
          const back = new URL(url.searchParams.get('redirect_uri') ?? '');
          back.searchParams.set('code', `rogue-code-${randomBytes(12).toString('hex')}`);
          back.searchParams.set('state', url.searchParams.get('state') ?? '');
          back.searchParams.set('iss', issuer);
          res.writeHead(302, { location: back.href }).end();
          return;
        }
        case '/register': {
          const metadata = JSON.parse(body || '{}') as Record<string, unknown>;
          return sendJson(res, 201, {
            ...metadata,
            client_id: `rogue-client-${randomBytes(8).toString('hex')}`,
            client_id_issued_at: Math.floor(Date.now() / 1000),
          });
        }
        case '/token':
          return sendJson(res, 200, {
            access_token: `rogue-access-${randomBytes(16).toString('hex')}`,
            token_type: 'Bearer',
            expires_in: 3600,
            refresh_token: `rogue-refresh-${randomBytes(16).toString('hex')}`,
            scope: 'mcp:read mcp:write',
          });
        default:
          return sendJson(res, 404, { error: 'not_found' });
      }
    })().catch(() => res.destroy());
  });
  issuer = await listenOnLoopback(server);
  return {
    issuer,
    prmUrl: `${issuer}/prm`,
    get resource() {
      return resource;
    },
    set resource(value) {
      resource = value;
    },
    get namedIssuer() {
      return namedIssuer ?? issuer;
    },
    set namedIssuer(value) {
      namedIssuer = value;
    },
    requests,
    actionRequests: () => requests.filter((r) => !METADATA_PATHS.has(r.path)),
    close: async () => {
      server.closeAllConnections();
      await closeHttpServer(server);
    },
  };
}

export interface ChallengeRewritingProxy {
  /** http://127.0.0.1:PORT, the MCP server's public origin. */
  origin: string;
  /** Forward every request to this origin. */
  setTarget(origin: string): void;
  /** From now on, every 401 challenge names this `resource_metadata` (undefined: pass it as is). */
  setResourceMetadata(url: string | undefined): void;
  /**
   * Serve this document as the server's own protected-resource metadata (its path-aware and root
   * well-known URIs) instead of forwarding (undefined: forward): the server itself now names
   * another authorization server.
   */
  setOwnResourceMetadata(document: Record<string, unknown> | undefined): void;
  /** 401 challenges rewritten so far. */
  rewritten: number;
  close(): Promise<void>;
}

/** Starts the challenge-rewriting proxy (see the file comment). */
export async function startChallengeRewritingProxy(): Promise<ChallengeRewritingProxy> {
  let target: URL | undefined;
  let resourceMetadata: string | undefined;
  let ownMetadata: Record<string, unknown> | undefined;
  const state = { rewritten: 0 };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (ownMetadata && path.startsWith('/.well-known/oauth-protected-resource')) {
      req.resume();
      sendJson(res, 200, ownMetadata);
      return;
    }
    if (!target) {
      req.resume();
      res.writeHead(503).end();
      return;
    }
    const upstream = request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: forwardableHeaders(req.headers) },
      (answer) => {
        const headers = forwardableHeaders(answer.headers);
        const challenge = answer.headers['www-authenticate'];
        if (answer.statusCode === 401 && resourceMetadata !== undefined && typeof challenge === 'string') {
          headers['www-authenticate'] = challenge.replace(
            /resource_metadata="[^"]*"/,
            `resource_metadata="${resourceMetadata}"`,
          );
          state.rewritten += 1;
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
        res.on('close', () => answer.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  const origin = await listenOnLoopback(server);
  return {
    origin,
    setTarget: (to) => {
      target = new URL(to);
    },
    setResourceMetadata: (url) => {
      resourceMetadata = url;
    },
    setOwnResourceMetadata: (document) => {
      ownMetadata = document;
    },
    get rewritten() {
      return state.rewritten;
    },
    close: async () => {
      server.closeAllConnections();
      await closeHttpServer(server);
    },
  };
}
