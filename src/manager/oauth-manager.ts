import { EventEmitter } from 'node:events';
import type { IdentityProviderConfig, OAuthConfig } from '../config/oauth-config.js';
import { ConfigError, NeedsReauthError } from '../errors.js';
import { ManagedProvider } from '../sdk/managed-provider.js';
import { versionOf } from '../store/credential-record.js';
import type { CredentialStore } from '../store/credential-store.js';
import { removeLockFiles } from '../store/lock-files.js';
import { SelectedStore } from '../store/selected-store.js';
import { acquisitionFor, clientDescription } from './acquisition-for.js';
import { CredentialCache } from './credential-cache.js';
import { EntryRegistry } from './entry-registry.js';
import { type EmitEvent, type ManagerEvents, subjectOf } from './events.js';
import { grantKindOf, isMinted } from './grant-kind.js';
import { IdpAssertions } from './idp-assertion.js';
import { type IdpLoginOutcome, loginToIdentityProvider } from './idp-login.js';
import { implicitLoginPrompt } from './implicit-login-prompt.js';
import { mayPromptImplicitly } from './interactivity.js';
import { LoginSession } from './login-session.js';
import type { LoginOptions, LoginResult } from './login-types.js';
import { type LogoutOutcome, logOut } from './logout.js';
import { NoAuthObservations } from './no-auth-observation.js';
import type { Challenge, ProviderPort } from './provider-port.js';
import { RefreshFlight } from './refresh-flight.js';
import { activeRefusal, noteRefusal, type ScopeRefusal } from './scope-refusal.js';
import { registeringSecrets } from './secret-registering-store.js';
import type { ServerEntry } from './server-entry.js';
import { type ServerStatus, serverStatus } from './server-status.js';
import {
  CLOSE_GRACE_MS,
  type ManagerSettings,
  type OAuthManagerOptions,
  resolveSettings,
  skewMsFor,
} from './settings.js';
import { storedRecord } from './stored-record.js';
import { TokenSource } from './token-source.js';

/** Which account a call is about; unset: the manager's `account` option (the default account). */
export interface AccountOption {
  account?: string;
}

/**
 * The single owner of every MCP server's OAuth credential in a process (and, through the store's
 * locks, across processes). A thin front: it turns a server name into its entry once, then hands
 * the entry to the part that owns the idea:
 * - `TokenSource`: the hot path, background refresh inside the skew window, 401 recovery;
 * - `RefreshFlight`: one refresh transaction per entry in this process, with back-off;
 * - `LoginSession`: interactive logins, one per server across processes, committed on success;
 * - `logOut`: revocation (RFC 7009) and deletion;
 * - `CredentialCache`: the in-memory record, re-read on change, and `credentials-changed`;
 * - `serverStatus`: what `status` shows.
 *
 * One per process is the norm: see `getManager()`. Events: `credentials-changed`,
 * `reconnect-required`, `needs-reauth` (see ManagerEvents).
 */
export class OAuthManager extends EventEmitter<ManagerEvents> implements ProviderPort {
  /** Where the credentials live: the host's store, else the one config.yaml or MCP_OAUTH_STORE selects (SelectedStore). */
  readonly store: CredentialStore;
  /** The home folder, when the manager has one (its config.yaml names the servers). */
  readonly home: string | undefined;
  private readonly ownsStore: boolean;
  private readonly parts: CredentialStore;
  private readonly settings: ManagerSettings;
  private readonly registry: EntryRegistry;
  private readonly cache: CredentialCache;
  private readonly refresh: RefreshFlight;
  private readonly logins: LoginSession;
  private readonly tokens: TokenSource;
  private readonly noAuth: NoAuthObservations;
  /** Each entry's provider (a new entry, after a URL change, means a new provider). */
  private readonly providers = new WeakMap<ServerEntry, ManagedProvider>();
  private unwatch: (() => void) | undefined;
  private closed = false;

  constructor(options: OAuthManagerOptions = {}) {
    super();
    const settings = resolveSettings(options);
    this.settings = settings;
    if (options.store) {
      this.store = options.store;
      this.ownsStore = false;
      this.home = options.home;
    } else {
      const store = new SelectedStore({ home: options.home, env: options.env, logger: settings.logger });
      this.store = store;
      this.home = store.home;
      this.ownsStore = true;
    }
    const emit = this.emit.bind(this) as EmitEvent;
    this.registry = new EntryRegistry(settings.account, this.home);
    this.noAuth = new NoAuthObservations(this.home, settings.logger);
    // The parts see the store through a decorator that registers every secret they read or write
    // with the redactor; `this.store` stays the host's own object.
    this.parts = registeringSecrets(this.store);
    this.cache = new CredentialCache(this.parts, settings.logger, emit);
    const idps = new IdpAssertions(settings, this.parts);
    this.refresh = new RefreshFlight(settings, this.parts, this.cache, emit, async (entry) => {
      const acquisition = await acquisitionFor(entry, settings, idps);
      if (!acquisition) return undefined;
      return {
        acquisition,
        scope: entry.config.scope,
        issuer: entry.config.issuer,
        clientDescription: clientDescription(entry.config),
      };
    });
    this.logins = new LoginSession(settings, this.parts, this.cache, emit, (entry) => this.statusOf(entry));
    this.tokens = new TokenSource(
      settings,
      this.cache,
      this.refresh,
      (entry, loginOptions) => this.implicitLogin(entry, loginOptions),
      emit,
    );
  }

