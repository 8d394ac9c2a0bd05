import type { AuthProvider, FetchLike } from '@modelcontextprotocol/client';
import { ConfigError, NeedsReauthError } from '../errors.js';
import type { Challenge, ProviderPort } from '../manager/provider-port.js';
import { REASONS } from '../manager/usability.js';

/**
 * The object a host hands to its MCP transports. Three faces:
 * - `token()` / `onUnauthorized()`: the SDK v2 `AuthProvider`;
 * - `fetch`: a bound fetch that records which token each request carried, so a 401 is keyed by
 *   the exact token the server rejected; used on its own (no Authorization header on the request)
 *   it injects the token itself and retries once after recovery, which is how v1 transports use it.
 *
 * The credential goes only to the server it is bound to. `fetch` sends it (and recovers a 401)
 * only for a URL on the server URL's origin whose path is the server URL's path or below it, or
 * below the path of the bound resource (RFC 8707; used only when it covers the server URL, as
 * RFC 9728 requires), or exactly the path of a message endpoint that the server announced on its
 * own legacy SSE stream (the `endpoint` event, read as the stream passes through `fetch`; only a
 * same-origin one counts, as in the SDK). Any other URL goes out without an Authorization header,
 * even one the caller set, and a 401 from it is returned as is: `onUnauthorized` refuses it with
 * ConfigError instead of refreshing or logging in. So a redirect, a link in a response or a
 * hostile SSE announcement cannot make this provider hand the token to another server or to
 * another application on the same host.
 *
 * Deliberately NOT an `OAuthClientProvider`: it has no `tokens()`/`clientInformation()`, because
 * a transport that sees those runs the SDK's own `auth()` on a 401 and bypasses the manager's
 * single-flight and lock.
 */
export class ManagedProvider implements AuthProvider {
  /** Which token each response answered ('' for none); weak, so responses are collected as usual. */
  private readonly carried = new WeakMap<Response, string>();
  /** Responses to requests outside the bound server: sent without a credential, never recovered. */
  private readonly outOfScope = new WeakSet<Response>();
  /** Paths of the message endpoints the bound server announced on its SSE streams (same origin). */
  private readonly announced = new Set<string>();
  private readonly server: URL;
  private resource: { href: string | undefined; path: string | undefined } = {
    href: undefined,
    path: undefined,
  };

  /**
   * @param serverUrl the URL of the MCP server the credential is bound to.
   * @param boundResource the resource of the stored credential's binding, read at each request
   *   (it changes with a login); undefined when there is none.
   */
  constructor(
    private readonly manager: ProviderPort,
    readonly name: string,
    private readonly baseFetch: FetchLike,
    serverUrl: string | URL,
    private readonly boundResource: () => string | undefined = () => undefined,
    /** The account whose credential this provider sends (undefined: the manager's default). */
    readonly account?: string,
  ) {
    this.server = new URL(String(serverUrl));
  }

  /**
   * The token for the next request; no I/O while it is fresh. Undefined when there is no usable
   * credential and a login may start: the request then goes out without one, and the server's
   * 401 challenge (scope, resource metadata) drives the login in `onUnauthorized`.
   */
  readonly token = (): Promise<string | undefined> => this.manager.tokenForRequest(this.name, this.account);

  /**
   * Called by a v2 transport on a 401, before its one retry. Recovery is keyed by the token the
   * rejected request carried (recorded by `fetch`); without `fetch`, by the current token.
   */
  readonly onUnauthorized = async (ctx: UnauthorizedContext): Promise<void> => {
    if (this.outOfScope.has(ctx.response)) {
      const where = new URL(ctx.response.url || String(ctx.serverUrl));
      throw new ConfigError(
        `A request of MCP server '${this.name}' went to ${where.origin}${where.pathname}, outside that server (${this.server.origin}${this.server.pathname}): it was sent without a credential and its 401 is not recovered. Send this server's requests to its URL.`,
        { server: this.name },
      );
    }
    const carried = this.carried.get(ctx.response);
    const rejected = carried === undefined ? undefined : carried === '' ? null : carried;
    const recovered = await this.manager.handle401(
      this.name,
      rejected,
      await challengeOf(ctx.response),
      this.account,
    );
    if (!recovered) {
      throw new NeedsReauthError(
        this.name,
        this.manager.reloginCommandFor(this.name, this.account),
        REASONS.serverRejected,
      );
    }
  };

