import { type IncomingMessage, request, type ServerResponse } from 'node:http';

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
