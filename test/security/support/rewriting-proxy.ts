import { createServer, type IncomingMessage, request } from 'node:http';
import { closeHttpServer, listenOnLoopback } from '../../kit/loopback-server.js';

/** Rewrites one JSON response: return the body to send instead, or undefined to pass it as is. */
export type JsonRewrite = (path: string, status: number, body: Record<string, unknown>) => unknown;

export interface RewritingProxy {
  /** http://127.0.0.1:PORT (use it as the authorization server's public issuer). */
  url: string;
  setTarget(origin: string): void;
  /** The rewrite applied to every JSON response from now on (undefined: pass everything). */
  setRewrite(rewrite: JsonRewrite | undefined): void;
  close(): Promise<void>;
}

// A reverse proxy in front of a real server (the kit's oidc-provider) that can rewrite its JSON
// answers: the real server still rotates refresh tokens and detects their reuse, and the client
// sees the hostile response the test wants. Bodies are buffered (they are small).
export async function startRewritingProxy(): Promise<RewritingProxy> {
  let target: URL | undefined;
  let targetSet: () => void = () => {};
  // Requests that arrive before the target is known wait for it (the MCP server reads the
  // authorization server's metadata while the test is still starting things).
  const ready = new Promise<void>((resolve) => {
    targetSet = resolve;
  });
  let rewrite: JsonRewrite | undefined;
  const server = createServer(async (req: IncomingMessage, res) => {
    await ready;
    if (!target) return;
    const headers = { ...req.headers, host: target.host };
    delete headers['accept-encoding'];
    delete headers.connection;
    const upstream = request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          let body = Buffer.concat(chunks);
          const path = (req.url ?? '/').split('?')[0] ?? '/';
          const isJson = String(up.headers['content-type'] ?? '').includes('json');
          if (rewrite && isJson) {
            try {
              const replaced = rewrite(path, up.statusCode ?? 0, JSON.parse(body.toString('utf8')));
              if (replaced !== undefined) body = Buffer.from(JSON.stringify(replaced));
            } catch {
              // Not JSON after all: pass it on untouched.
            }
          }
          const out = { ...up.headers };
          delete out['content-length'];
          delete out['transfer-encoding'];
          delete out.connection;
          res.writeHead(up.statusCode ?? 502, { ...out, 'content-length': String(body.length) }).end(body);
        });
      },
    );
    upstream.on('error', () => res.headersSent || res.writeHead(502).end());
    req.pipe(upstream);
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    setTarget: (origin) => {
      target = new URL(origin);
      targetSet();
    },
    setRewrite: (next) => {
      rewrite = next;
    },
    close: () => closeHttpServer(server),
  };
}
