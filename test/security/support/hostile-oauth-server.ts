/**
 * A hostile OAuth server for test/security/redaction.test.ts and terminal-escapes.test.ts: one
 * loopback HTTP server that is both the MCP server's protected-resource metadata and its
 * authorization server (metadata, token endpoint, device endpoint), plus a browser hook that
 * answers the login's callback directly (with a planted code, or an error). What the server says
 * is scripted per test: an echo of every token request in a 422 error body (as many web
 * frameworks answer a request they cannot validate), control characters in the metadata, the
 * token response, the error codes and the device code.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { OpenBrowser } from '../../../src/index.js';
import { closeHttpServer, listenOnLoopback, readBody } from '../../kit/loopback-server.js';

export interface SeenTokenRequest {
  /** The form parameters of the request (grant_type, code, code_verifier, refresh_token, ...). */
  form: Record<string, string>;
  /** The raw body as sent. */
  raw: string;
  authorization: string | undefined;
}

/** How the token endpoint answers: a JSON body and a status, or an echo of the request (422). */
export type TokenAnswer =
  | { status?: number; json: Record<string, unknown> }
  | { echo: true; status?: number }
  | ((request: SeenTokenRequest) => { status: number; json: Record<string, unknown> });

export interface HostileOAuthServer {
  /** http://127.0.0.1:PORT, the issuer. */
  origin: string;
  /** The MCP server's URL (only its metadata is served). */
  mcpUrl: string;
  tokenRequests: SeenTokenRequest[];
  /** Fields merged into the authorization server metadata. */
  metadata: Record<string, unknown>;
  /** Fields merged into the protected-resource metadata; `null` serves none (404). */
  resourceMetadata: Record<string, unknown> | null;
  /** The device authorization response (RFC 8628 §3.2). */
  deviceAnswer: Record<string, unknown>;
  token: TokenAnswer;
  /**
   * A browser that sends the callback what the test says: `code` (and the state the login sent),
   * or an error response. It never loads the authorization endpoint.
   */
  browser(answer: { code: string } | { error: string; errorDescription?: string }): OpenBrowser;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * The 422 of a framework that validates its input and echoes it back (FastAPI, Pydantic, Rails
 * strong parameters...): every form field as a JSON pair, the Authorization header, the raw body.
 */
export function echoBody(request: SeenTokenRequest): Record<string, unknown> {
  return {
    detail: [
      {
        type: 'value_error',
        loc: ['body'],
        msg: 'Unprocessable Entity',
        input: request.form,
      },
    ],
    headers: { authorization: request.authorization ?? null },
    raw: request.raw,
  };
}

export async function startHostileOAuthServer(): Promise<HostileOAuthServer> {
  const tokenRequests: SeenTokenRequest[] = [];
  let origin = '';
  const state: Pick<HostileOAuthServer, 'metadata' | 'resourceMetadata' | 'deviceAnswer' | 'token'> = {
    metadata: {},
    resourceMetadata: {},
    deviceAnswer: {},
    token: { echo: true },
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    void (async () => {
      const raw = await readBody(req);
      if (path === '/.well-known/oauth-protected-resource/mcp') {
        if (state.resourceMetadata === null) return sendJson(res, 404, { error: 'not_found' });
        return sendJson(res, 200, {
          resource: `${origin}/mcp`,
          authorization_servers: [origin],
          scopes_supported: ['mcp:read'],
          ...state.resourceMetadata,
        });
      }
      if (path === '/.well-known/oauth-authorization-server') {
        return sendJson(res, 200, {
          issuer: origin,
          authorization_endpoint: `${origin}/authorize`,
          token_endpoint: `${origin}/token`,
          device_authorization_endpoint: `${origin}/device`,
          response_types_supported: ['code'],
          grant_types_supported: [
            'authorization_code',
            'refresh_token',
            'urn:ietf:params:oauth:grant-type:device_code',
          ],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_post'],
          ...state.metadata,
        });
      }
      if (path === '/device') {
        return sendJson(res, 200, {
          device_code: 'device-code-not-shown',
          user_code: 'ABCD-EFGH',
          verification_uri: `${origin}/activate`,
          expires_in: 600,
          interval: 1,
          ...state.deviceAnswer,
        });
      }
      if (path === '/token') {
        const seen: SeenTokenRequest = {
          form: Object.fromEntries(new URLSearchParams(raw)),
          raw,
          authorization: req.headers.authorization,
        };
        tokenRequests.push(seen);
        const answer = state.token;
        if (typeof answer === 'function') {
          const { status, json } = answer(seen);
          return sendJson(res, status, json);
        }
        if ('echo' in answer) return sendJson(res, answer.status ?? 422, echoBody(seen));
        return sendJson(res, answer.status ?? 200, answer.json);
      }
      sendJson(res, 404, { error: 'not_found' });
    })().catch(() => res.destroy());
  });
  origin = await listenOnLoopback(server);
  return {
    origin,
    mcpUrl: `${origin}/mcp`,
    tokenRequests,
    get metadata() {
      return state.metadata;
    },
    set metadata(value) {
      state.metadata = value;
    },
    get resourceMetadata() {
      return state.resourceMetadata;
    },
    set resourceMetadata(value) {
      state.resourceMetadata = value;
    },
    get deviceAnswer() {
      return state.deviceAnswer;
    },
    set deviceAnswer(value) {
      state.deviceAnswer = value;
    },
    get token() {
      return state.token;
    },
    set token(value) {
      state.token = value;
    },
    browser(answer) {
      return async (url) => {
        const authorize = new URL(url);
        const callback = new URL(authorize.searchParams.get('redirect_uri') ?? '');
        callback.searchParams.set('state', authorize.searchParams.get('state') ?? '');
        if ('code' in answer) {
          callback.searchParams.set('code', answer.code);
          // RFC 9207: the issuer the metadata states, whatever it is.
          callback.searchParams.set(
            'iss',
            typeof state.metadata.issuer === 'string' ? state.metadata.issuer : origin,
          );
        } else {
          callback.searchParams.set('error', answer.error);
          if (answer.errorDescription)
            callback.searchParams.set('error_description', answer.errorDescription);
        }
        // Like a browser: the callback page is loaded; whatever it answers, the login decides.
        void fetch(callback).then(
          (r) => r.arrayBuffer(),
          () => undefined,
        );
        return { failed: new Promise<never>(() => {}) };
      };
    },
    close: () => closeHttpServer(server),
  };
}

/** A config.yaml naming the hostile server with a configured client whose secret is EVIL_SECRET. */
export function hostileServerConfig(server: { mcpUrl: string }): string {
  return `servers:\n  evil:\n    url: ${server.mcpUrl}\n    oauth:\n      client_id: planted-client\n      client_secret_env: EVIL_SECRET\n      timeout: 20\n`;
}
