import type { CredentialRecord } from '../store/credential-record.js';
import type { CredentialState } from './expiry.js';
import type { GrantKind } from './grant-kind.js';
import { type CredentialCheck, checkCredential } from './usability.js';

/** One server's credential as `status` shows it: never a token or a secret. */
export interface ServerStatus {
  name: string;
  url: string;
  state: CredentialState;
  /** ISO 8601, or null when there is no token or its expiry is unknown. */
  expiresAt: string | null;
  /** Seconds from now (0 once expired), or null like `expiresAt`. */
  expiresIn: number | null;
  scopes: string[];
  issuer: string | null;
  clientKind: 'preregistered' | 'cimd' | 'dcr' | null;
  /** How tokens are obtained (see grant-kind.ts). */
  grant: GrantKind;
  /** Why the credential is not usable (or could not be read), for a person. */
  error: string | null;
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
  /** Default `authorization_code`. */
  grant?: GrantKind;
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
    url: input.serverUrl,
    state: stateOfCheck(check),
    expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    expiresIn: expiresAt === null ? null : Math.max(0, Math.round((expiresAt - now) / 1000)),
    scopes: record?.tokens?.scope?.split(/\s+/).filter(Boolean) ?? [],
    issuer: record?.binding.issuer ?? null,
    clientKind: record?.client?.kind ?? null,
    grant: input.grant ?? 'authorization_code',
    error: errorOf(check, input.loadError, record),
  };
}

function errorOf(
  check: CredentialCheck,
  loadError: Error | undefined,
  record: CredentialRecord | undefined,
): string | null {
  if (loadError && !record) return loadError.message;
  if (check.ok || check.cause === 'none') return null;
  // A record marked without a reason says nothing more than its state.
  if (check.cause === 'needs_reauth') return record?.reauthReason ?? null;
  return check.reason;
}
