import {
  computeScopeUnion,
  isInitializeRequest,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  isStrictScopeSuperset,
  type JSONRPCMessage,
  type JSONRPCRequest,
  InsufficientScopeError as SdkInsufficientScopeError,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type Transport,
} from '@modelcontextprotocol/client';
import { InsufficientScopeError, NeedsReauthError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OAuthManager } from '../manager/oauth-manager.js';
import type { ManagedProvider } from '../sdk/managed-provider.js';
import { MAX_STEP_UPS_PER_CALL, type TransportKind } from './managed-client.js';

/** What `--transport` asks for: try Streamable HTTP then SSE ('auto'), or only one of them. */
export type ProxyTransport = 'auto' | TransportKind;

/** The id prefix of the handshakes the proxy replays itself (never shown to the host). */
const REPLAY_ID_PREFIX = 'mcp-oauth-proxy-replay-';

export interface RemoteLinkOptions {
  manager: OAuthManager;
  server: string;
  url: URL;
  provider: ManagedProvider;
  transport: ProxyTransport;
  /** Extra headers on every request to the MCP server (`--header`); never sent to the authorization server. */
  headers: Record<string, string>;
  logger: Logger;
  /** Every message the server sends (responses, its requests, its notifications). */
  onMessage(message: JSONRPCMessage): void;
}

/**
 * The server side of the proxy: the SDK's Streamable HTTP transport (HTTP+SSE for servers that
 * only speak that), authenticated by the manager's provider exactly as `connect()` authenticates
 * its client (`{ authProvider, fetch }`: token() before each request, one recovery per 401 keyed
 * by the rejected token, shared with every process on the store). Messages pass as they are, so
 * whatever the host and the server negotiate (2025 `initialize`, or the 2026-07-28 wire with
 * `server/discover`) reaches the other side unchanged; the proxy only reads the negotiated
 * version off the handshake's result to send the `MCP-Protocol-Version` header, as the SDK's
 * client does.
 *
 * What the proxy adds over the bare transport, like ManagedClient: the SSE fallback when the
 * server refuses a Streamable HTTP `initialize` with 400/404/405; a step-up login on 403
 * `insufficient_scope` (at most MAX_STEP_UPS_PER_CALL per message, only where the manager may
 * open a browser); and, over SSE, a new stream after the credential changed (the stream carries
 * the old token), with the host's handshake replayed on it.
 *
 * @see [MCP Transports (2025-11-25): Backwards Compatibility](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#backwards-compatibility)
 * @see [MCP Authorization (2025-11-25): Scope Challenge Handling](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-challenge-handling)
 */
export class RemoteLink {
  private transport: Transport | undefined;
  private kind: TransportKind | undefined;
  private starting: Promise<Transport> | undefined;
  private stale = false;
  private handshake: { initialize?: JSONRPCRequest; initialized?: JSONRPCMessage } = {};
  private handshakeIds = new Set<string | number>();
  private replays = 0;
  private closed = false;
  private readonly detach: () => void;

  constructor(private readonly options: RemoteLinkOptions) {
    const onReconnect = (e: { server: string; cause: string }) => {
      // Streamable HTTP asks token() before every request: only an SSE stream holds a token.
      if (e.server === options.server && this.kind === 'sse') this.stale = true;
    };
    options.manager.on('reconnect-required', onReconnect);
    this.detach = () => options.manager.off('reconnect-required', onReconnect);
  }

  /** The transport in use once the first message went out. */
  get transportKind(): TransportKind | undefined {
    return this.kind;
  }

  /**
   * Sends one message from the host. Rejects when it could not be delivered (NeedsReauthError,
   * InsufficientScopeError, network and HTTP errors): the caller answers a request with a
   * JSON-RPC error.
   */
  async send(message: JSONRPCMessage): Promise<void> {
    if (isJSONRPCRequest(message) && isInitializeRequest(message)) {
      this.handshake = { initialize: message };
      this.handshakeIds.add(message.id);
    } else if ((message as { method?: string }).method === 'notifications/initialized') {
      this.handshake.initialized = message;
    }
    for (let stepUps = 0; ; ) {
      try {
        await this.sendOnce(message);
        return;
      } catch (error) {
        if (!SdkInsufficientScopeError.isInstance(error)) throw error;
        // A 403 means the server did not run the request: safe to send it again after a step-up.
        await this.stepUp(error.requiredScope, ++stepUps);
      }
    }
  }

  private async sendOnce(message: JSONRPCMessage): Promise<void> {
    if (this.stale && this.kind === 'sse') await this.renew();
    const transport = await this.current();
    try {
      await transport.send(message);
    } catch (error) {
      if (this.options.transport !== 'auto' || this.kind !== 'streamable-http') throw error;
      if (!isInitializeRequest(message) || !isOldServerAnswer(error)) throw error;
      // A server that predates Streamable HTTP: the same handshake over HTTP+SSE.
      this.options.logger.info(`'${this.options.server}' refused Streamable HTTP; using HTTP+SSE`);
      await this.replace('sse');
      await (await this.current()).send(message);
    }
  }

