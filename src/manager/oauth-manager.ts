import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FetchLike } from '@modelcontextprotocol/client';
import { type Clock, systemClock } from '../clock.js';
import { loadConfig } from '../config/config-file.js';
import type { OAuthConfig } from '../config/oauth-config.js';
import {
  ConfigError,
  CorruptCredentialError,
  LockTimeoutError,
  LoginError,
  ManagerClosedError,
  McpOAuthError,
  NeedsReauthError,
  NewerSchemaError,
  TransientAuthError,
} from '../errors.js';
import { type Logger, redactingLogger, silentLogger } from '../logger.js';
import { type OpenBrowser, openInBrowser } from '../oauth/browser.js';
import { runLoginFlow } from '../oauth/login-flow.js';
import { revokeToken } from '../oauth/revocation.js';
import { RefreshFailure } from '../oauth/token-refresh.js';
import { ManagedProvider } from '../sdk/managed-provider.js';
import { shellQuote } from '../shell-quote.js';
import {
  CREDENTIAL_SCHEMA_VERSION,
  type CredentialRecord,
  sameVersion,
  versionOf,
} from '../store/credential-record.js';
import { type CredentialKey, type CredentialStore, keyId } from '../store/credential-store.js';
import { FileCredentialStore } from '../store/file-credential-store.js';
import type { ManagerEvents } from './events.js';
import { type CredentialState, freshness, stateOf } from './expiry.js';
import { type Interactive, mayPromptImplicitly } from './interactivity.js';
import type { LoginOptions, LoginResult } from './login-types.js';
import { type RefreshReason, runRefreshTransaction, type TransactionHooks } from './refresh-transaction.js';
import { ServerEntry } from './server-entry.js';
import { normalizeServerUrl } from './server-url.js';

export interface OAuthManagerOptions {
  /** Home folder (config, credentials, locks): `home` > MCP_OAUTH_HOME > ~/.mcp-oauth. Ignored when `store` is given. */
  home?: string;
  /** Credential storage; default a FileCredentialStore in the home folder. */
  store?: CredentialStore;
  /** Time source (tests inject one). */
  clock?: Clock;
  /** fetch for every OAuth request and the base of each provider's `fetch`. */
  fetch?: FetchLike;
  /** Receives redacted log events; default silent. */
  logger?: Logger;
  /** May a request that finds no usable credential open a browser? Default 'auto'. */
  interactive?: Interactive;
  /** The command shown in NeedsReauthError; a string with `{server}`, or a function. */
  reloginCommand?: string | ((server: string) => string);
  /** The account dimension of every key (multi-user hosts run one manager per account). */
  account?: string;
  /** Refresh this long before expiry (default 60 s; at most half a token's lifetime). */
  refreshSkewMs?: number;
  /** Timeout of each refresh request (default 30 s). */
  requestTimeoutMs?: number;
  /** Bounded wait for the cross-process refresh lock (default 30 s). */
  lockWaitMs?: number;
  /** For stores whose locks expire (a Redis lease): a holder silent this long is presumed dead (default 10 s). The file store needs none: the kernel frees a dead holder's lock. */
  lockStaleMs?: number;
  /** Transient failure back-off: first wait and cap (default 1 s, 60 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Opens the authorization URL; default: `BROWSER`, else the platform opener. */
  openBrowser?: OpenBrowser;
  /** @internal Benchmark baseline only: the seed's design without the cross-process lock. */
  crossProcessLock?: boolean;
  /** @internal Crash-injection seams for the cross-process tests. */
  testHooks?: TransactionHooks;
}

export interface ServerStatus {
  name: string;
  url: string;
  state: CredentialState;
  expiresAt: string | null;
  expiresIn: number | null;
  scopes: string[];
  issuer: string | null;
  clientKind: 'preregistered' | 'cimd' | 'dcr' | null;
  error: string | null;
}

/**
 * The single owner of every MCP server's OAuth credential in a process (and, through the store's
 * locks, across processes): the hot path, the refresh transaction, 401 single-flight, login,
 * logout, and change events. One per process is the norm: see `getManager()`.
 */
