import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on 127.0.0.1 on a free port and returns `http://127.0.0.1:PORT`.
 *
 * Tuned for herds of hundreds of simultaneous calls on a loaded two-core
 * machine: a deep accept queue (Node's default is 511 connections), and an
 * idle keep-alive longer than the client's (undici keeps 4 s), so that the
 * client, never the server, closes an idle connection: a server closing one
 * just as the client reuses it is a spurious ECONNRESET.
 */
export async function listenOnLoopback(server: Server): Promise<string> {
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// server.close() alone waits for every keep-alive socket (fetch keeps them for
// seconds) and every open SSE stream: a test run would hang on them. Stop
// accepting, then cut every connection, then wait for the close event.
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/** The whole body of a request, as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
