import type { FetchLike } from '@modelcontextprotocol/client';
import type { Logger } from '../logger.js';

// Its own module, free of the MCP SDK at run time: the manager wraps its one fetch with it, and
// loading the manager for `status` or `token` must not load the protocol code.

/**
 * A request that got no HTTP answer (refused, reset, DNS, TLS, a timeout), named the way a person
 * can act on: the method and URL (no query, where secrets travel), the cause in plain words with
 * its system code, and what to check. It is a TypeError, like the `fetch failed` it replaces, so
 * code that tells network failures apart by that (the SDK, the circuit breaker) is unchanged.
 */
export class NetworkError extends TypeError {
  /** `GET https://host/path` (query and fragment dropped). */
  readonly request: string;
  /** The system error code when there is one (`ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, ...). */
  readonly errno: string | undefined;
  /** The cause in words: `connection refused (ECONNREFUSED 127.0.0.1:45999)`. */
  readonly reason: string;
  constructor(request: string, reason: string, errno: string | undefined, hint: string, cause: unknown) {
    super(`${request} failed: ${reason}; ${hint}`, { cause });
    this.name = 'NetworkError';
    this.request = request;
    this.reason = reason;
    this.errno = errno;
  }
}

/** A request aborted by its own time limit (see `withTimeout`): the limit is named, in seconds. */
export class RequestTimeoutError extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`no answer within ${formatSeconds(timeoutMs)}`);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

/**
 * The URL as it may be shown: scheme, host, port and path; no user info, query or fragment (an
 * authorization request or a callback carries a code, a state or a token there).
 */
export function safeUrl(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed) return '(an invalid URL)';
  return `${parsed.origin}${parsed.pathname}${parsed.search ? '?…' : ''}`;
}

/** The innermost error with a system `code` (undici nests them: TypeError -> cause -> cause). */
function systemError(
  error: unknown,
): (Error & { code?: string; address?: string; port?: number }) | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      /^(E[A-Z_]+|UND_ERR_\w+|ERR_TLS\w*|[A-Z_]*CERT[A-Z_]*|DEPTH_ZERO\w*)$/.test(code)
    )
      return current as Error & { code: string };
    if (current instanceof AggregateError && current.errors.length > 0) current = current.errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns what `fetch` threw into a NetworkError naming the request, the cause and the next step;
 * returns `error` itself when it is not a network failure (a caller's cancellation, a bug).
 */
export function describeFetchFailure(error: unknown, method: string, url: string): unknown {
  if (error instanceof NetworkError) return error;
  const request = `${method.toUpperCase()} ${safeUrl(url)}`;
  const host = URL.parse(url)?.host ?? url;
  if (error instanceof RequestTimeoutError) {
    return new NetworkError(
      request,
      `the server did not answer (${error.message})`,
      'ETIMEDOUT',
      `check that ${host} is the right server and that it is up`,
      error,
    );
  }
  // A caller's abort (Ctrl-C, a login deadline) is not a network failure: it stays what it is.
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) return error;
  if (!(error instanceof TypeError)) return error;
  const sys = systemError(error);
  const code = sys?.code;
  const at = sys?.address ? ` ${sys.address}${sys.port ? `:${sys.port}` : ''}` : ` ${host}`;
  switch (code) {
    case 'ECONNREFUSED':
      return new NetworkError(
        request,
        `connection refused (ECONNREFUSED${at})`,
        code,
        'nothing listens there: check that the server is running and the URL (host and port) is right',
        error,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new NetworkError(
        request,
        `the host name does not resolve (DNS ${code} ${URL.parse(url)?.hostname ?? host})`,
        code,
        'check the spelling of the URL and your network or VPN',
        error,
      );
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return new NetworkError(
        request,
        `the connection was closed by the other end (${code}${at})`,
        code,
        'the server or a proxy in between dropped it: retry, and check that the URL speaks HTTP(S) as its scheme says',
        error,
      );
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new NetworkError(
        request,
        `the server did not answer in time (${code}${at})`,
        code,
        `check that ${host} is reachable from here (firewall, proxy, VPN)`,
        error,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new NetworkError(
        request,
        `no route to the host (${code}${at})`,
        code,
        'check your network connection',
        error,
      );
    default:
      if (code && /CERT|TLS|SSL|DEPTH_ZERO/.test(code)) {
        return new NetworkError(
          request,
          `the TLS connection failed (${code}: ${sys?.message ?? 'no detail'})`,
          code,
          'the server certificate is not trusted here: check the host name, the clock, and NODE_EXTRA_CA_CERTS for a private CA',
          error,
        );
      }
      return new NetworkError(
        request,
        `no answer (${code ? `${code}: ` : ''}${sys?.message ?? (error.cause instanceof Error ? error.cause.message : error.message)})`,
        code,
        'check the URL and that the server is reachable',
        error,
      );
  }
}

/**
 * The manager's one fetch: every request of every flow (discovery, registration, token, device,
 * revocation, MCP) goes through it. A network failure becomes a {@link NetworkError} (URL, cause,
 * next step: no `--verbose` needed to see why), and each request is logged at debug level with
 * its method, URL without query, status and time (`--verbose` in the CLI).
 */
export function observedFetch(fetchFn: FetchLike, logger: Logger, now: () => number = Date.now): FetchLike {
  return async (input, init) => {
    const url =
      typeof input === 'string' ? input : input instanceof URL ? input.href : (input as Request).url;
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const started = now();
    try {
      const response = await fetchFn(input, init);
      logger.debug(`HTTP ${method} ${safeUrl(url)} -> ${response.status} (${now() - started} ms)`);
      return response;
    } catch (error) {
      const mapped = describeFetchFailure(error, method, url);
      const said = mapped instanceof Error ? mapped.message : String(mapped);
      logger.debug(`HTTP ${method} ${safeUrl(url)} -> failed after ${now() - started} ms: ${said}`);
      throw mapped;
    }
  };
}
