import type { OAuthConfig } from '../config/oauth-config.js';
import type { CredentialRecord } from '../store/credential-record.js';
import type { CredentialState } from './expiry.js';
import { type GrantKind, grantKindOf } from './grant-kind.js';
import { type CredentialCheck, checkCredential } from './usability.js';

/** The name the default account (the unset key) is shown with. */
export const DEFAULT_ACCOUNT_NAME = 'default';

/** One server's credential as `status` shows it: never a token or a secret. */
export interface ServerStatus {
  name: string;
  /** The account of the credential; the default account (the unset key) shows as `default`. */
  account: string;
  url: string;
  state: CredentialState;
  /** ISO 8601, or null when there is no token or its expiry is unknown. */
  expiresAt: string | null;
  /** Seconds from now (0 once expired), or null like `expiresAt`. */
  expiresIn: number | null;
  scopes: string[];
  issuer: string | null;
  clientKind: 'preregistered' | 'cimd' | 'dcr' | null;
  /** Why the credential is not usable (or could not be read), for a person. */
  error: string | null;
  /** The grant the credential is obtained with (see grant-kind.ts). */
  grant: GrantKind;
  /** A stored credential whose server is neither registered by the host nor in config.yaml. */
  orphaned: boolean;
}

/** The state a verdict of `checkCredential` shows as. */
export function stateOfCheck(check: CredentialCheck): CredentialState {
  if (!check.ok) return check.cause === 'none' ? 'logged_out' : 'needs_reauth';
  return check.freshness === 'fresh' ? 'valid' : check.freshness;
}

/** The state of `record` at `now`, for the server it is bound to unless `serverUrl` says otherwise. */
export function stateOf(
  record: CredentialRecord | undefined,
  now: number,
  skewMs: number,
  serverUrl: string = record?.binding.serverUrl ?? '',
): CredentialState {
  return stateOfCheck(checkCredential(record, { serverUrl, now, skewMs }));
}

/** The status row of one server from the record this process holds for it. */
export function serverStatus(input: {
  name: string;
  account: string | undefined;
  orphaned: boolean;
  config: OAuthConfig;
  serverUrl: string;
  record: CredentialRecord | undefined;
  loadError: Error | undefined;
  now: number;
  skewMs: number;
}): ServerStatus {
  const { record, now } = input;
  const check = checkCredential(record, input);
  const expiresAt = record?.tokens?.expiresAt ?? null;
  return {
    name: input.name,
    account: input.account ?? DEFAULT_ACCOUNT_NAME,
    url: input.serverUrl,
    state: stateOfCheck(check),
    expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    expiresIn: expiresAt === null ? null : Math.max(0, Math.round((expiresAt - now) / 1000)),
    scopes: record?.tokens?.scope?.split(/\s+/).filter(Boolean) ?? [],
    issuer: record?.binding.issuer ?? null,
    clientKind: record?.client?.kind ?? null,
    error: errorOf(check, input.loadError, record),
    grant: grantKindOf(input.config),
    orphaned: input.orphaned,
  };
}

function errorOf(
  check: CredentialCheck,
  loadError: Error | undefined,
  record: CredentialRecord | undefined,
): string | null {
  if (loadError && !record) return loadError.message;
  // Expired and not refreshable: only a new login helps; say why.
  if (check.ok && check.freshness === 'expired' && check.refreshBlocker) return check.refreshBlocker;
  if (check.ok || check.cause === 'none') return null;
  // A record marked without a reason says nothing more than its state.
  if (check.cause === 'needs_reauth') return record?.reauthReason ?? null;
  return check.reason;
}
