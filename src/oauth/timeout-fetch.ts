import type { FetchLike } from '@modelcontextprotocol/client';

/**
 * A fetch whose every request ends after `timeoutMs`, independent of any caller's signal: a
 * refresh that rotates a token must either finish or fail on its own clock, never be abandoned
 * half-way because one of the callers waiting for it went away.
 */
export function withTimeout(fetchFn: FetchLike, timeoutMs: number): FetchLike {
  return (input, init) => fetchFn(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * A fetch whose every request is also aborted by `signal` (a login's deadline or its
 * cancellation), on top of any signal the caller of the fetch passed.
 */
export function withSignal(fetchFn: FetchLike, signal: AbortSignal): FetchLike {
  return (input, init) =>
    fetchFn(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}
