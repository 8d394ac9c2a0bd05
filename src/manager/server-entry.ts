import type { OAuthConfig } from '../config/oauth-config.js';
import type { CredentialRecord } from '../store/credential-record.js';
import type { CredentialKey } from '../store/credential-store.js';
import type { LoginResult } from './login-types.js';

/**
 * What the manager keeps per (account, server): the last record it read (the hot path reads only
 * this), change tracking, and the in-flight work that must not run twice (refresh, 401 recovery,
 * login). Every part of the manager receives the entry, never a name to look up again.
 */
export class ServerEntry {
  /** The last record read or written by this process; undefined when there is none. */
  record: CredentialRecord | undefined;
  /** Why the last read failed (a corrupt or newer-schema record), for status. */
  loadError: Error | undefined;
  /** Bumped by every change signal; a reload that started before a bump leaves the entry dirty. */
  changeSeq = 1;
  loadedSeq = 0;
  /** Bumped by every record this process installs (adopt): a read that overlapped one is stale. */
  installs = 0;
  /** Whether the record was read at least once (a first read is not a change to announce). */
  loadedOnce = false;
  /** The store fingerprint at the last read or write, for invalidateIfDiskChanged. */
  fingerprint: string | undefined;
  loading: Promise<void> | undefined;
  /** The one refresh transaction in flight in this process. */
  flight: Promise<string> | undefined;
  /** In-flight 401 recoveries, keyed by the access token the server rejected. */
  readonly pending401 = new Map<string, Promise<boolean>>();
  loginFlight: Promise<LoginResult> | undefined;
  /** A stored credential whose server is neither registered by the host nor in config.yaml. */
  orphaned = false;
  /** Transient-failure back-off: no refresh attempt before `until`. */
  backoff = { until: 0, attempts: 0 };

  constructor(
    readonly name: string,
    readonly key: CredentialKey,
    readonly serverUrl: string,
    public config: OAuthConfig,
  ) {}

  /** A change was signalled since the last read: the cached record may be stale. */
  get dirty(): boolean {
    return this.loadedSeq !== this.changeSeq;
  }
}
