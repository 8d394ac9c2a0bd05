/**
 * Servers for test/security/credential-scope.test.ts: a recording HTTP server on 127.0.0.1 that
 * notes the Authorization header of every request it receives. With a target it forwards every
 * request it has no route for (streaming, so an SSE stream passes through), which puts it in front
 * of the kit's MCP server as that server's public origin: requests to other paths of the same
 * origin are then seen too.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardTo } from '../../kit/forwarding.js';
import { closeHttpServer, listenOnLoopback } from '../../kit/loopback-server.js';

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface RecordingServer {
  /** The origin, e.g. http://127.0.0.1:PORT (no trailing slash). */
  origin: string;
  seen: SeenRequest[];
  /** Requests to `path` (without the query) that carried an Authorization header. */
  withAuthorization(path?: string): SeenRequest[];
  /** Answers `method path` itself instead of forwarding. */
  route(method: string, path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** Forward unrouted requests to this origin (else they get 401 with a bearer challenge). */
  setTarget(origin: string): void;
  close(): Promise<void>;
}

/** Starts a recording server (see the file comment). */
export async function startRecordingServer(): Promise<RecordingServer> {
  const seen: SeenRequest[] = [];
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  let target: URL | undefined;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    seen.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization });
    const routed = routes.get(`${req.method} ${path}`);
    if (routed) return routed(req, res);
    if (!target) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return;
    }
    forwardTo(target, req, res);
  });
  const origin = await listenOnLoopback(server);
  return {
    origin: origin.replace(/\/$/, ''),
    seen,
    withAuthorization: (path) =>
      seen.filter((r) => r.authorization !== undefined && (path === undefined || r.path === path)),
    route: (method, path, handler) => {
      routes.set(`${method} ${path}`, handler);
    },
    setTarget: (to) => {
      target = new URL(to);
    },
    close: async () => {
      server.closeAllConnections();
      await closeHttpServer(server);
    },
  };
}