  // ---------------------------------------------------------------- providers

  /**
   * The provider for `name` (idempotent) and `options.account` (default: the manager's `account`
   * option). One manager serves any number of accounts of a server, each its own credential, its
   * own refresh and its own login: a gateway builds one provider per (user, server) and keeps
   * it. Rebuilt when the URL changes; a stored credential bound to another URL is then never
   * sent. The provider has three faces: `token()` and `onUnauthorized()` (the SDK v2
   * AuthProvider) and `fetch`.
   */
  getOrBuildProvider(
    name: string,
    serverUrl: string | URL,
    config: OAuthConfig = {},
    options: AccountOption = {},
  ): ManagedProvider {
    const { entry, replaced } = this.registry.register(name, serverUrl, config, options.account);
    if (replaced) this.settings.logger.info(`Server '${name}' URL changed; discarding the cached provider`);
    this.unwatch ??= this.cache.follow((id) => this.registry.byKeyId(id));
    const built = this.providers.get(entry);
    if (built) return built;
    const provider = new ManagedProvider(
      this,
      name,
      this.settings.fetchFn,
      entry.serverUrl,
      () => entry.record?.binding.resource,
      entry.key.account,
    );
    this.providers.set(entry, provider);
    return provider;
  }

  // ---------------------------------------------------------------- tokens

  /**
   * A usable access token for `name`: the cached one while it is fresh (no I/O), a background
   * refresh inside the skew window (callers are not blocked), the refresh transaction when
   * expired. Throws NeedsReauthError or TransientAuthError.
   */
  accessToken(name: string, options?: AccountOption): Promise<string> {
    return this.tokens.accessToken(this.registry.get(name, options?.account));
  }

  /**
   * The token a transport should send with the next request (the provider's `token()`). With no
   * usable credential: undefined when the manager may prompt, so the request goes out without one
   * and the server's 401 challenge (its scope and resource metadata) drives the login; else
   * NeedsReauthError at once, with no request sent.
   */
  tokenForRequest(name: string, account?: string): Promise<string | undefined> {
    return this.tokens.tokenForRequest(this.registry.get(name, account));
  }

  /**
   * Recovery after a 401, deduplicated per rejected token: N callers rejected with the same token
   * share one recovery. If the token was already replaced (here or by another process), the new
   * one is adopted with no network call. Resolves true when a new token is available, false when
   * a new login is needed; rejects with NeedsReauthError when the reason is worth naming (the
   * server moved to another authorization server), TransientAuthError when the refresh cannot be
   * done now. Without `failedAccessToken`, the current token is presumed rejected.
   */
  async handle401(
    name: string,
    failedAccessToken?: string | null,
    challenge: Challenge = {},
    account?: string,
  ): Promise<boolean> {
    const entry = this.registry.get(name, account);
    // A 401 to a request without a credential: whatever was observed before, it needs a login now.
    if (failedAccessToken === null)
      await this.noAuth.note(entry.key, entry.serverUrl, false, this.settings.clock.now());
    return this.tokens.handle401(entry, failedAccessToken, challenge);
  }

  /**
   * A request sent without a credential got `status` (see ProviderPort): a 2xx records that
   * `name` needs no authentication (`status` shows `no_auth`), a 401 clears that.
   */
  async noteUnauthenticatedAnswer(name: string, status: number, account?: string): Promise<void> {
    if (status !== 401 && (status < 200 || status > 299)) return;
    const entry = this.registry.get(name, account);
    await this.noAuth.note(entry.key, entry.serverUrl, status !== 401, this.settings.clock.now());
  }

  /** Refreshes now, even when the token is still valid (`mcp-oauth refresh`). */
  async refreshNow(name: string, options?: AccountOption): Promise<void> {
    const entry = await this.registry.resolve(name, options?.account);
    await this.cache.reload(entry);
    await this.refresh.run(entry, {
      kind: 'forced',
      basedOn: entry.record ? versionOf(entry.record) : undefined,
    });
  }

