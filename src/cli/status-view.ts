import type { ServerStatus } from '../index.js';
import { displayText } from '../terminal-text.js';
import { humanDuration } from './duration.js';

/**
 * The `status --json` object of one server, in a fixed key order that scripts may rely on, built
 * field by field so that nothing the library may add later (and nothing secret) leaks into it.
 */
export function statusJson(status: ServerStatus): ServerStatus {
  return {
    name: status.name,
    url: status.url,
    state: status.state,
    expiresAt: status.expiresAt,
    expiresIn: status.expiresIn,
    scopes: status.scopes,
    issuer: status.issuer,
    clientKind: status.clientKind,
    error: status.error,
    account: status.account,
    grant: status.grant,
    orphaned: status.orphaned,
  };
}

/** `expires in 59 min, scopes: read write`: the parenthesis after login and refresh. */
export function expirySummary(status: ServerStatus, withScopes: boolean): string {
  const parts = [
    status.expiresIn === null
      ? 'lifetime unknown: used until the server rejects it'
      : `expires in ${humanDuration(status.expiresIn, 'long')}`,
  ];
  // The scopes are the server's words: one line, no control characters.
  if (withScopes)
    parts.push(status.scopes.length > 0 ? `scopes: ${displayText(status.scopes.join(' '))}` : 'no scopes');
  return parts.join(', ');
}
