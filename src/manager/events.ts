/** Events a host subscribes to with `manager.on(...)`. */
export interface ManagerEvents {
  /** The stored credential of `server` changed (this process or another: refresh, login, logout). */
  'credentials-changed': [event: { server: string; reason: CredentialsChangeReason }];
  /** Sessions of `server` should reconnect to pick up a new credential. */
  'reconnect-required': [event: { server: string; reason: string }];
  /** `server` needs a new interactive login; `command` is the exact command to show. */
  'needs-reauth': [event: { server: string; command: string; reason: string }];
}

export type CredentialsChangeReason =
  | 'refreshed'
  | 'login'
  | 'logout'
  | 'removed'
  | 'needs_reauth'
  | 'external';
