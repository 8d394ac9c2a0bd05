import type { FetchLike } from '@modelcontextprotocol/client';
import { RequestTimeoutError } from './network-error.js';

/**
 * A fetch whose every request ends after `timeoutMs`, independent of any caller's signal: a
 * refresh that rotates a token must either finish or fail on its own clock, never be abandoned
 * half-way because one of the callers waiting for it went away. The abort reason is a
 * RequestTimeoutError, so the error names the limit ("no answer within 30 s").
 */
export function withTimeout(fetchFn: FetchLike, timeoutMs: number): FetchLike {
  return (input, init) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RequestTimeoutError(timeoutMs)), timeoutMs);
    timer.unref?.();
    return fetchFn(input, { ...init, signal: controller.signal });
  };
}

/**
 * A fetch whose every request is also aborted by `signal` (a login's deadline or its
 * cancellation), on top of any signal the caller of the fetch passed.
 */
export function withSignal(fetchFn: FetchLike, signal: AbortSignal): FetchLike {
  return (input, init) =>
    fetchFn(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}
