import type { FetchLike } from '@modelcontextprotocol/client';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { TokenAcquisition } from '../oauth/token-acquisition.js';
import type { CredentialRecord, RecordVersion } from '../store/credential-record.js';
import type { CredentialKey, CredentialStore } from '../store/credential-store.js';
import type { LockSettings } from './credential-lock.js';

// The shapes the refresh transaction and its mint step share (their own module: no import circle).

/** What the transaction needs to mint instead of refreshing (servers without a person). */
export interface MintPlan {
  acquisition: TokenAcquisition;
  scope: string | undefined;
  /** `oauth.issuer`: the authorization server the client belongs to, when configured. */
  issuer: string | undefined;
  /** Names the client's credentials in a ConfigError: the key file, the workload token, the client id. */
  clientDescription: string;
}

/** Why a refresh was asked for; decides when a record another process wrote can be adopted instead. */
export type RefreshReason =
  /** The token is expired or inside the skew window. */
  | { kind: 'expiry' }
  /** The server rejected this exact access token (a 401). */
  | { kind: 'rejected'; token: string }
  /** Refresh now, even if valid (`mcp-oauth refresh`), unless the record changed since `basedOn`. */
  | { kind: 'forced'; basedOn: RecordVersion | undefined };

/** How a transaction ended: a new token, another process's token adopted, or a login needed. */
export type TransactionOutcome =
  | { kind: 'refreshed'; record: CredentialRecord }
  | { kind: 'adopted'; record: CredentialRecord }
  | { kind: 'needs_reauth'; record: CredentialRecord | undefined; reason: string };

/** What one transaction works with: the credential's key and server, and the manager's settings. */
export interface TransactionContext {
  store: CredentialStore;
  key: CredentialKey;
  serverUrl: string;
  fetchFn: FetchLike;
  clock: Clock;
  logger: Logger;
  skewMs: number;
  requestTimeoutMs: number;
  lock: LockSettings;
  hooks: TransactionHooks | undefined;
  /** Set for a server whose tokens are minted (client credentials, JWT bearer, ID-JAG): mint instead of refreshing. */
  mint?: MintPlan | undefined;
}

/** Test-only seams (crash injection in the cross-process suites). */
export interface TransactionHooks {
  afterLock?(): void | Promise<void>;
  /** After the record was read and judged, just before the lease check and the refresh request. */
  beforeRefreshRequest?(): void | Promise<void>;
  afterRefreshResponse?(): void | Promise<void>;
}
