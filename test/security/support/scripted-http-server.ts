import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeHttpServer, listenOnLoopback } from '../../kit/loopback-server.js';

/** How a path is answered: JSON (optionally padded to `padBytes`), or never (`hang`). */
export type ScriptedAnswer =
  | { json: Record<string, unknown>; status?: number; padBytes?: number }
  | { hang: true }
  | ((req: IncomingMessage, body: string, res: ServerResponse) => void);

export interface ScriptedHttpServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Every request's method and path, in order. */
  requests: string[];
  /** Answers `path` (without the query) this way from now on; other paths get 404. */
  on(path: string, answer: ScriptedAnswer): void;
  close(): Promise<void>;
}

// A small hostile server for one test: fixed JSON documents (a protected resource's metadata, an
// authorization server's metadata, a device endpoint), huge ones, or requests that are accepted
// and never answered.
export async function startScriptedHttpServer(): Promise<ScriptedHttpServer> {
  const answers = new Map<string, ScriptedAnswer>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push(`${req.method} ${path}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = answers.get(path);
      if (!answer) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      } else if (typeof answer === 'function') {
        answer(req, Buffer.concat(chunks).toString('utf8'), res);
      } else if ('hang' in answer) {
        // Accepted, never answered: the client's deadline must end it.
      } else {
        const body = answer.padBytes
          ? JSON.stringify({ ...answer.json, padding: 'x'.repeat(answer.padBytes) })
          : JSON.stringify(answer.json);
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(body);
      }
    });
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    requests,
    on: (path, answer) => answers.set(path, answer),
    close: () => closeHttpServer(server),
  };
}
