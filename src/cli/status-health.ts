import type { ServerStatus } from '../index.js';
import { ExitCode } from './exit-codes.js';

/** The states a server can be used in as it is. */
const USABLE = new Set(['valid', 'expiring', 'no_auth']);
/** The states only a new login fixes. */
const NEEDS_LOGIN = new Set(['needs_reauth', 'logged_out']);

/**
 * How one row counts for `status` as a health check. `expired` with no error is refreshable: the
 * next use refreshes it with no person involved, so it counts as usable (an idle credential is
 * expired most of the time); `expired` with an error (no refresh token, no client) needs a login.
 */
export function healthOf(status: Pick<ServerStatus, 'state' | 'error'>): 'usable' | 'login' | 'failure' {
  if (USABLE.has(status.state)) return 'usable';
  if (status.state === 'expired') return status.error === null ? 'usable' : 'login';
  return NEEDS_LOGIN.has(status.state) ? 'login' : 'failure';
}

/**
 * The exit code of `status`: 0 when every row shown is usable (none shown counts), 3 when every
 * unusable one only needs a login, 1 otherwise (an `error` row: unreadable, a store failure).
 */
export function statusExitCode(statuses: ReadonlyArray<Pick<ServerStatus, 'state' | 'error'>>) {
  let worst: 'usable' | 'login' | 'failure' = 'usable';
  for (const status of statuses) {
    const health = healthOf(status);
    if (health === 'failure') return ExitCode.failure;
    if (health === 'login') worst = 'login';
  }
  return worst === 'login' ? ExitCode.needsReauth : ExitCode.ok;
}
