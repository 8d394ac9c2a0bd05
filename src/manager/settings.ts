import type { FetchLike } from '@modelcontextprotocol/client';
import { type Clock, systemClock } from '../clock.js';
import { DEFAULT_REFRESH_SKEW_SECONDS, type OAuthConfig } from '../config/oauth-config.js';
import { type Logger, redactingLogger, silentLogger } from '../logger.js';
import type { OpenBrowser } from '../oauth/browser.js';
import { observedFetch } from '../oauth/network-error.js';
import { shellQuote } from '../shell-quote.js';
import { type CredentialStore, DEFAULT_LOCK_WAIT_MS } from '../store/credential-store.js';
import type { LockSettings } from './credential-lock.js';
import type { Interactive } from './interactivity.js';
import type { TransactionHooks } from './refresh-transaction.js';

/** Refresh this long before expiry unless configured (capped at half a token's lifetime). */
export const DEFAULT_REFRESH_SKEW_MS = DEFAULT_REFRESH_SKEW_SECONDS * 1000;
/** Timeout of one request to an authorization server (refresh, revocation). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** For stores whose locks expire (a Redis lease): a holder silent this long is presumed dead. */
export const DEFAULT_LOCK_STALE_MS = 10_000;
/** Transient-failure back-off: the first wait, doubled per failure up to the cap. */
export const DEFAULT_BACKOFF_INITIAL_MS = 1_000;
/** Transient-failure back-off: the longest wait between two refresh attempts. */
export const DEFAULT_BACKOFF_MAX_MS = 60_000;
/** How much longer than a login's own deadline a process waits for another process's login. */
export const LOGIN_JOIN_GRACE_MS = 30_000;
/** How much longer than a refresh request close() waits for refreshes in flight. */
export const CLOSE_GRACE_MS = 5_000;

/** What a host may set when it builds an `OAuthManager`. Every field is optional. */
export interface OAuthManagerOptions {
  /** Home folder (config, credentials, locks): `home` > MCP_OAUTH_HOME > ~/.mcp-oauth. Ignored when `store` is given. */
  home?: string;
  /**
   * Credential storage. Default: the store config.yaml's `store:` or MCP_OAUTH_STORE selects (a
   * FileCredentialStore in the home folder unless one is set; see SelectedStore), opened at first use.
   */
  store?: CredentialStore;
  /** Where MCP_OAUTH_STORE and the encryption keys are read when `store` is not given (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Time source (tests inject one). */
  clock?: Clock;
  /** fetch for every OAuth request and the base of each provider's `fetch`. */
  fetch?: FetchLike;
  /** Receives redacted log events; default silent. */
  logger?: Logger;
  /** May a request that finds no usable credential open a browser? Default 'auto'. */
  interactive?: Interactive;
  /** The command shown in NeedsReauthError; a string with `{server}` (and `{account}`), or a function. */
  reloginCommand?: string | ((server: string, account?: string) => string);
  /**
   * The default account of every key: calls that name no account use it. One manager serves any
   * number of accounts (a gateway): pass `{ account }` to getOrBuildProvider and the other calls.
   */
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
}

/**
 * Seams for the benchmark and the crash-injection tests, never part of the public options: they
 * reach a manager only through `withInternalSeams()` of the unpublished `src/internal.ts`.
 */
export interface InternalSeams {
  /** The benchmark's baseline: the seed's design without the cross-process lock. */
  crossProcessLock?: boolean;
  /** Crash injection inside the refresh transaction. */
  testHooks?: TransactionHooks;
}

const SEAMS = Symbol('mcp-oauth-manager.internal-seams');

/** `options` with internal seams attached (see InternalSeams). */
export function withInternalSeams(options: OAuthManagerOptions, seams: InternalSeams): OAuthManagerOptions {
  return Object.assign({ ...options }, { [SEAMS]: seams });
}

/** The options resolved once: every default applied, so no part repeats a `??`. */
export interface ManagerSettings {
  clock: Clock;
  fetchFn: FetchLike;
  logger: Logger;
  interactive: Interactive;
  account: string | undefined;
  reloginCommand: (server: string, account?: string) => string;
  /** The command that signs in to an enterprise identity provider again (`login --idp NAME`). */
  idpLoginCommand: (idp: string) => string;
  refreshSkewMs: number;
  requestTimeoutMs: number;
  lock: LockSettings;
  backoff: { initialMs: number; maxMs: number };
  openBrowser: OpenBrowser | undefined;
  hooks: TransactionHooks | undefined;
}

/** Applies every default to `options`, once, when the manager is built. */
export function resolveSettings(options: OAuthManagerOptions): ManagerSettings {
  const seams = (options as { [SEAMS]?: InternalSeams })[SEAMS] ?? {};
  const logger = options.logger ? redactingLogger(options.logger) : silentLogger;
  return {
    clock: options.clock ?? systemClock,
    // One fetch for every request: network failures named (URL, cause, next step), and each
    // request logged at debug level (method, URL without query, status, time).
    fetchFn: observedFetch(options.fetch ?? ((input, init) => fetch(input, init)), logger),
    logger,
    interactive: options.interactive ?? 'auto',
    account: options.account,
    reloginCommand: reloginCommandOf(options),
    idpLoginCommand: (idp) =>
      `mcp-oauth${options.home ? ` --home ${shellQuote(options.home)}` : ''} login --idp ${shellQuote(idp)}`,
    refreshSkewMs: options.refreshSkewMs ?? DEFAULT_REFRESH_SKEW_MS,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    lock: {
      enabled: seams.crossProcessLock !== false,
      waitMs: options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
      staleMs: options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS,
    },
    backoff: {
      initialMs: options.backoff?.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS,
      maxMs: options.backoff?.maxMs ?? DEFAULT_BACKOFF_MAX_MS,
    },
    openBrowser: options.openBrowser,
    hooks: seams.testHooks,
  };
}

/** The refresh skew of one server: its configured `refresh_skew`, else the manager's. */
export function skewMsFor(settings: ManagerSettings, config: OAuthConfig): number {
  const configured = config.refreshSkewSeconds;
  return configured !== undefined ? configured * 1000 : settings.refreshSkewMs;
}

function reloginCommandOf(options: OAuthManagerOptions): (server: string, account?: string) => string {
  const command = options.reloginCommand;
  if (typeof command === 'function') return command;
  if (typeof command === 'string')
    return (server, account) =>
      command.replaceAll('{server}', server).replaceAll('{account}', account ?? 'default');
  const home = options.home ? ` --home ${shellQuote(options.home)}` : '';
  return (server, account) =>
    `mcp-oauth${home}${account === undefined ? '' : ` --account ${shellQuote(account)}`} login ${shellQuote(server)}`;
}