  /** Reloads the record if its stored fingerprint changed; true when it did. */
  async invalidateIfDiskChanged(name: string, options?: AccountOption): Promise<boolean> {
    if (!this.registry.has(name, options?.account)) return false;
    return this.cache.reloadIfFingerprintChanged(this.registry.get(name, options?.account));
  }

  // ---------------------------------------------------------------- login / logout

  /**
   * An interactive login: the authorization code flow with PKCE through the browser hook and a
   * loopback callback, paste-back (`flow: 'paste'`) or the device flow (`flow: 'device'`). One
   * login per server across processes: a login started while another process is logging in to
   * the same server waits for that one and reports its result (`joined: true`) instead of opening
   * a second authorization. The new credential is committed only when the whole flow succeeded: a
   * failed, cancelled or timed-out login leaves the previous credential exactly as it was.
   *
   * A login without `options.scope` counts as asked for by a person: it clears the note of scopes
   * the authorization server refused (see {@link OAuthManager.scopeRefusal}). A step-up (with
   * `options.scope`) keeps the unexpired part of that note its grant does not include.
   */
  async login(name: string, options: LoginOptions & AccountOption = {}): Promise<LoginResult> {
    const entry = await this.registry.resolve(name, options.account);
    if (isMinted(grantKindOf(entry.config))) {
      // No person to ask: a login mints one token now (through the refresh transaction) and reports it.
      await this.cache.reload(entry);
      await this.refresh.run(entry, {
        kind: 'forced',
        basedOn: entry.record ? versionOf(entry.record) : undefined,
      });
      return { server: name, joined: false, status: this.statusOf(entry) };
    }
    return this.logins.login(entry, options, options.scope === undefined);
  }

  /**
   * Signs in at an enterprise identity provider (`mcp-oauth login --idp NAME`): an OpenID Connect
   * login whose ID token, the identity assertion, is stored as a credential of its own under
   * (account, `idp:NAME`). Every server configured with `oauth.idp: NAME` exchanges it for its
   * ID-JAG at its next mint. `idp` comes from the `idps:` of config.yaml (see `loadConfig`).
   */
  async loginIdentityProvider(
    idp: IdentityProviderConfig,
    options: LoginOptions = {},
  ): Promise<IdpLoginOutcome> {
    this.registry.assertOpen();
    return loginToIdentityProvider(this.settings, this.parts, idp, options);
  }

  /**
   * The scopes the authorization server left out of a step-up grant for `name`, while the note is
   * in force (10 minutes, `SCOPE_REFUSAL_MS`, on the manager's clock), read from the store now so
   * that a note written by another process counts; undefined when there is none. A host does not
   * step up for scopes that are all in it: it fails with InsufficientScopeError instead of opening
   * a browser on every call.
   */
  async scopeRefusal(name: string, options?: AccountOption): Promise<ScopeRefusal | undefined> {
    const entry = await this.registry.resolve(name, options?.account);
    this.cache.invalidate(entry);
    await this.cache.reload(entry);
    return activeRefusal(entry.record, this.settings.clock.now());
  }

  /**
   * Notes that the authorization server did not grant `scopes` to `name` at a step-up, in the
   * stored credential (every process and proxy on the same store sees it), under the credential
   * lock by compare-and-set. Scopes the stored grant includes are left out; an unexpired note is
   * merged and renewed. Returns the note in force, or undefined when there is no credential or
   * nothing to note. A login by hand (`mcp-oauth login NAME`) clears it.
   */
  async noteRefusedScopes(
    name: string,
    scopes: string[],
    options?: AccountOption,
  ): Promise<ScopeRefusal | undefined> {
    const entry = await this.registry.resolve(name, options?.account);
    const { refusal, written } = await noteRefusal(this.settings, this.parts, entry, scopes);
    if (written) await this.cache.adopt(entry, written, 'scope-refused');
    return refusal;
  }

  /**
   * Logs out: revokes the refresh token (RFC 7009) where the server offers revocation, best
   * effort, and deletes the tokens. `reset` also drops the client registration and discovery.
   * The outcome says exactly what happened (nothing stored; revoked; or deleted here only, and
   * why), so a person knows whether a refresh token may still be live at the server.
   *
   * A stored credential whose server is neither registered nor in config.yaml (an orphan) is
   * logged out too: its record holds everything revocation needs.
   */
  async logout(name: string, options: { reset?: boolean } & AccountOption = {}): Promise<LogoutOutcome> {
    const entry = await this.entryOrOrphan(name, options.account);
    const { outcome, record } = await logOut(this.settings, this.parts, entry, options);
    if (outcome.existed) {
      await this.cache.adopt(entry, record, 'logout');
    } else {
      // Nothing was readable: re-read, so an unreadable record's notice stays for status.
      this.cache.invalidate(entry);
      await this.cache.reload(entry, 'logout');
    }
    return outcome;
  }