  /** Closes the transport (the SSE stream, pending requests); the link is not used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    this.detach();
    const transport = this.transport;
    this.transport = undefined;
    await transport?.close().catch(() => {});
  }

  private current(): Promise<Transport> {
    if (this.transport) return Promise.resolve(this.transport);
    this.starting ??= this.start(
      this.options.transport === 'auto' ? (this.kind ?? 'streamable-http') : this.options.transport,
    ).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(kind: TransportKind): Promise<Transport> {
    const { provider, url, headers } = this.options;
    const init = { authProvider: provider, fetch: provider.fetch, requestInit: { headers } };
    const transport: Transport =
      kind === 'sse'
        ? new SSEClientTransport(url, init)
        : new StreamableHTTPClientTransport(url, { ...init, onInsufficientScope: 'throw' });
    transport.onmessage = (message) => this.received(transport, message);
    transport.onerror = (error) => {
      if (!this.closed) this.options.logger.debug(`transport error: ${error.message}`);
    };
    transport.onclose = () => {
      if (this.transport === transport && !this.closed) {
        this.options.logger.info(
          `the connection to '${this.options.server}' closed; reconnecting on the next message`,
        );
        this.transport = undefined;
        if (kind === 'sse') this.stale = true;
      }
    };
    await transport.start();
    this.kind = kind;
    this.transport = transport;
    return transport;
  }

  private received(transport: Transport, message: JSONRPCMessage): void {
    if (isJSONRPCResultResponse(message) && this.handshakeIds.has(message.id)) {
      this.handshakeIds.delete(message.id);
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') transport.setProtocolVersion?.(version);
      // A replayed handshake is the proxy's own business: the host already has its answer.
      if (String(message.id).startsWith(REPLAY_ID_PREFIX)) return;
    }
    this.options.onMessage(message);
  }

  private async replace(kind: TransportKind): Promise<void> {
    const old = this.transport;
    this.transport = undefined;
    this.kind = kind;
    await old?.close().catch(() => {});
  }

  /**
   * A new SSE stream (the old one was opened with the previous token): open it and replay the
   * host's handshake, so the server has a session to answer on.
   */
  private async renew(): Promise<void> {
    this.stale = false;
    await this.replace('sse');
    const transport = await this.current();
    const { initialize, initialized } = this.handshake;
    if (!initialize) return;
    const id = `${REPLAY_ID_PREFIX}${++this.replays}`;
    const answered = new Promise<void>((resolve) => {
      const previous = transport.onmessage;
      transport.onmessage = (message) => {
        previous?.(message);
        if ((message as { id?: unknown }).id === id) resolve();
      };
    });
    this.handshakeIds.add(id);
    await transport.send({ ...initialize, id });
    await answered;
    if (initialized) await transport.send(initialized);
  }

  /** As ManagedClient's step-up: the union of granted and required scopes, by a login. */
  private async stepUp(required: string | undefined, attempt: number): Promise<void> {
    const { manager, server } = this.options;
    const status = await manager.status(server);
    const granted = status.scopes.join(' ');
    const missing = (required ?? '').split(/\s+/).filter((s) => s && !status.scopes.includes(s));
    const union = computeScopeUnion(granted, required);
    if (!isStrictScopeSuperset(union, granted)) {
      throw new InsufficientScopeError(
        server,
        missing,
        'the granted scope already includes what the server asks for',
      );
    }
    const refusal = await manager.scopeRefusal(server);
    if (refusal && missing.every((s) => refusal.scopes.includes(s))) {
      throw new InsufficientScopeError(
        server,
        missing,
        `the authorization server did not grant them lately; run: ${manager.reloginCommandFor(server)}`,
      );
    }
    if (attempt > MAX_STEP_UPS_PER_CALL) {
      throw new InsufficientScopeError(
        server,
        missing,
        `gave up after ${attempt} authorization requests for one call`,
      );
    }
    if (!manager.canPromptImplicitly()) {
      throw new NeedsReauthError(
        server,
        manager.reloginCommandFor(server),
        `it requires scopes that were not granted: ${missing.join(' ')}`,
      );
    }
    const login = await manager.login(server, { scope: union! });
    const asked = new Set((login.requestedScope ?? '').split(/\s+/));
    const refused = missing.filter((s) => !login.status.scopes.includes(s) && asked.has(s));
    if (refused.length > 0) {
      await manager.noteRefusedScopes(server, refused);
      throw new InsufficientScopeError(server, refused, 'the authorization server did not grant them');
    }
  }
}

function httpStatus(error: unknown): number | undefined {
  const e = error as { status?: unknown; data?: { status?: unknown }; code?: unknown };
  const status = e?.data?.status ?? e?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A server that answers 400/404/405 to a Streamable HTTP initialize may only speak SSE. */
function isOldServerAnswer(error: unknown): boolean {
  const status = httpStatus(error);
  return status === 400 || status === 404 || status === 405;
}
