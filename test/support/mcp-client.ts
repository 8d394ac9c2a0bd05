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

/** What a batch of calls came to, as a child host reports it to its parent test. */
export interface CallsOutcome {
  ok: number;
  failed: number;
  /** The first three failures, as `describe` put them. */
  errors: string[];
}

/**
 * `calls` concurrent `echo` tool calls through `client`: how many succeeded and failed, and the
 * first few failures (by default the error's name; a suite that needs more passes `describe`).
 */
export async function echoCalls(
  client: Client,
  calls: number,
  describe: (reason: { name?: string; message?: string } | undefined) => string = (reason) =>
    String(reason?.name ?? reason),
): Promise<CallsOutcome> {
  const results = await Promise.allSettled(
    Array.from({ length: calls }, (_, i) =>
      client.callTool({ name: 'echo', arguments: { text: String(i) } }),
    ),
  );
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [describe(r.reason)] : []));
  return { ok: results.length - errors.length, failed: errors.length, errors: errors.slice(0, 3) };
}
