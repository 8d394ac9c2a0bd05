import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  isLegacyRequest,
  McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { closeHttpServer, listenOnLoopback } from '../test/kit/loopback-server.js';

export interface PlainMcpServer {
  url: string;
  stats: { requests: number; echo: number };
  close(): Promise<void>;
}

/**
 * The unauthenticated baseline of the round-trip benchmark: the test kit's MCP server without
 * its bearer gate. Same SDK server package, same stateless streamable HTTP (a fresh McpServer per
 * request, JSON answers for 2025-era traffic, the SDK's entry for 2026-07-28 traffic), same
 * routing, same `echo` tool; only the token check (and the protected resource metadata) is absent.
 */
export async function startPlainMcpServer(): Promise<PlainMcpServer> {
  const stats = { requests: 0, echo: 0 };

  function buildServer(): McpServer {
    const mcp = new McpServer({ name: 'bench-plain-mcp-server', version: '1.0.0' });
    mcp.registerTool(
      'echo',
      { description: 'Returns the text', inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => {
        stats.echo += 1;
        return { content: [{ type: 'text' as const, text }] };
      },
    );
    return mcp;
  }

  const modernHandler = createMcpHandler(() => buildServer(), { legacy: 'reject' });
  async function serveLegacy(request: Request): Promise<Response> {
    if (request.method !== 'POST') {
      return Response.json(
        { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null },
        { status: 405, headers: { allow: 'POST' } },
      );
    }
    const mcp = buildServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await mcp.connect(transport);
    try {
      return await transport.handleRequest(request);
    } finally {
      void mcp.close();
    }
  }
  const handler = toNodeHandler({
    fetch: async (request) => {
      stats.requests += 1;
      if (await isLegacyRequest(request.clone())) return serveLegacy(request);
      return modernHandler.fetch(request);
    },
  });

  const server = createServer();
  const origin = await listenOnLoopback(server);
  server.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    if (path !== '/mcp') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      console.error('[bench plain MCP server]', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });
  return {
    url: `${origin}/mcp`,
    stats,
    async close() {
      await modernHandler.close();
      await closeHttpServer(server);
    },
  };
}
