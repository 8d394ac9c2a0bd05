import {
  Client,
  type ClientOptions,
  computeScopeUnion,
  isStrictScopeSuperset,
  type PriorDiscovery,
  InsufficientScopeError as SdkInsufficientScopeError,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type Transport,
} from '@modelcontextprotocol/client';
import {
  CircuitOpenError,
  InsufficientScopeError,
  McpOAuthError,
  NeedsReauthError,
  TransientAuthError,
} from '../errors.js';
import type { OAuthManager } from '../manager/oauth-manager.js';
import { SCOPE_REFUSAL_MS, type ScopeRefusal } from '../manager/scope-refusal.js';
import type { ManagedProvider } from '../sdk/managed-provider.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';

/** Requests connect() sends itself: they must not wait for the reconnect they are part of. */
const HANDSHAKE = new Set(['initialize', 'server/discover']);

/** Step-ups one call may start: with the authorization it started from, at most 3 in all. */
export const MAX_STEP_UPS_PER_CALL = 2;

/** The MCP transport a ManagedClient speaks: Streamable HTTP, or the older HTTP+SSE. */
export type TransportKind = 'streamable-http' | 'sse';

/**
 * An SDK v2 `Client` whose transport uses the manager's provider, and which heals itself:
 * - a 401 is recovered by the transport once (the provider's `onUnauthorized`), never replayed
 *   after the server received a request;
 * - a 403 `insufficient_scope` (on a call, or at connect on the probe or `initialize`) starts a step-up (a new authorization for the union of the granted
 *   and the required scopes, plus `offline_access` where the authorization server lists it: see
 *   `selectScope`), at most {@link MAX_STEP_UPS_PER_CALL} per call, only where the
 *   manager may prompt, else NeedsReauthError naming the missing scopes; scopes the authorization
 *   server did not grant at a step-up are noted in the store, and for `SCOPE_REFUSAL_MS` (10 min)
 *   no process steps up for them again: InsufficientScopeError at once;
 * - a server that keeps failing trips a circuit breaker (half-open probing);
 * - `reconnect-required` rebuilds the transport and session when the client is idle; a
 *   credential change also closes the breaker.
 *
 * @see [RFC 6750 §3.1. Error Codes](https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1)
 * @see [MCP Authorization (2025-11-25): Scope Challenge Handling](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-challenge-handling)
 * @see [MCP Authorization (2026-07-28): Step-Up Authorization Flow (SEP-2350)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#step-up-authorization-flow)
 */
export class ManagedClient extends Client {
  private kind: TransportKind | undefined;
  private stale = false;
  private inFlight = 0;
  private reconnecting: Promise<void> | undefined;
  private readonly breaker: CircuitBreaker;
  private readonly detach: () => void;
  /** The host's version negotiation mode (connect() makes 'auto' the default). */
  private readonly negotiation: NonNullable<ClientOptions['versionNegotiation']>['mode'];