  /**
   * Forgets the server for one account: revokes where offered, deletes tokens and client
   * registration, removes the key's lock files where the store can (never one another process
   * holds), and evicts the entry. Works on orphaned credentials too.
   */
  async remove(name: string, options: AccountOption = {}): Promise<LogoutOutcome> {
    const entry = await this.entryOrOrphan(name, options.account);
    const outcome = await this.logout(name, { reset: true, account: entry.key.account });
    const kept = await removeLockFiles(this.store, entry.key);
    if (kept.length > 0)
      this.settings.logger.info(`Lock files of '${name}' left in place: another process holds them`, {
        files: kept,
      });
    this.registry.delete(name, entry.key.account);
    this.emit('credentials-changed', { ...subjectOf(entry), reason: 'removed' });
    return outcome;
  }

  /**
   * The entry of `name` for `account`: registered or configured, else, when a credential is
   * stored under that key, an entry bound to the URL its record names (an orphan: status,
   * logout and remove still reach it).
   */
  private async entryOrOrphan(name: string, account: string | undefined): Promise<ServerEntry> {
    try {
      return await this.registry.resolve(name, account);
    } catch (error) {
      if (!(error instanceof ConfigError) || this.registry.has(name, account)) throw error;
      const key = this.registry.keyFor(name, account);
      const record = await storedRecord(this.parts, key).catch(() => undefined);
      if (!record) throw error;
      const { entry } = this.registry.register(name, record.binding.serverUrl, {}, account);
      entry.orphaned = true;
      return entry;
    }
  }

  // ---------------------------------------------------------------- status

  /**
   * The state of one server's credential (of `options.account`), read from the store now; never a
   * token or a secret. A credential whose server is not configured (an orphan) is reported with
   * the URL its record is bound to.
   */
  async status(name: string, options?: AccountOption): Promise<ServerStatus> {
    const entry = await this.entryOrOrphan(name, options?.account);
    await this.cache.reload(entry);
    const status = this.statusOf(entry);
    // No credential, and the server was seen answering without one: it needs no login.
    if (status.state === 'logged_out' && (await this.noAuth.read(entry.key, entry.serverUrl)))
      return { ...status, state: 'no_auth' };
    return status;
  }

  /** May a request (not a person at the CLI) start an interactive login now? */
  canPromptImplicitly(): boolean {
    return mayPromptImplicitly(this.settings.interactive);
  }

  /** The manager's time source (hosts share it so tests can move time for everything). */
  get now(): () => number {
    return () => this.settings.clock.now();
  }

  /** The exact command a person should run to log in to `name` again. */
  reloginCommandFor(name: string, account?: string): string {
    return this.settings.reloginCommand(name, account ?? this.registry.defaultAccount);
  }

  /** Releases watchers and timers so the process can exit, after refreshes in flight persist. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.registry.close();
    // A refresh in flight (a background one inside the skew window too) must persist its rotation
    // before the process may exit: wait for it, bounded by the request timeout.
    const flights = this.refresh.inFlight(this.registry.all());
    if (flights.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((resolve) => {
        timer = setTimeout(resolve, this.settings.requestTimeoutMs + CLOSE_GRACE_MS);
      });
      await Promise.race([Promise.all(flights), bound]);
      clearTimeout(timer);
    }
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.ownsStore) await this.store.close();
    this.removeAllListeners();
  }

  /**
   * A login a request started (not a person at a CLI): it says on stderr what it waits for (the
   * URL, or the device code), never reads the host's stdin, and where no browser can be opened
   * uses the device flow if the server offers one, else NeedsReauthError with the command.
   */
  private async implicitLogin(entry: ServerEntry, options: LoginOptions = {}): Promise<LoginResult> {
    try {
      return await this.logins.login(entry, {
        prompt: implicitLoginPrompt((text) => process.stderr.write(text)),
        noBrowser: 'device',
        ...options,
      });
    } catch (error) {
      if (!(error instanceof Error && error.name === 'NoBrowserLoginError')) throw error;
      const command = this.settings.reloginCommand(entry.name, entry.key.account);
      const reason = (error as Error).message
        .replace(/^Login to MCP server '[^']*' failed: /, '')
        .replace(/\. The previous credential.*$/, '');
      this.emit('needs-reauth', { ...subjectOf(entry), command, reason });
      throw new NeedsReauthError(entry.name, command, reason, { cause: error });
    }
  }

  private statusOf(entry: ServerEntry): ServerStatus {
    return serverStatus({
      name: entry.name,
      account: entry.key.account,
      orphaned: entry.orphaned,
      config: entry.config,
      serverUrl: entry.serverUrl,
      record: entry.record,
      loadError: entry.loadError,
      now: this.settings.clock.now(),
      skewMs: skewMsFor(this.settings, entry.config),
    });
  }
}
