import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { closeHttpServer, listenOnLoopback, readBody } from './loopback-server.js';

/** Hop-by-hop headers belong to one connection; Node sets its own on the next one. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/** The end-to-end headers of a request or response, for a proxy to send on. */
export function forwardableHeaders(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/**
 * Sends `req` on to `target` (same method, path and end-to-end headers, Host rewritten) and
 * streams the answer back; `body` when the caller already read the request body, else the request
 * is piped. An upstream failure answers 502.
 */
export function forwardTo(
  target: URL,
  req: IncomingMessage,
  res: ServerResponse,
  body?: Buffer | string,
): void {
  const upstream = request(
    {
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...forwardableHeaders(req.headers), host: target.host },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, forwardableHeaders(answer.headers));
      answer.pipe(res);
      res.on('close', () => answer.destroy());
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  if (body === undefined) req.pipe(upstream);
  else upstream.end(body);
}

/** What a recording proxy saw of one request: everything that could carry a credential. */
export interface ProxiedRequest {
  path: string;
  /** The query string, with its leading `?` (or empty). */
  search: string;
  body: string;
  authorization: string | undefined;
}

/** A reverse proxy on 127.0.0.1 that records every request, then forwards it to its target. */
export async function startRecordingProxy(): Promise<{
  url: string;
  seen: ProxiedRequest[];
  setTarget(origin: string): void;
  close(): Promise<void>;
}> {
  const seen: ProxiedRequest[] = [];
  let target: URL | undefined;
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ path: url.pathname, search: url.search, body, authorization: req.headers.authorization });
      if (!target) return void res.writeHead(503).end();
      forwardTo(target, req, res, body);
    })();
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    seen,
    setTarget: (origin) => {
      target = new URL(origin);
    },
    close: () => closeHttpServer(server),
  };
}
