import { LockTimeoutError, McpOAuthError, NeedsReauthError, TransientAuthError } from '../errors.js';
import { RefreshFailure } from '../oauth/refresh-failure.js';
import type { CredentialStore } from '../store/credential-store.js';
import type { CredentialCache } from './credential-cache.js';
import { type EmitEvent, subjectOf } from './events.js';
import { type RefreshReason, runRefreshTransaction } from './refresh-transaction.js';
import type { ServerEntry } from './server-entry.js';
import { type ManagerSettings, skewMsFor } from './settings.js';
import type { MintPlan } from './transaction-types.js';

/**
 * The in-process single flight over the refresh transaction: however many callers need a new
 * token for one entry, one transaction runs; they all get its token or its error. A transient
 * failure backs off (doubling, capped) so a dead server is not hammered; `invalid_grant` and
 * its kin end in NeedsReauthError with the command to run.
 */
export class RefreshFlight {
  constructor(
    private readonly settings: ManagerSettings,
    private readonly store: CredentialStore,
    private readonly cache: CredentialCache,
    private readonly emit: EmitEvent,
    /** The mint plan of a server whose tokens are minted; undefined for one that refreshes. */
    private readonly mintPlanFor: (entry: ServerEntry) => Promise<MintPlan | undefined> = async () =>
      undefined,
  ) {}

  /** A new access token for `entry`, joining the flight in progress if there is one. */
  run(entry: ServerEntry, reason: RefreshReason): Promise<string> {
    if (entry.flight) {
      // Joined a flight started for another reason: if it ended on the very token the server
      // rejected, that token is still dead, so run once more for this reason.
      if (reason.kind !== 'rejected') return entry.flight;
      return entry.flight.then((token) => (token === reason.token ? this.run(entry, reason) : token));
    }
    const now = this.settings.clock.now();
    if (now < entry.backoff.until) {
      return Promise.reject(
        new TransientAuthError(entry.name, 'a recent refresh attempt failed', entry.backoff.until - now),
      );
    }
    const flight = this.transact(entry, reason).finally(() => {
      entry.flight = undefined;
    });
    entry.flight = flight;
    return flight;
  }

  /** The refreshes in flight, settled or not, for close() to wait on. */
  inFlight(entries: Iterable<ServerEntry>): Promise<unknown>[] {
    return [...entries].flatMap((e) => (e.flight ? [e.flight.catch(() => {})] : []));
  }

  private async transact(entry: ServerEntry, reason: RefreshReason): Promise<string> {
    const { settings } = this;
    try {
      const mint = await this.mintPlanFor(entry);
      const outcome = await runRefreshTransaction(
        {
          store: this.store,
          key: entry.key,
          serverUrl: entry.serverUrl,
          fetchFn: settings.fetchFn,
          clock: settings.clock,
          logger: settings.logger,
          skewMs: skewMsFor(settings, entry.config),
          requestTimeoutMs: settings.requestTimeoutMs,
          lock: settings.lock,
          hooks: settings.hooks,
          mint,
        },
        reason,
      );
      entry.backoff = { until: 0, attempts: 0 };
      if (outcome.kind === 'needs_reauth') {
        await this.cache.adopt(entry, outcome.record, 'needs_reauth');
        const command = settings.reloginCommand(entry.name, entry.key.account);
        this.emit('needs-reauth', { ...subjectOf(entry), command, reason: outcome.reason });
        throw new NeedsReauthError(entry.name, command, outcome.reason);
      }
      await this.cache.adopt(entry, outcome.record, outcome.kind === 'refreshed' ? 'refreshed' : 'external');
      return outcome.record.tokens!.accessToken;
    } catch (error) {
      if (error instanceof NeedsReauthError) {
        // From a mint: the identity provider's sign-in is missing or expired (`login --idp`).
        if (error.command !== settings.reloginCommand(entry.name))
          this.emit('needs-reauth', { server: entry.name, command: error.command, reason: error.reason });
        throw error;
      }
      if (
        error instanceof RefreshFailure ||
        error instanceof LockTimeoutError ||
        !(error instanceof McpOAuthError)
      ) {
        const wait = this.nextBackoff(entry);
        const detail = error instanceof Error ? error.message : 'unknown error';
        settings.logger.warn(
          `Refresh for '${entry.name}' failed transiently (${detail}); retry in ${wait} ms`,
        );
        throw new TransientAuthError(entry.name, detail, wait, { cause: error });
      }
      throw error;
    }
  }

  private nextBackoff(entry: ServerEntry): number {
    const { initialMs, maxMs } = this.settings.backoff;
    const wait = Math.min(maxMs, initialMs * 2 ** entry.backoff.attempts);
    entry.backoff = { until: this.settings.clock.now() + wait, attempts: entry.backoff.attempts + 1 };
    return wait;
  }
}
