import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer, type Socket } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { closeHttpServer, listenOnLoopback } from '../kit/loopback-server.js';

/** A small server on 127.0.0.1 written for one first-hour case; `close()` stops it. */
export interface OddServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Requests seen (method and path), in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Accepts connections and never answers a byte. */
export async function startSilentServer(): Promise<OddServer> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const server = createNetServer((socket) => {
    sockets.add(socket);
    requests.push('connection');
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers every request with `status` and `body` (JSON). */
export async function startConstantServer(status: number, body: string): Promise<OddServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  const origin = await listenOnLoopback(server);
  return { origin, requests, close: () => closeHttpServer(server) };
}

/** A port nothing listens on (bound, then released). */
export async function refusedOrigin(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * A real MCP server of the SDK with no authentication at all, at `/mcp` (404 elsewhere): one
 * tool, `echo`. `requests` counts the MCP requests and which carried an Authorization header.
 */
export async function startPublicMcpServer(): Promise<
  OddServer & { url: string; withAuthorization: number; requireAuthentication(): void }
> {
  const requests: string[] = [];
  const state = { withAuthorization: 0, closed: false };
  const handler = toNodeHandler(
    createMcpHandler(() => {
      const mcp = new McpServer({ name: 'public', version: '1.0.0' });
      mcp.registerTool('echo', { description: 'echo' }, async () => ({
        content: [{ type: 'text', text: 'hello' }],
      }));
      return mcp;
    }),
  );
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.headers.authorization) state.withAuthorization++;
    if (state.closed) {
      // From now on it needs authentication (and publishes no metadata: a login cannot start).
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    if (!req.url?.startsWith('/mcp')) {
      req.resume();
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    void handler(req, res);
  });
  const origin = await listenOnLoopback(server);
  return {
    origin,
    url: `${origin}/mcp`,
    requests,
    get withAuthorization() {
      return state.withAuthorization;
    },
    requireAuthentication() {
      state.closed = true;
    },
    close: () => closeHttpServer(server),
  };
}
