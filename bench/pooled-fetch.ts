import type { FetchLike } from '@modelcontextprotocol/client';
import { Agent } from 'undici';

/**
 * Node's global fetch over a bounded connection pool, as a real host would use for thousands of
 * calls. The pool is passed as `dispatcher`, so responses stay global `Response` objects (the
 * SDK checks `instanceof Response`).
 */
export function pooledFetch(connections: number): { fetch: FetchLike; close: () => Promise<void> } {
  const agent = new Agent({ connections, pipelining: 1 });
  const fetchFn: FetchLike = (input, init) => fetch(input, { ...init, dispatcher: agent } as RequestInit);
  return { fetch: fetchFn, close: () => agent.close() };
}
