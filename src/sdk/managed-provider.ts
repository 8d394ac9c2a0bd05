import type { AuthProvider, FetchLike } from '@modelcontextprotocol/client';
import { NeedsReauthError } from '../errors.js';
import type { Challenge, ProviderPort } from '../manager/provider-port.js';
import { REASONS } from '../manager/usability.js';

/**
 * The object a host hands to its MCP transports. Three faces:
 * - `token()` / `onUnauthorized()`: the SDK v2 `AuthProvider`;
 * - `fetch`: a bound fetch that records which token each request carried, so a 401 is keyed by
 *   the exact token the server rejected; used on its own (no Authorization header on the request)
 *   it injects the token itself and retries once after recovery, which is how v1 transports use it.
 *
 * Deliberately NOT an `OAuthClientProvider`: it has no `tokens()`/`clientInformation()`, because
 * a transport that sees those runs the SDK's own `auth()` on a 401 and bypasses the manager's
 * single-flight and lock.
 */
export class ManagedProvider implements AuthProvider {
  /** Which token each response answered ('' for none); weak, so responses are collected as usual. */
  private readonly carried = new WeakMap<Response, string>();

  constructor(
    private readonly manager: ProviderPort,
    readonly name: string,
    private readonly baseFetch: FetchLike,
  ) {}

  /**
   * The token for the next request; no I/O while it is fresh. Undefined when there is no usable
   * credential and a login may start: the request then goes out without one, and the server's
   * 401 challenge (scope, resource metadata) drives the login in `onUnauthorized`.
   */
  readonly token = (): Promise<string | undefined> => this.manager.tokenForRequest(this.name);

  /**
   * Called by a v2 transport on a 401, before its one retry. Recovery is keyed by the token the
   * rejected request carried (recorded by `fetch`); without `fetch`, by the current token.
   */
  readonly onUnauthorized = async (ctx: UnauthorizedContext): Promise<void> => {
    const carried = this.carried.get(ctx.response);
    const rejected = carried === undefined ? undefined : carried === '' ? null : carried;
    const recovered = await this.manager.handle401(this.name, rejected, await challengeOf(ctx.response));
    if (!recovered) {
      throw new NeedsReauthError(
        this.name,
        this.manager.reloginCommandFor(this.name),
        REASONS.serverRejected,
      );
    }
  };

  /** A fetch bound to this server's credential (see the class comment). */
  readonly fetch: FetchLike = async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const presented = bearerOf(headers.get('authorization'));
    if (presented !== undefined) {
      // The transport set the token (from token()) and handles the 401 itself: only record.
      const response = await this.baseFetch(input, init);
      this.carried.set(response, presented);
      return response;
    }
    const token = await this.token();
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
    const response = await this.baseFetch(input, { ...init, headers });
    this.carried.set(response, token ?? '');
    if (response.status !== 401 || !isReplayable(init?.body)) return response;
    // A 401 means the server did not run the request, so one retry after recovery is safe.
    if (!(await this.manager.handle401(this.name, token ?? null, await challengeOf(response))))
      return response;
    await response.body?.cancel().catch(() => {});
    const retryToken = await this.token();
    if (retryToken === undefined) return response;
    headers.set('authorization', `Bearer ${retryToken}`);
    const retried = await this.baseFetch(input, { ...init, headers });
    this.carried.set(retried, retryToken);
    return retried;
  };
}

/** What a v2 transport passes to `onUnauthorized` (the SDK does not export the type by name). */
type UnauthorizedContext = Parameters<NonNullable<AuthProvider['onUnauthorized']>>[0];

/** The parts of a 401's `WWW-Authenticate` challenge that shape a login (RFC 6750 §3, RFC 9728 §5.1). */
async function challengeOf(response: Response): Promise<Challenge> {
  // Loaded on the first 401 only: a process that just reads tokens (the CLI) never loads the SDK.
  const { extractWWWAuthenticateParams } = await import('@modelcontextprotocol/client');
  const { scope, resourceMetadataUrl } = extractWWWAuthenticateParams(response);
  return { ...(scope ? { scope } : {}), ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}) };
}

function bearerOf(value: string | null): string | undefined {
  const match = value ? /^Bearer\s+(.+)$/i.exec(value) : null;
  return match ? match[1] : undefined;
}

function isReplayable(body: RequestInit['body'] | undefined): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body)
  );
}