export type { LoginOptions, LoginPrompt, LoginResult } from './login-types.js';

export class OAuthManager extends EventEmitter<ManagerEvents> {
  readonly store: CredentialStore;
  readonly home: string | undefined;
  private readonly ownsStore: boolean;
  private readonly clock: Clock;
  private readonly fetchFn: FetchLike;
  private readonly logger: Logger;
  private readonly interactive: Interactive;
  private readonly reloginCommand: (server: string) => string;
  private readonly account: string | undefined;
  private readonly options: OAuthManagerOptions;
  private readonly entries = new Map<string, ServerEntry>();
  private readonly providers = new Map<string, ManagedProvider>();
  private unwatch: (() => void) | undefined;
  private closed = false;

  constructor(options: OAuthManagerOptions = {}) {
    super();
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.logger = options.logger ? redactingLogger(options.logger) : silentLogger;
    this.interactive = options.interactive ?? 'auto';
    this.account = options.account;
    if (options.store) {
      this.store = options.store;
      this.ownsStore = false;
      this.home = options.home;
    } else {
      const store = new FileCredentialStore({ home: options.home, logger: this.logger });
      this.store = store;
      this.home = store.home;
      this.ownsStore = true;
    }
    const command = options.reloginCommand;
    this.reloginCommand =
      typeof command === 'function'
        ? command
        : typeof command === 'string'
          ? (server) => command.replaceAll('{server}', server)
          : (server) =>
              `mcp-oauth${options.home ? ` --home ${shellQuote(options.home)}` : ''} login ${shellQuote(server)}`;
  }

  // ---------------------------------------------------------------- providers

  /**
   * The provider for `name` (idempotent). Rebuilt when the URL changes; a stored credential bound
   * to another URL is then never sent. The provider has three faces: `token()` and
   * `onUnauthorized()` (the SDK v2 AuthProvider) and `fetch`.
   */
  getOrBuildProvider(name: string, serverUrl: string | URL, config: OAuthConfig = {}): ManagedProvider {
    this.assertOpen();
    if (typeof name !== 'string' || name.length === 0)
      throw new ConfigError('A server name must be a non-empty string.');
    const url = normalizeServerUrl(name, serverUrl);
    let entry = this.entries.get(name);
    if (entry && entry.serverUrl !== url) {
      this.logger.info(`Server '${name}' URL changed; discarding the cached provider`);
      this.entries.delete(name);
      this.providers.delete(name);
      entry = undefined;
    }
    if (!entry) {
      entry = new ServerEntry(name, this.keyFor(name), url, config);
      this.entries.set(name, entry);
      this.ensureWatching();
    } else {
      entry.config = config;
    }
    let provider = this.providers.get(name);
    if (!provider) {
      provider = new ManagedProvider(this, name, this.fetchFn);
      this.providers.set(name, provider);
    }
    return provider;
  }

  // ---------------------------------------------------------------- hot path

  /**
   * A usable access token for `name`: the cached one while it is fresh (no I/O), a background
   * refresh inside the skew window (callers are not blocked), the refresh transaction when
   * expired. Throws NeedsReauthError or TransientAuthError.
   */
  accessToken(name: string): Promise<string> {
    const entry = this.entry(name);
    const fresh = this.freshToken(entry);
    if (fresh !== undefined) return Promise.resolve(fresh);
    return this.usableToken(entry).then((token) => token ?? this.withoutUsableCredential(entry));
  }

  /**
   * The token a transport should send with the next request (the provider's `token()`). With no
   * usable credential: undefined when the manager may prompt, so the request goes out without one
   * and the server's 401 challenge (its scope and resource metadata) drives the login; else
   * NeedsReauthError at once, with no request sent.
   */
  tokenForRequest(name: string): Promise<string | undefined> {
    const entry = this.entry(name);
    // The hot path: a fresh cached token is returned without entering any async function.
    const fresh = this.freshToken(entry);
    if (fresh !== undefined) return Promise.resolve(fresh);
    return this.usableToken(entry).then((token) => {
      if (token !== undefined || mayPromptImplicitly(this.interactive)) return token;
      return this.withoutUsableCredential(entry);
    });
  }

