import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { HOP_BY_HOP } from './forwarding.js';
import { closeHttpServer, listenOnLoopback } from './loopback-server.js';

// A reverse proxy in front of a real server, for the faults a real server
// cannot produce on demand: a 5xx, a request that never gets an answer, a
// connection cut mid-request.

/**
 * 'status500' answers 500; 'hang' never answers; 'drop' destroys the connection before forwarding;
 * 'drop-response' forwards the request (the server runs it) and destroys the connection instead of
 * relaying the answer: a request that failed after the server received it.
 */
export type FaultMode = 'pass' | 'status500' | 'hang' | 'drop' | 'drop-response';

export interface FaultOptions {
  /** Only requests whose path (without the query) equals this or matches it. Default: every request. */
  path?: string | RegExp;
  /** Fault this many matching requests, then go back to 'pass'. Default: until changed. */
  times?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The origin requests are forwarded to (http://host:port). */
  setTarget(origin: string): void;
  setFault(mode: FaultMode, options?: FaultOptions): void;
  /** requests: all received; faulted: the ones that got a fault instead of the target. */
  stats: { requests: number; faulted: number };
  /** Closes the proxy and ends hung requests. */
  close(): Promise<void>;
}

/** Node's flat [name, value, ...] header list without hop-by-hop (and `drop`) headers. */
function forwardableRawHeaders(rawHeaders: string[], drop?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && lower !== drop) out.push(name, rawHeaders[i + 1] as string);
  }
  return out;
}

export async function startFaultProxy(target?: string): Promise<FaultProxy> {
  let targetUrl = target ? new URL(target) : undefined;
  let fault: { mode: FaultMode; path?: string | RegExp; remaining: number } = {
    mode: 'pass',
    remaining: Infinity,
  };
  const stats = { requests: 0, faulted: 0 };
  const hung = new Set<IncomingMessage>();
  // A private agent, so that close() can destroy its pooled upstream sockets.
  const agent = new Agent({ keepAlive: true });

  function takeFault(req: IncomingMessage): FaultMode {
    if (fault.mode === 'pass') return 'pass';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const matches =
      fault.path === undefined ||
      (typeof fault.path === 'string' ? path === fault.path : fault.path.test(path));
    if (!matches) return 'pass';
    const mode = fault.mode;
    fault.remaining -= 1;
    if (fault.remaining <= 0) fault = { mode: 'pass', remaining: Infinity };
    return mode;
  }

  function forward(req: IncomingMessage, res: ServerResponse, dropResponse = false): void {
    if (!targetUrl) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end('fault proxy: no target set');
      return;
    }
    // Host names the target; the public host goes along as X-Forwarded-Host.
    const headers = forwardableRawHeaders(req.rawHeaders, 'host');
    headers.push(
      'Host',
      targetUrl.host,
      'X-Forwarded-Host',
      req.headers.host ?? '',
      'X-Forwarded-Proto',
      'http',
    );
    const upstream = request(
      {
        agent,
        protocol: targetUrl.protocol,
        hostname: targetUrl.hostname,
        port: targetUrl.port,
        method: req.method,
        path: req.url,
        headers,
      },
      (upstreamRes) => {
        if (dropResponse) {
          upstreamRes.resume();
          upstreamRes.on('end', () => req.socket.destroy());
          return;
        }
        // Status, headers (every Set-Cookie, any Location) and body, untouched.
        res.writeHead(upstreamRes.statusCode ?? 502, forwardableRawHeaders(upstreamRes.rawHeaders));
        res.flushHeaders();
        upstreamRes.pipe(res);
        upstreamRes.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`fault proxy: ${error.message}`);
      } else {
        res.destroy();
      }
    });
    // A client that gives up (timeout, abort) gives up on the upstream too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  const server = createServer((req, res) => {
    stats.requests += 1;
    const mode = takeFault(req);
    if (mode === 'pass') {
      forward(req, res);
      return;
    }
    stats.faulted += 1;
    if (mode === 'status500') {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
    } else if (mode === 'drop') {
      req.socket.destroy();
    } else if (mode === 'drop-response') {
      forward(req, res, true);
    } else {
      // 'hang': read the request, never answer; close() ends it.
      req.resume();
      hung.add(req);
      req.socket.on('close', () => hung.delete(req));
    }
  });
  const url = await listenOnLoopback(server);

  return {
    url,
    stats,
    setTarget(origin: string) {
      targetUrl = new URL(origin);
    },
    setFault(mode: FaultMode, options: FaultOptions = {}) {
      fault = { mode, path: options.path, remaining: options.times ?? Infinity };
    },
    async close() {
      for (const req of hung) req.socket.destroy();
      hung.clear();
      await closeHttpServer(server);
      agent.destroy();
    },
  };
}
