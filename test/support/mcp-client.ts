import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { ManagedProvider } from '../../src/sdk/managed-provider.js';

/**
 * An SDK v2 client wired the way a host with its own transports must wire it:
 * `{ authProvider: p, fetch: p.fetch }`, so a 401 is keyed by the exact token the server rejected
 * (docs/ARCHITECTURE.md, "The SDK seam").
 */
export async function connectV2(url: string, provider: ManagedProvider): Promise<Client> {
  const client = new Client({ name: 'test-host', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    authProvider: provider,
    fetch: provider.fetch,
  });
  await client.connect(transport);
  return client;
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}