  /** The cached token while it is fresh and no change is pending; else undefined. No I/O. */
  private freshToken(entry: ServerEntry): string | undefined {
    if (entry.dirty) return undefined;
    const record = entry.record;
    if (!record?.tokens || record.state !== 'valid' || record.binding.serverUrl !== entry.serverUrl)
      return undefined;
    return freshness(record.tokens, this.clock.now(), this.skewFor(entry)) === 'fresh'
      ? record.tokens.accessToken
      : undefined;
  }

  /** The hot path proper: undefined when there is no usable credential. */
  private async usableToken(entry: ServerEntry): Promise<string | undefined> {
    if (entry.dirty) await this.reload(entry);
    const record = entry.record;
    if (!record?.tokens || record.state === 'needs_reauth' || record.binding.serverUrl !== entry.serverUrl) {
      return undefined;
    }
    const f = freshness(record.tokens, this.clock.now(), this.skewFor(entry));
    if (f === 'fresh') return record.tokens.accessToken;
    if (f === 'expiring') {
      this.refresh(entry, { kind: 'expiry' }).catch(() => {});
      return record.tokens.accessToken;
    }
    return this.refresh(entry, { kind: 'expiry' });
  }

  /**
   * Recovery after a 401, deduplicated per rejected token: N callers rejected with the same token
   * share one recovery. If the token was already replaced (here or by another process), the new
   * one is adopted with no network call. Resolves true when a new token is available, false when
   * a new login is needed. Without `failedAccessToken`, the current token is presumed rejected.
   */
  async handle401(
    name: string,
    failedAccessToken?: string | null,
    challenge: { scope?: string; resourceMetadataUrl?: URL } = {},
  ): Promise<boolean> {
    const entry = this.entry(name);
    const key = failedAccessToken === null ? '\u0000none' : (failedAccessToken ?? '\u0000current');
    const pending = entry.pending401.get(key);
    if (pending) return pending;
    const recovery = (async () => {
      if (entry.dirty) await this.reload(entry);
      const current = entry.record?.state === 'valid' ? entry.record.tokens?.accessToken : undefined;
      if (failedAccessToken === null || !current) {
        // The request carried no token (there was no usable credential): a login is the recovery.
        if (current) return true; // one appeared meanwhile (another call's login, another process)
        if (!mayPromptImplicitly(this.interactive)) return false;
        await this.login(name, {
          ...(challenge.scope ? { challengeScope: challenge.scope } : {}),
          ...(challenge.resourceMetadataUrl ? { resourceMetadataUrl: challenge.resourceMetadataUrl } : {}),
        });
        return true;
      }
      const rejected = failedAccessToken ?? current;
      try {
        if (current !== rejected) return true;
        await this.refresh(entry, { kind: 'rejected', token: rejected });
        this.emit('reconnect-required', {
          server: name,
          reason: 'the access token was replaced after a 401',
          cause: 'refresh-after-401',
        });
        return true;
      } catch (error) {
        if (error instanceof NeedsReauthError) return false;
        throw error;
      }
    })().finally(() => entry.pending401.delete(key));
    entry.pending401.set(key, recovery);
    return recovery;
  }

  /** Refreshes now, even when the token is still valid (`mcp-oauth refresh`). */
  async refreshNow(name: string): Promise<void> {
    const entry = await this.configuredEntry(name);
    await this.reload(entry);
    await this.refresh(entry, {
      kind: 'forced',
      basedOn: entry.record ? versionOf(entry.record) : undefined,
    });
  }

  /** Reloads the record if its stored fingerprint changed; true when it did. */
  async invalidateIfDiskChanged(name: string): Promise<boolean> {
    const entry = this.entries.get(name);
    if (!entry) return false;
    const fingerprint = await this.store.fingerprint(entry.key);
    if (fingerprint === entry.fingerprint) return false;
    entry.changeSeq++;
    await this.reload(entry);
    return true;
  }

  // ---------------------------------------------------------------- login / logout