  constructor(
    private readonly manager: OAuthManager,
    readonly server: string,
    private readonly url: URL,
    private readonly provider: ManagedProvider,
    private readonly preferred: 'auto' | TransportKind,
    clientInfo: { name: string; version: string },
    clientOptions: ClientOptions | undefined,
    breaker: CircuitBreakerOptions | undefined,
  ) {
    super(clientInfo, clientOptions);
    this.negotiation = clientOptions?.versionNegotiation?.mode;
    this.breaker = new CircuitBreaker(server, { now: manager.now }, breaker);
    // Events of this client's credential only: its server, and its account (a gateway's manager
    // serves many).
    const mine = (e: { server: string; account?: string }) =>
      e.server === server && e.account === provider.account;
    const onReconnect = (e: { server: string; account?: string; cause: string }) => {
      // Streamable HTTP asks token() on every request: only a new session or an SSE stream needs rebuilding.
      if (mine(e) && (this.kind === 'sse' || e.cause !== 'refresh-after-401')) this.stale = true;
    };
    const onChanged = (e: { server: string; account?: string }) => {
      if (mine(e)) this.breaker.reset();
    };
    // `request` is the one funnel every call goes through (callTool, listTools, ...): wrap it on
    // the instance (its overloads cannot be restated as a method override).
    const original = Client.prototype.request.bind(this) as (...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(this, 'request', {
      value: (...args: unknown[]) =>
        HANDSHAKE.has((args[0] as { method?: string } | undefined)?.method ?? '')
          ? original(...args) // sent by connect() itself, which is already managed
          : this.managed(() => original(...args)),
    });
    manager.on('reconnect-required', onReconnect);
    manager.on('credentials-changed', onChanged);
    this.detach = () => {
      manager.off('reconnect-required', onReconnect);
      manager.off('credentials-changed', onChanged);
    };
  }

  /** The account of this client's credential, as the manager's calls take it. */
  private get accountOption(): { account?: string } {
    return this.provider.account === undefined ? {} : { account: this.provider.account };
  }

  /** The transport in use once connected: Streamable HTTP, or SSE for servers that only speak it. */
  get transportKind(): TransportKind | undefined {
    return this.kind;
  }

  /** The state of this server's circuit breaker. */
  get circuitState(): 'closed' | 'open' | 'half-open' {
    return this.breaker.state;
  }

  /**
   * Connects: over Streamable HTTP the SDK's version negotiation picks the era (a `server/discover`
   * probe: 2026-07-28 when the server answers it, else the 2025 `initialize`; a 401 or 403 on the
   * probe is an authorization event, recovered or thrown, never taken for an older server); a
   * server that refuses that too with 400/404/405 may speak only HTTP+SSE (MCP 2024-11-05 back-compat),
   * which is never probed.
   *
   * @see [MCP Versioning (2026-07-28)](https://modelcontextprotocol.io/specification/2026-07-28/basic/versioning)
   * @see [MCP Transports (2025-11-25): Backwards Compatibility](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#backwards-compatibility)
   */
  async open(): Promise<void> {
    for (let stepUps = 0; ; ) {
      try {
        await this.openOnce();
        break;
      } catch (error) {
        // A 403 insufficient_scope on the probe or on initialize: the same step-up as for a call
        // (the server ran nothing), instead of the SDK's bare error.
        if (!SdkInsufficientScopeError.isInstance(error)) throw error;
        await super.close().catch(() => {});
        await this.stepUp(error.requiredScope, ++stepUps);
      }
    }
    // A login that happened while connecting is already in this session.
    this.stale = false;
  }

  private async openOnce(): Promise<void> {
    if (this.preferred !== 'auto') return this.connectOver(this.preferred);
    try {
      await this.connectOver('streamable-http');
    } catch (error) {
      if (!isOldServerAnswer(error)) throw error;
      await super.close().catch(() => {});
      await this.connectOver('sse');
    }
  }

  /**
   * Connects over `kind`. `prior` is the era verdict of an earlier connection (a reconnect does not
   * probe again); HTTP+SSE servers predate 2026-07-28, so SSE goes straight to `initialize` unless
   * the host pinned a modern version (then the SDK fails loudly, as a pin asks).
   */
  private async connectOver(kind: TransportKind, prior?: PriorDiscovery): Promise<void> {
    const pinned = typeof this.negotiation === 'object';
    const verdict = prior ?? (kind === 'sse' && !pinned ? { kind: 'legacy' as const } : undefined);
    await super.connect(this.build(kind), verdict ? { prior: verdict } : undefined);
    this.kind = kind;
  }

  override async close(): Promise<void> {
    this.detach();
    await super.close();
  }

  private async managed<T>(send: () => Promise<T>): Promise<T> {
    await this.reconnectIfStale();
    for (let stepUps = 0; ; ) {
      const ticket = this.breaker.admit();
      this.inFlight++;
      try {
        const result = await send();
        this.breaker.succeeded(ticket);
        return result;
      } catch (error) {
        if (SdkInsufficientScopeError.isInstance(error)) {
          this.breaker.succeeded(ticket); // the server answered: it is alive
          // A 403 means the server did not run the request, so it is safe to send it again.
          await this.stepUp(error.requiredScope, ++stepUps);
          continue;
        }
        if (isServerFailure(error)) this.breaker.failed(ticket, error);
        else this.breaker.succeeded(ticket);
        throw error;
      } finally {
        this.inFlight--;
      }
    }
  }

  private async stepUp(required: string | undefined, attempt: number): Promise<void> {
    const status = await this.manager.status(this.server, this.accountOption);
    const granted = status.scopes.join(' ');
    const missing = (required ?? '').split(/\s+/).filter((s) => s && !status.scopes.includes(s));
    const union = computeScopeUnion(granted, required);
    if (!isStrictScopeSuperset(union, granted)) {
      throw new InsufficientScopeError(
        this.server,
        missing,
        'the granted scope already includes what the server asks for',
      );
    }
    // Scopes the authorization server refused lately (here or in another process): asking again
    // would only open another browser login.
    const refusal = await this.manager.scopeRefusal(this.server, this.accountOption);
    if (refusal && missing.every((s) => refusal.scopes.includes(s))) throw this.refused(missing, refusal);
    if (attempt > MAX_STEP_UPS_PER_CALL) {
      throw new InsufficientScopeError(
        this.server,
        missing,
        `gave up after ${MAX_STEP_UPS_PER_CALL + 1} authorization requests for one call`,
      );
    }
    if (!this.manager.canPromptImplicitly()) {
      throw new NeedsReauthError(
        this.server,
        this.manager.reloginCommandFor(this.server, this.provider.account),
        `it requires scopes that were not granted: ${missing.join(' ')}`,
      );
    }
    const login = await this.manager.login(this.server, { scope: union!, ...this.accountOption });
    // Only what this step-up asked for and did not get is a refusal: a login joined in flight may
    // have asked for other scopes (the next round asks again, within the per-call limit).
    const asked = new Set((login.requestedScope ?? '').split(/\s+/));
    const refused = missing.filter((s) => !login.status.scopes.includes(s) && asked.has(s));
    if (refused.length === 0) return;
    const now = this.manager.now();
    const note = await this.manager.noteRefusedScopes(this.server, refused, this.accountOption);
    throw this.refused(refused, note ?? { scopes: refused, at: now, until: now + SCOPE_REFUSAL_MS });
  }

  /** The authorization server did not grant `missing`: no login for them before `refusal.until`. */
  private refused(missing: string[], refusal: ScopeRefusal): InsufficientScopeError {
    const command = this.manager.reloginCommandFor(this.server, this.provider.account);
    return new InsufficientScopeError(
      this.server,
      missing,
      `the authorization server did not grant them at ${new Date(refusal.at).toISOString()}, ` +
        `so no new login is attempted for them before ${new Date(refusal.until).toISOString()}. ` +
        `Ask the server's administrator to grant them to your account, then run: ${command} ` +
        '(a login by hand clears this note)',
    );
  }

  private async reconnectIfStale(): Promise<void> {
    if (this.stale && this.inFlight === 0 && !this.reconnecting) {
      this.stale = false;
      // The era is a property of the server, not of the credential: reuse the verdict.
      const discover = this.getDiscoverResult();
      const prior: PriorDiscovery = discover ? { kind: 'modern', discover } : { kind: 'legacy' };
      this.reconnecting = (async () => {
        await super.close().catch(() => {});
        await this.connectOver(this.kind ?? 'streamable-http', prior);
      })().finally(() => {
        this.reconnecting = undefined;
      });
    }
    if (this.reconnecting) await this.reconnecting;
  }

  private build(kind: TransportKind): Transport {
    const options = { authProvider: this.provider, fetch: this.provider.fetch };
    return kind === 'sse'
      ? new SSEClientTransport(this.url, options)
      : new StreamableHTTPClientTransport(this.url, options);
  }
}

function httpStatus(error: unknown): number | undefined {
  const e = error as { status?: unknown; data?: { status?: unknown } };
  const status = e?.data?.status ?? e?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A server that answers 400/404/405 to a Streamable HTTP initialize may only speak SSE. */
function isOldServerAnswer(error: unknown): boolean {
  const status = httpStatus(error);
  return status === 400 || status === 404 || status === 405;
}

/** What the breaker counts: the server or the way to it failing, not a tool's own error. */
function isServerFailure(error: unknown): boolean {
  if (error instanceof TransientAuthError) return true;
  if (error instanceof CircuitOpenError || error instanceof McpOAuthError) return false;
  const status = httpStatus(error);
  if (status !== undefined) return status >= 500 || status === 401 || status === 429;
  if (error instanceof TypeError) return true; // fetch failed: refused, reset, DNS
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^E[A-Z]+/.test(code);
}
