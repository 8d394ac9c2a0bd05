import { NeedsReauthError } from '../errors.js';
import type { CredentialCache } from './credential-cache.js';
import { type EmitEvent, subjectOf } from './events.js';
import { freshness } from './expiry.js';
import { grantKindOf, isMinted } from './grant-kind.js';
import { mayPromptImplicitly } from './interactivity.js';
import type { LoginOptions } from './login-types.js';
import type { Challenge } from './provider-port.js';
import type { RefreshFlight } from './refresh-flight.js';
import type { ServerEntry } from './server-entry.js';
import { type ManagerSettings, skewMsFor } from './settings.js';
import { type CredentialCheck, checkCredential, holdsGrant, REASONS } from './usability.js';

/**
 * Where every access token comes from: the cached one while it is fresh (no I/O, no lock, no
 * await), a background refresh inside the skew window, the refresh flight when expired, and the
 * recovery after a 401, keyed by the exact token the server rejected.
 */
export class TokenSource {
  constructor(
    private readonly settings: ManagerSettings,
    private readonly cache: CredentialCache,
    private readonly refresh: RefreshFlight,
    private readonly login: (entry: ServerEntry, options?: LoginOptions) => Promise<unknown>,
    private readonly emit: EmitEvent,
  ) {}

  /** A usable access token; NeedsReauthError (or an implicit login, where allowed) without one. */
  accessToken(entry: ServerEntry): Promise<string> {
    const fresh = this.freshToken(entry);
    if (fresh !== undefined) return Promise.resolve(fresh);
    return this.usableToken(entry).then((token) => token ?? this.withoutUsableCredential(entry));
  }

  /**
   * The token for the next request. Without a usable credential: undefined when a login may start
   * (the request goes out bare and the server's 401 challenge drives the login), else
   * NeedsReauthError at once, with no request sent.
   */
  tokenForRequest(entry: ServerEntry): Promise<string | undefined> {
    // The hot path: a fresh cached token is returned without entering any async function.
    const fresh = this.freshToken(entry);
    if (fresh !== undefined) return Promise.resolve(fresh);
    return this.usableToken(entry).then((token) => {
      if (token !== undefined || mayPromptImplicitly(this.settings.interactive)) return token;
      // Never logged in: the request goes out bare (it carries nothing to lose). A server that
      // needs no authentication answers it (the `no_auth` observation); one that does answers
      // 401, and the recovery, which may not prompt, raises NeedsReauthError with the command.
      if (entry.record === undefined && entry.loadError === undefined) return undefined;
      return this.withoutUsableCredential(entry);
    });
  }

  /**
   * Recovery after a 401, deduplicated per rejected token: N callers rejected with the same token
   * share one recovery. A token already replaced (here or by another process) is adopted with no
   * network call. True when a new token is available, false when a new login is needed;
   * NeedsReauthError instead when the reason is worth naming (the server moved to another
   * authorization server), TransientAuthError when the refresh could not be done now.
   * `failedAccessToken`: the token the request carried; null for none; undefined when unknown
   * (the current token is then presumed rejected).
   */
  handle401(
    entry: ServerEntry,
    failedAccessToken: string | null | undefined,
    challenge: Challenge,
  ): Promise<boolean> {
    const key = failedAccessToken === null ? '\u0000none' : (failedAccessToken ?? '\u0000current');
    const pending = entry.pending401.get(key);
    if (pending) return pending;
    const recovery = this.recover(entry, failedAccessToken, challenge).finally(() =>
      entry.pending401.delete(key),
    );
    entry.pending401.set(key, recovery);
    return recovery;
  }

  private async recover(
    entry: ServerEntry,
    failedAccessToken: string | null | undefined,
    challenge: Challenge,
  ): Promise<boolean> {
    await this.cache.ensureCurrent(entry);
    const current = holdsGrant(entry.record, entry.serverUrl) ? entry.record?.tokens?.accessToken : undefined;
    if (isMinted(grantKindOf(entry.config))) {
      // No person and no login: a token the server rejected is minted again (or adopted).
      const rejected = failedAccessToken ?? current;
      if (current && rejected !== current) return true;
      await this.refresh.run(entry, rejected ? { kind: 'rejected', token: rejected } : { kind: 'expiry' });
      return true;
    }
    if (failedAccessToken === null || !current) {
      // The request carried no token (there was no usable credential): a login is the recovery.
      if (current) return true; // one appeared meanwhile (another call's login, another process)
      if (!mayPromptImplicitly(this.settings.interactive)) return false;
      await this.login(entry, {
        ...(challenge.scope ? { challengeScope: challenge.scope } : {}),
        ...(challenge.resourceMetadataUrl ? { resourceMetadataUrl: challenge.resourceMetadataUrl } : {}),
      });
      return true;
    }
    const rejected = failedAccessToken ?? current;
    if (current !== rejected) return true;
    const moved = await this.movedIssuer(entry, challenge);
    if (moved) return this.migrate(entry, challenge, moved);
    try {
      await this.refresh.run(entry, { kind: 'rejected', token: rejected });
    } catch (error) {
      if (error instanceof NeedsReauthError) return false;
      throw error;
    }
    this.emit('reconnect-required', {
      ...subjectOf(entry),
      reason: 'the access token was replaced after a 401',
      cause: 'refresh-after-401',
    });
    return true;
  }