  /**
   * An interactive login: the authorization code flow with PKCE through the browser hook and a
   * loopback callback, paste-back (`flow: 'paste'`) or the device flow (`flow: 'device'`). One
   * login per server across processes: a login started while another process is logging in to
   * the same server waits for that one and reports its result (`joined: true`) instead of opening
   * a second authorization. The new credential is committed only when the whole flow succeeded: a
   * failed, cancelled or timed-out login leaves the previous credential exactly as it was.
   */
  async login(name: string, options: LoginOptions = {}): Promise<LoginResult> {
    const entry = await this.configuredEntry(name);
    if (entry.loginFlight) return entry.loginFlight;
    const flight = this.loginOnce(entry, options).finally(() => {
      entry.loginFlight = undefined;
    });
    entry.loginFlight = flight;
    return flight;
  }

  private async loginOnce(entry: ServerEntry, options: LoginOptions): Promise<LoginResult> {
    const name = entry.name;
    const before = await this.store.get(entry.key).catch(() => undefined);
    const timeoutMs = (entry.config.timeoutSeconds ?? 300) * 1000;
    let entered = false;
    try {
      await this.store.withLock(
        entry.key,
        async () => {
          entered = true;
          await this.runLoginAndCommit(entry, options);
        },
        { purpose: 'login', waitMs: 0 },
      );
    } catch (error) {
      if (entered || !(error instanceof LockTimeoutError)) throw error;
      // Another process is logging in to this server: wait for it, never open a second tab.
      options.prompt?.({ kind: 'waiting-for-other-login', server: name });
      await this.store.withLock(entry.key, async () => {}, { purpose: 'login', waitMs: timeoutMs + 30_000 });
      entry.changeSeq++;
      await this.reload(entry);
      const after = entry.record;
      if (!after?.tokens || after.state !== 'valid' || after.recordId === before?.recordId) {
        throw new LoginError(
          name,
          'the login running in another process did not complete; run the login again',
        );
      }
      return { server: name, joined: true, status: await this.status(name) };
    }
    return { server: name, joined: false, status: await this.status(name) };
  }

