import { randomUUID } from 'node:crypto';
import type { OAuthConfig } from '../config/oauth-config.js';
import { loginTimeoutMs } from '../config/oauth-config.js';
import { LockTimeoutError, LoginError } from '../errors.js';
import { openInBrowser } from '../oauth/browser.js';
import type { RegisteredClient } from '../oauth/login-flow.js';
import { CREDENTIAL_SCHEMA_VERSION, type CredentialRecord, versionOf } from '../store/credential-record.js';
import type { CredentialStore } from '../store/credential-store.js';
import type { CredentialCache } from './credential-cache.js';
import { underCredentialLock } from './credential-lock.js';
import { type EmitEvent, subjectOf } from './events.js';
import type { LoginOptions, LoginResult } from './login-types.js';
import { inheritedRefusal } from './scope-refusal.js';
import type { ServerEntry } from './server-entry.js';
import type { ServerStatus } from './server-status.js';
import { LOGIN_JOIN_GRACE_MS, type ManagerSettings } from './settings.js';
import { storedRecord } from './stored-record.js';
import { holdsGrant } from './usability.js';

/**
 * Interactive logins, explicit (`mcp-oauth login`) or implicit (a request that found no usable
 * credential): one per server in this process (callers join the login in flight) and across
 * processes (the store's login lock; a second process waits for the first one's result instead
 * of opening a second browser tab). The new credential is committed only when the whole flow
 * succeeded: a failed, cancelled or timed-out login leaves the previous one exactly as it was.
 */
export class LoginSession {
  constructor(
    private readonly settings: ManagerSettings,
    private readonly store: CredentialStore,
    private readonly cache: CredentialCache,
    private readonly emit: EmitEvent,
    /** The status row after a login, from the record this process now holds (no re-read). */
    private readonly statusOf: (entry: ServerEntry) => ServerStatus,
  ) {}

  /**
   * Logs in to `entry`'s server, or joins the login already running for it. `byHand`: a person
   * asked for this login (not a request's step-up or 401); it clears the scope-refusal note.
   */
  login(entry: ServerEntry, options: LoginOptions = {}, byHand = false): Promise<LoginResult> {
    if (entry.loginFlight) return entry.loginFlight;
    const flight = this.loginOnce(entry, options, byHand).finally(() => {
      entry.loginFlight = undefined;
    });
    entry.loginFlight = flight;
    return flight;
  }

  private async loginOnce(entry: ServerEntry, options: LoginOptions, byHand: boolean): Promise<LoginResult> {
    // Read before trying the login lock: if another process holds it, its login is judged against
    // this record, and that process may commit and release between a failed try and a later read.
    const before = await storedRecord(this.store, entry.key);
    let entered = false;
    try {
      await this.store.withLock(
        entry.key,
        async () => {
          entered = true;
          await this.runAndCommit(entry, options, byHand);
        },
        { purpose: 'login', waitMs: 0 },
      );
      return {
        server: entry.name,
        joined: false,
        status: this.statusOf(entry),
        ...(options.scope ? { requestedScope: options.scope } : {}),
      };
    } catch (error) {
      if (entered || !(error instanceof LockTimeoutError)) throw error;
      return this.joinOtherProcess(entry, options, before);
    }
  }

  /**
   * Another process holds the login lock: wait for its login (bounded, and cancellable through
   * `options.signal` like any phase of a login) and report it, judged against `before`, the
   * record stored before this process tried the lock.
   */
  private async joinOtherProcess(
    entry: ServerEntry,
    options: LoginOptions,
    before: CredentialRecord | undefined,
  ): Promise<LoginResult> {
    options.prompt?.({ kind: 'waiting-for-other-login', server: entry.name });
    const waitMs = loginTimeoutMs(entry.config) + LOGIN_JOIN_GRACE_MS;
    const waited = this.store.withLock(entry.key, async () => {}, { purpose: 'login', waitMs });
    await untilCancelled(waited, options.signal, entry.name);
    this.cache.invalidate(entry);
    await this.cache.reload(entry);
    const after = entry.record;
    if (!holdsGrant(after, entry.serverUrl) || after?.recordId === before?.recordId) {
      throw new LoginError(
        entry.name,
        'the login running in another process did not complete; run the login again',
      );
    }
    return { server: entry.name, joined: true, status: this.statusOf(entry) };
  }

