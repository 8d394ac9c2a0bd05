import type { FetchLike } from '@modelcontextprotocol/client';

/**
 * A fetch whose every request ends after `timeoutMs`, independent of any caller's signal: a
 * refresh that rotates a token must either finish or fail on its own clock, never be abandoned
 * half-way because one of the callers waiting for it went away.
 */
export function withTimeout(fetchFn: FetchLike, timeoutMs: number): FetchLike {
  return (input, init) => fetchFn(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}
