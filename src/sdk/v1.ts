/**
 * `mcp-oauth-manager/sdk-v1`: transports of the v1 SDK (`@modelcontextprotocol/sdk` 1.x, an
 * optional peer dependency; the package root never imports this file).
 *
 * A v1 `authProvider` cannot keep the manager's guarantees: on a 401 the v1 transport runs the
 * SDK's own `auth()` and refreshes by itself, outside the single flight and the lock. So v1
 * transports are built with the provider's `fetch` and no `authProvider`: the fetch injects the
 * current token and sends every 401 through the manager's refresh transaction, retrying once.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ManagedProvider } from './managed-provider.js';

/** A v1 Streamable HTTP transport authenticated by `provider`. */
export function createV1StreamableHttpTransport(
  provider: ManagedProvider,
  url: string | URL,
): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(String(url)), { fetch: provider.fetch });
}

/** A v1 SSE transport authenticated by `provider` (the stream and the POSTs both use its fetch). */
export function createV1SseTransport(provider: ManagedProvider, url: string | URL): SSEClientTransport {
  return new SSEClientTransport(new URL(String(url)), { fetch: provider.fetch });
}