  /**
   * After a 401 on a token of issuer A: the issuer the server's protected-resource metadata names
   * now, when it is another one (B); else undefined (same issuer, or no answer: the usual refresh
   * then runs). Read before refreshing, so A's refresh token is not spent on a server that has
   * moved, and never sent to B (a refresh only ever uses the record's own token endpoint).
   * Only a `resource_metadata` on the server's own origin is followed here.
   *
   * @see [MCP 2026-07-28: Authorization Server Binding](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration)
   */
  private async movedIssuer(
    entry: ServerEntry,
    challenge: Challenge,
  ): Promise<{ from: string; to: string } | undefined> {
    const record = entry.record;
    const { discover, issuerOf, resourceMismatch } = await import('../oauth/discovery.js');
    const { withTimeout } = await import('../oauth/timeout-fetch.js');
    const from = record?.binding.issuer ?? (record?.discovery ? issuerOf(record.discovery) : undefined);
    if (!from) return undefined;
    const sameOrigin =
      challenge.resourceMetadataUrl?.origin === new URL(entry.serverUrl).origin
        ? { resourceMetadataUrl: challenge.resourceMetadataUrl }
        : {};
    try {
      const discovery = await discover(entry.serverUrl, {
        fetchFn: withTimeout(this.settings.fetchFn, this.settings.requestTimeoutMs),
        ...sameOrigin,
      });
      // Metadata that does not describe this server proves nothing about a move.
      if (!discovery.resourceMetadata || resourceMismatch(entry.serverUrl, discovery)) return undefined;
      const to = issuerOf(discovery);
      return to === from ? undefined : { from, to };
    } catch {
      return undefined;
    }
  }

  /**
   * The server moved to another authorization server: a new login is the only recovery. Where
   * the manager may prompt, it runs one now (it discovers afresh and registers at the new server;
   * the old record stays until that login commits); else NeedsReauthError naming both issuers,
   * with the record left exactly as it is.
   */
  private async migrate(
    entry: ServerEntry,
    challenge: Challenge,
    moved: { from: string; to: string },
  ): Promise<boolean> {
    const reason = `${REASONS.otherIssuer(moved.to)}, not ${moved.from}`;
    const command = this.settings.reloginCommand(entry.name, entry.key.account);
    if (!mayPromptImplicitly(this.settings.interactive)) {
      this.emit('needs-reauth', { ...subjectOf(entry), command, reason });
      throw new NeedsReauthError(entry.name, command, reason);
    }
    await this.login(entry, {
      ...(challenge.scope ? { challengeScope: challenge.scope } : {}),
      ...(challenge.resourceMetadataUrl ? { resourceMetadataUrl: challenge.resourceMetadataUrl } : {}),
    });
    return true;
  }

  private check(entry: ServerEntry): CredentialCheck {
    return checkCredential(entry.record, {
      serverUrl: entry.serverUrl,
      now: this.settings.clock.now(),
      skewMs: skewMsFor(this.settings, entry.config),
      loadError: entry.loadError,
    });
  }

  /**
   * The cached token while it is fresh and no change is pending; else undefined. No I/O, and no
   * allocation: `holdsGrant` is the allocation-free half of `checkCredential`.
   */
  private freshToken(entry: ServerEntry): string | undefined {
    if (entry.dirty) return undefined;
    const record = entry.record;
    if (!holdsGrant(record, entry.serverUrl)) return undefined;
    const skewMs = skewMsFor(this.settings, entry.config);
    return freshness(record.tokens, this.settings.clock.now(), skewMs) === 'fresh'
      ? record.tokens.accessToken
      : undefined;
  }

  /** Undefined when there is no usable credential. */
  private async usableToken(entry: ServerEntry): Promise<string | undefined> {
    await this.cache.ensureCurrent(entry);
    const check = this.check(entry);
    if (!check.ok) {
      // A minted credential needs no login: a missing or unusable one is minted now.
      if (isMinted(grantKindOf(entry.config))) return this.refresh.run(entry, { kind: 'expiry' });
      return undefined;
    }
    if (check.freshness === 'fresh') return check.tokens.accessToken;
    if (check.freshness === 'expiring') {
      // Still valid: refresh in the background, never making this caller wait.
      this.refresh.run(entry, { kind: 'expiry' }).catch(() => {});
      return check.tokens.accessToken;
    }
    return this.refresh.run(entry, { kind: 'expiry' });
  }

  /** No usable credential: log in implicitly where allowed, else fail fast with the command to run. */
  private async withoutUsableCredential(entry: ServerEntry): Promise<string> {
    const check = this.check(entry);
    const reason = check.ok ? REASONS.notLoggedIn : check.reason;
    if (mayPromptImplicitly(this.settings.interactive)) {
      await this.login(entry);
      const token = entry.record?.tokens?.accessToken;
      if (token) return token;
    }
    throw new NeedsReauthError(
      entry.name,
      this.settings.reloginCommand(entry.name, entry.key.account),
      reason,
    );
  }
}