  /** Runs the flow (holding the login lock) and commits its credential. One read of the record. */
  private async runAndCommit(entry: ServerEntry, options: LoginOptions, byHand: boolean): Promise<void> {
    const { settings } = this;
    const name = entry.name;
    // The stored record: its client registration is reused, and it is what the commit replaces.
    const existing = await storedRecord(this.store, entry.key);
    // Loaded here, not at start-up: only a login needs the protocol code and the MCP SDK.
    const { runLoginFlow } = await import('../oauth/login-flow.js');
    const result = await runLoginFlow({
      server: name,
      serverUrl: entry.serverUrl,
      config: withLoginHint(entry.config, entry.key.account),
      existing,
      flow: options.flow ?? 'browser',
      fetchFn: settings.fetchFn,
      openBrowser: options.openBrowser ?? settings.openBrowser ?? openInBrowser,
      input: options.input,
      prompt: (p) => options.prompt?.({ ...p, server: name }),
      now: () => settings.clock.now(),
      ...(options.challengeScope ? { challengeScope: options.challengeScope } : {}),
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.resourceMetadataUrl ? { resourceMetadataUrl: options.resourceMetadataUrl } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.noBrowser ? { noBrowser: options.noBrowser } : {}),
      ...(options.onPhase ? { onPhase: options.onPhase } : {}),
      onClientRegistered: (registered) => this.keepRegisteredClient(entry, registered),
    });
    const fresh: CredentialRecord = {
      schemaVersion: CREDENTIAL_SCHEMA_VERSION,
      recordId: randomUUID(),
      generation: 1,
      server: name,
      ...(entry.key.account !== undefined ? { account: entry.key.account } : {}),
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
      updatedAt: settings.clock.now(),
    };
    // A fresh record would drop a scope-refusal note, and the next request would step up into the
    // same refusal: the record it replaces (as found at the commit) hands its note over.
    const withNote = (replaced: CredentialRecord | undefined): CredentialRecord => {
      const refusal = inheritedRefusal(replaced, result.tokens.scope, settings.clock.now(), byHand);
      return refusal ? { ...fresh, refusedScopes: refusal } : fresh;
    };
    const record = await this.commit(entry, withNote, existing);
    settings.logger.info(`Logged in to '${name}'`, { issuer: result.issuer, clientKind: result.client.kind });
    entry.backoff = { until: 0, attempts: 0 };
    await this.cache.adopt(entry, record, 'login');
    this.emit('reconnect-required', { ...subjectOf(entry), reason: 'new login', cause: 'login' });
  }

  /**
   * Keeps a client this login just registered, before the person is asked, where that loses
   * nothing: no record yet, or one without tokens (logged out). A login cancelled or failed after
   * this leaves a logged-out record holding the client, and the next login, in any flow, reuses it
   * instead of registering again (a server that has since forgotten it answers invalid_client, and
   * the flow registers once more). A record with tokens is never touched here: the commit at the
   * end replaces it, client included, only when the login succeeds. Best effort: a failure to keep
   * it only costs a registration.
   */
  private async keepRegisteredClient(entry: ServerEntry, registered: RegisteredClient): Promise<void> {
    const keep = async () => {
      const current = await storedRecord(this.store, entry.key);
      if (current?.tokens) return;
      const record: CredentialRecord = {
        schemaVersion: CREDENTIAL_SCHEMA_VERSION,
        recordId: randomUUID(),
        generation: 1,
        server: entry.name,
        ...(entry.key.account !== undefined ? { account: entry.key.account } : {}),
        binding: {
          serverUrl: entry.serverUrl,
          resource: registered.resource,
          issuer: registered.issuer,
          clientId: String(registered.client.information.client_id),
        },
        client: registered.client,
        discovery: registered.discovery,
        state: 'valid',
        updatedAt: this.settings.clock.now(),
      };
      await this.store.put(entry.key, record, current ? versionOf(current) : null);
    };
    try {
      await underCredentialLock(this.store, entry.key, this.settings.lock, keep);
    } catch (error) {
      this.settings.logger.debug('Could not keep the registered client before the login ended', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /**
   * Replaces whatever is stored, under the refresh lock so it never interleaves with a refresh
   * elsewhere. A refresh that rotated the old grant during the login is replaced too (the new
   * login supersedes it): the compare-and-set expects the record read at the start, and on a
   * mismatch the version found under the lock. `recordReplacing` builds the new record from the
   * one it replaces (a scope-refusal note carries over). Returns the record written.
   */
  private async commit(
    entry: ServerEntry,
    recordReplacing: (replaced: CredentialRecord | undefined) => CredentialRecord,
    existing: CredentialRecord | undefined,
  ): Promise<CredentialRecord> {
    const write = async () => {
      const record = recordReplacing(existing);
      const first = await this.store.put(entry.key, record, existing ? versionOf(existing) : null);
      if (first.ok) return record;
      const current = first.current;
      const again = recordReplacing(current);
      const second = await this.store.put(entry.key, again, current ? versionOf(current) : null);
      if (!second.ok)
        throw new LoginError(
          entry.name,
          'the stored credential changed during the login; run the login again',
        );
      return again;
    };
    return underCredentialLock(this.store, entry.key, this.settings.lock, write);
  }
}

/**
 * `waited`, unless `signal` aborts first: then a LoginError saying the wait was cancelled and
 * nothing changed. (The abandoned wait still takes and releases the lock when it comes; harmless.)
 */
async function untilCancelled(waited: Promise<unknown>, signal: AbortSignal | undefined, server: string) {
  if (!signal) return waited;
  waited.catch(() => {});
  const cancelled = new LoginError(
    server,
    'cancelled while waiting for the login running in another process; nothing was changed',
  );
  if (signal.aborted) throw cancelled;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      waited,
      new Promise((_, reject) => {
        onAbort = () => reject(cancelled);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** `config` with its `loginHint` for `account` (`{account}` replaced; `default` for the default account). */
function withLoginHint(config: OAuthConfig, account: string | undefined): OAuthConfig {
  if (!config.loginHint?.includes('{account}')) return config;
  // Same prototype: a configured secret keeps its redaction (withRedactedSecret).
  return Object.assign(Object.create(Object.getPrototypeOf(config)) as OAuthConfig, config, {
    loginHint: config.loginHint.replaceAll('{account}', account ?? 'default'),
  });
}