  /** A fetch bound to this server's credential (see the class comment). */
  readonly fetch: FetchLike = async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const url = urlOf(input);
    const scoped = this.inScope(url);
    if (!url || !(scoped === true || (scoped !== false && (await scoped)))) {
      // Not the bound server: no credential, whoever set it, and no recovery of its 401.
      headers.delete('authorization');
      const response = await this.baseFetch(input, { ...init, headers });
      this.outOfScope.add(response);
      return response;
    }
    const presented = bearerOf(headers.get('authorization'));
    if (presented !== undefined) {
      // The transport set the token (from token()) and handles the 401 itself: only record.
      const response = this.readAnnouncements(url, init, await this.baseFetch(input, init));
      this.carried.set(response, presented);
      return response;
    }
    const token = await this.token();
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
    const response = this.readAnnouncements(url, init, await this.baseFetch(input, { ...init, headers }));
    this.carried.set(response, token ?? '');
    if (token === undefined) void this.manager.noteUnauthenticatedAnswer?.(this.name, response.status);
    if (response.status !== 401 || !isReplayable(init?.body)) return response;
    // A 401 means the server did not run the request, so one retry after recovery is safe.
    if (!(await this.manager.handle401(this.name, token ?? null, await challengeOf(response), this.account)))
      return response;
    await response.body?.cancel().catch(() => {});
    const retryToken = await this.token();
    if (retryToken === undefined) return response;
    headers.set('authorization', `Bearer ${retryToken}`);
    const retried = this.readAnnouncements(url, init, await this.baseFetch(input, { ...init, headers }));
    this.carried.set(retried, retryToken);
    return retried;
  };

  /** May a request to `url` carry this server's credential? (See the class comment.) */
  private inScope(url: URL | undefined): boolean | Promise<boolean> {
    if (!url || url.origin !== this.server.origin) return false;
    if (isUnder(url.pathname, this.server.pathname) || this.announced.has(url.pathname)) return true;
    return this.underResource(url);
  }

  private async underResource(url: URL): Promise<boolean> {
    // The bound resource comes with the stored record: have it read (no I/O once it was).
    await this.token().catch(() => undefined);
    const resourcePath = this.resourcePath();
    return resourcePath !== undefined && isUnder(url.pathname, resourcePath);
  }

  /** The bound resource's path when it covers the server URL (same origin, server path below it). */
  private resourcePath(): string | undefined {
    const href = this.boundResource();
    if (href !== this.resource.href) {
      let path: string | undefined;
      try {
        const resource = href === undefined ? undefined : new URL(href);
        if (resource?.origin === this.server.origin && isUnder(this.server.pathname, resource.pathname))
          path = resource.pathname;
      } catch {
        path = undefined;
      }
      this.resource = { href, path };
    }
    return this.resource.path;
  }

  /**
   * A GET answered with an event stream may be a legacy SSE stream: its `endpoint` event names
   * the URL the transport will POST messages to. The bytes pass through unchanged; the announced
   * path is trusted from then on if it is on the server's origin (the SDK refuses any other).
   */
  private readAnnouncements(url: URL, init: RequestInit | undefined, response: Response): Response {
    const method = (init?.method ?? 'GET').toUpperCase();
    const type = response.headers.get('content-type') ?? '';
    if (method !== 'GET' || !response.ok || !response.body || !type.includes('text/event-stream'))
      return response;
    const parser = new EndpointAnnouncements((data) => {
      let endpoint: URL;
      try {
        endpoint = new URL(data, url);
      } catch {
        return;
      }
      if (endpoint.origin === this.server.origin) this.announced.add(endpoint.pathname);
    });
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          parser.push(chunk);
          controller.enqueue(chunk);
        },
      }),
    );
    const wrapped = new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    // EventSource and the SDK's redirect handling read these.
    Object.defineProperty(wrapped, 'url', { value: response.url });
    Object.defineProperty(wrapped, 'redirected', { value: response.redirected });
    return wrapped;
  }
}

/** The longest SSE line kept while looking for `endpoint` events; longer ones are skipped. */
const MAX_ANNOUNCEMENT_LINE = 16 * 1024;

/**
 * Finds `endpoint` events in an SSE byte stream (the WHATWG event-stream format: lines end in
 * CRLF, LF or CR; `event:` and `data:` fields; a blank line dispatches) and reports their data.
 */
class EndpointAnnouncements {
  private readonly decoder = new TextDecoder();
  private pending = '';
  private skipping = false;
  private event = '';
  private data: string[] = [];
  private spoiled = false;

  constructor(private readonly onEndpoint: (data: string) => void) {}

  push(chunk: Uint8Array): void {
    let text = this.pending + this.decoder.decode(chunk, { stream: true });
    // A CR at the end may be the first half of a CRLF: wait for the next chunk.
    const lines = text.split(/\r\n|\r(?!$)|\n/);
    text = lines.pop() ?? '';
    for (const line of lines) {
      if (this.skipping) {
        this.skipping = false;
        this.spoiled = true;
        continue;
      }
      this.line(line);
    }
    if (text.length > MAX_ANNOUNCEMENT_LINE) {
      text = '';
      this.skipping = true;
    }
    this.pending = text;
  }

  private line(line: string): void {
    if (line === '') {
      if (this.event === 'endpoint' && !this.spoiled && this.data.length > 0)
        this.onEndpoint(this.data.join('\n'));
      this.event = '';
      this.data = [];
      this.spoiled = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}

/** The URL of a fetch input, or undefined when it is not an absolute URL. */
function urlOf(input: Parameters<FetchLike>[0] | Request): URL | undefined {
  try {
    return new URL(input instanceof Request ? input.url : String(input));
  } catch {
    return undefined;
  }
}

/** Is `path` the path `base` or below it (`/mcp` covers `/mcp` and `/mcp/x`, not `/mcpx`)? */
function isUnder(path: string, base: string): boolean {
  const folder = base.endsWith('/') ? base : `${base}/`;
  return path === base || path === folder.slice(0, -1) || path.startsWith(folder);
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