  private async runLoginAndCommit(entry: ServerEntry, options: LoginOptions): Promise<void> {
    const name = entry.name;
    const existing = await this.store.get(entry.key).catch(() => undefined);
    const result = await runLoginFlow({
      server: name,
      serverUrl: entry.serverUrl,
      config: entry.config,
      existing,
      flow: options.flow ?? 'browser',
      fetchFn: this.fetchFn,
      openBrowser: options.openBrowser ?? this.options.openBrowser ?? openInBrowser,
      input: options.input,
      prompt: (p) => options.prompt?.({ ...p, server: name }),
      now: () => this.clock.now(),
      ...(options.challengeScope ? { challengeScope: options.challengeScope } : {}),
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.resourceMetadataUrl ? { resourceMetadataUrl: options.resourceMetadataUrl } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const record: CredentialRecord = {
      schemaVersion: CREDENTIAL_SCHEMA_VERSION,
      recordId: randomUUID(),
      generation: 1,
      server: name,
      ...(this.account !== undefined ? { account: this.account } : {}),
      binding: {
        serverUrl: entry.serverUrl,
        resource: result.resource,
        issuer: result.issuer,
        clientId: String(result.client.information.client_id),
      },
      client: result.client,
      tokens: result.tokens,
      discovery: result.discovery,
      state: 'valid',
      updatedAt: this.clock.now(),
    };
    // Commit under the refresh lock so it never interleaves with a refresh elsewhere.
    await this.withLock(entry, async () => {
      const current = await this.store.get(entry.key).catch(() => undefined);
      const put = await this.store.put(entry.key, record, current ? versionOf(current) : null);
      if (!put.ok)
        throw new LoginError(name, 'the stored credential changed during the login; run the login again');
    });
    this.logger.info(`Logged in to '${name}'`, { issuer: result.issuer, clientKind: result.client.kind });
    entry.backoff = { until: 0, attempts: 0 };
    await this.adopt(entry, record, 'login');
    this.emit('reconnect-required', { server: name, reason: 'new login', cause: 'login' });
  }

  /**
   * Logs out: revokes the refresh token (RFC 7009) where the server offers revocation, best
   * effort, and deletes the tokens. `reset` also drops the client registration and discovery.
   */
  async logout(
    name: string,
    options: { reset?: boolean } = {},
  ): Promise<{ revoked: boolean; existed: boolean }> {
    const entry = await this.configuredEntry(name);
    const outcome = await this.withLock(entry, async () => {
      const current = await this.store.get(entry.key).catch(() => undefined);
      if (!current) return { revoked: false, existed: false };
      const revoked = await this.revoke(current);
      if (options.reset) {
        await this.store.delete(entry.key, versionOf(current));
      } else {
        const { tokens: _dropped, ...rest } = current;
        const next: CredentialRecord = {
          ...rest,
          recordId: randomUUID(),
          generation: current.generation + 1,
          state: 'valid',
          updatedAt: this.clock.now(),
        };
        delete next.reauthReason;
        await this.store.put(entry.key, next, versionOf(current));
      }
      return { revoked, existed: true };
    });
    entry.changeSeq++;
    await this.reload(entry, 'logout');
    return outcome;
  }

  /** Forgets the server: revokes where offered, deletes tokens and client registration, evicts it. */
  async remove(name: string): Promise<void> {
    if (!this.entries.has(name)) {
      const configured = await this.configuredEntry(name).catch(() => undefined);
      if (!configured) return;
    }
    await this.logout(name, { reset: true });
    this.entries.delete(name);
    this.providers.delete(name);
    this.emit('credentials-changed', { server: name, reason: 'removed' });
  }

  // ---------------------------------------------------------------- status

  /** The state of one server's credential, never a token or a secret. */
  async status(name: string): Promise<ServerStatus> {
    const entry = await this.configuredEntry(name);
    await this.reload(entry);
    const record = entry.record;
    const now = this.clock.now();
    let state = stateOf(record, now, this.skewFor(entry));
    if (!record && entry.loadError) state = 'needs_reauth';
    const expiresAt = record?.tokens?.expiresAt ?? null;
    return {
      name,
      url: entry.serverUrl,
      state,
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      expiresIn: expiresAt === null ? null : Math.max(0, Math.round((expiresAt - now) / 1000)),
      scopes: record?.tokens?.scope?.split(/\s+/).filter(Boolean) ?? [],
      issuer: record?.binding.issuer ?? null,
      clientKind: record?.client?.kind ?? null,
      error:
        entry.loadError?.message ?? (record?.state === 'needs_reauth' ? (record.reauthReason ?? null) : null),
    };
  }

  /** May a request (not a person at the CLI) start an interactive login now? */
  canPromptImplicitly(): boolean {
    return mayPromptImplicitly(this.interactive);
  }

  /** The manager's time source (hosts share it so tests can move time for everything). */
  get now(): () => number {
    return () => this.clock.now();
  }

  /** The exact command a person should run to log in to `name` again. */
  reloginCommandFor(name: string): string {
    return this.reloginCommand(name);
  }

  /** Releases watchers and timers so the process can exit. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A refresh in flight (a background one inside the skew window too) must persist its rotation
    // before the process may exit: wait for it, bounded by the request timeout.
    const flights = [...this.entries.values()].flatMap((e) => (e.flight ? [e.flight.catch(() => {})] : []));
    if (flights.length > 0) {
      const bound = (this.options.requestTimeoutMs ?? 30_000) + 5_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(flights), new Promise((r) => (timer = setTimeout(r, bound)))]);
      clearTimeout(timer);
    }
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.ownsStore) await this.store.close();
    this.removeAllListeners();
  }

  // ---------------------------------------------------------------- internals

  private entry(name: string): ServerEntry {
    this.assertOpen();
    const entry = this.entries.get(name);
    if (!entry) {
      throw new ConfigError(
        `Unknown MCP server '${name}': add it with \`mcp-oauth servers add ${name} <url>\`, or call getOrBuildProvider(name, url) first.`,
        { server: name },
      );
    }
    return entry;
  }

  /** The entry for `name`, built from `config.yaml` in the home folder when not yet registered. */
  private async configuredEntry(name: string): Promise<ServerEntry> {
    this.assertOpen();
    if (!this.entries.has(name) && this.home) {
      const server = (await loadConfig(this.home)).servers.get(name);
      if (server?.error) throw server.error;
      if (server) this.getOrBuildProvider(name, server.url, server.oauth);
    }
    return this.entry(name);
  }

  private keyFor(name: string): CredentialKey {
    return this.account === undefined ? { server: name } : { server: name, account: this.account };
  }

  private skewFor(entry: ServerEntry): number {
    const configured = entry.config.refreshSkewSeconds;
    return configured !== undefined ? configured * 1000 : (this.options.refreshSkewMs ?? 60_000);
  }

  private withLock<T>(entry: ServerEntry, fn: () => Promise<T>): Promise<T> {
    if (this.options.crossProcessLock === false) return fn();
    return this.store.withLock(entry.key, fn, {
      waitMs: this.options.lockWaitMs ?? 30_000,
      staleMs: this.options.lockStaleMs ?? 10_000,
    });
  }

  /** The in-process single flight over the refresh transaction. */
  private refresh(entry: ServerEntry, reason: RefreshReason): Promise<string> {
    if (entry.flight) {
      // Joined a flight started for another reason: if it ended on the very token the server
      // rejected, that token is still dead, so run once more for this reason.
      if (reason.kind !== 'rejected') return entry.flight;
      return entry.flight.then((token) => (token === reason.token ? this.refresh(entry, reason) : token));
    }
    const now = this.clock.now();
    if (now < entry.backoff.until) {
      return Promise.reject(
        new TransientAuthError(entry.name, 'a recent refresh attempt failed', entry.backoff.until - now),
      );
    }
    const flight = (async () => {
      try {
        const outcome = await runRefreshTransaction(
          {
            store: this.store,
            key: entry.key,
            serverUrl: entry.serverUrl,
            fetchFn: this.fetchFn,
            clock: this.clock,
            logger: this.logger,
            skewMs: this.skewFor(entry),
            requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
            lock: {
              enabled: this.options.crossProcessLock !== false,
              waitMs: this.options.lockWaitMs ?? 30_000,
              staleMs: this.options.lockStaleMs ?? 10_000,
            },
            hooks: this.options.testHooks,
          },
          reason,
        );
        entry.backoff = { until: 0, attempts: 0 };
        if (outcome.kind === 'needs_reauth') {
          await this.adopt(entry, outcome.record, 'needs_reauth');
          const command = this.reloginCommand(entry.name);
          this.emit('needs-reauth', { server: entry.name, command, reason: outcome.reason });
          throw new NeedsReauthError(entry.name, command, outcome.reason);
        }
        await this.adopt(entry, outcome.record, outcome.kind === 'refreshed' ? 'refreshed' : 'external');
        return outcome.record.tokens!.accessToken;
      } catch (error) {
        if (error instanceof NeedsReauthError) throw error;
        if (
          error instanceof RefreshFailure ||
          error instanceof LockTimeoutError ||
          !(error instanceof McpOAuthError)
        ) {
          const wait = this.nextBackoff(entry);
          const detail = error instanceof Error ? error.message : 'unknown error';
          this.logger.warn(`Refresh for '${entry.name}' failed transiently (${detail}); retry in ${wait} ms`);
          throw new TransientAuthError(entry.name, detail, wait, { cause: error });
        }
        throw error;
      }
    })().finally(() => {
      entry.flight = undefined;
    });
    entry.flight = flight;
    return flight;
  }

  private nextBackoff(entry: ServerEntry): number {
    const initial = this.options.backoff?.initialMs ?? 1_000;
    const max = this.options.backoff?.maxMs ?? 60_000;
    const wait = Math.min(max, initial * 2 ** entry.backoff.attempts);
    entry.backoff = { until: this.clock.now() + wait, attempts: entry.backoff.attempts + 1 };
    return wait;
  }

  /** No usable credential: log in implicitly where allowed, else fail fast with the command to run. */
  private async withoutUsableCredential(entry: ServerEntry): Promise<string> {
    const record = entry.record;
    const reason = !record?.tokens
      ? entry.loadError
        ? 'the stored credential was unreadable'
        : 'not logged in'
      : record.state === 'needs_reauth'
        ? (record.reauthReason ?? 'the grant was rejected')
        : `the stored credential belongs to ${record.binding.serverUrl}`;
    if (mayPromptImplicitly(this.interactive)) {
      await this.login(entry.name);
      const token = entry.record?.tokens?.accessToken;
      if (token) return token;
    }
    throw new NeedsReauthError(entry.name, this.reloginCommand(entry.name), reason);
  }

  /** Installs a record this process read or wrote, and tells subscribers when it is a new version. */
  private async adopt(
    entry: ServerEntry,
    record: CredentialRecord | undefined,
    reason: ManagerEvents['credentials-changed'][0]['reason'],
  ): Promise<void> {
    const before = entry.record;
    entry.record = record;
    entry.loadError = undefined;
    entry.loadedSeq = entry.changeSeq;
    // A record this process installed counts as read: the next change by anyone is announced.
    entry.loadedOnce = true;
    entry.fingerprint = await this.store.fingerprint(entry.key).catch(() => undefined);
    const changed = !sameVersion(before && versionOf(before), record && versionOf(record));
    if (changed) this.emit('credentials-changed', { server: entry.name, reason });
  }

  /** Re-reads the record (single flight per entry); emits credentials-changed when it changed. */
  private reload(
    entry: ServerEntry,
    reason: ManagerEvents['credentials-changed'][0]['reason'] = 'external',
  ): Promise<void> {
    if (entry.loading) return entry.loading;
    const seq = entry.changeSeq;
    const loading = (async () => {
      const before = entry.record;
      let record: CredentialRecord | undefined;
      let loadError: Error | undefined;
      try {
        record = await this.store.get(entry.key);
      } catch (error) {
        // Only an unreadable or newer-schema record is this server's state; an insecure home or a
        // storage failure is the caller's to see, with its own fix.
        if (!(error instanceof CorruptCredentialError || error instanceof NewerSchemaError)) throw error;
        loadError = error;
        this.logger.warn(error.message);
      }
      entry.record = record;
      // Keep the first error (the quarantine notice) until a record appears.
      entry.loadError = record ? undefined : (loadError ?? entry.loadError);
      entry.loadedSeq = seq;
      entry.fingerprint = await this.store.fingerprint(entry.key).catch(() => undefined);
      // The first read of a record is not a change.
      const firstRead = !entry.loadedOnce;
      entry.loadedOnce = true;
      if (!firstRead && !sameVersion(before && versionOf(before), record && versionOf(record))) {
        this.emit('credentials-changed', { server: entry.name, reason });
        if (record?.tokens && record.state === 'valid' && !(before?.tokens && before.state === 'valid')) {
          entry.backoff = { until: 0, attempts: 0 };
          this.emit('reconnect-required', {
            server: entry.name,
            reason: 'a usable credential appeared',
            cause: 'credential-restored',
          });
        }
      }
    })().finally(() => {
      entry.loading = undefined;
    });
    entry.loading = loading;
    return loading;
  }

  private ensureWatching(): void {
    if (this.unwatch) return;
    this.unwatch = this.store.watch((key) => {
      const id = keyId(key);
      for (const entry of this.entries.values()) {
        if (keyId(entry.key) !== id) continue;
        entry.changeSeq++;
        // Reload now, so the event reaches subscribers without waiting for the next request.
        this.reload(entry).catch((error) =>
          this.logger.warn(`Reload of '${entry.name}' failed: ${String(error)}`),
        );
      }
    });
  }

  private async revoke(record: CredentialRecord): Promise<boolean> {
    if (!record.tokens || !record.client || !record.discovery) return false;
    const token = record.tokens.refreshToken ?? record.tokens.accessToken;
    return revokeToken({
      discovery: record.discovery,
      client: record.client,
      token,
      tokenTypeHint: record.tokens.refreshToken ? 'refresh_token' : 'access_token',
      fetchFn: this.fetchFn as typeof fetch,
      timeoutMs: this.options.requestTimeoutMs ?? 30_000,
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new ManagerClosedError();
  }
}
