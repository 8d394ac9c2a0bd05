/**
 * Which credential an event is about: the server name, and the account when it is not the
 * default one (a gateway's manager serves many accounts).
 */
export interface EventSubject {
  server: string;
  account?: string;
}

/** The subject of an event about `entry`'s credential. */
export function subjectOf(entry: { name: string; key: { account?: string } }): EventSubject {
  return entry.key.account === undefined
    ? { server: entry.name }
    : { server: entry.name, account: entry.key.account };
}

/** Events a host subscribes to with `manager.on(...)`; each names its server (and account, when not the default). */
export interface ManagerEvents {
  /** The stored credential of `server` changed (this process or another: refresh, login, logout). */
  'credentials-changed': [event: EventSubject & { reason: CredentialsChangeReason }];
  /**
   * Sessions of `server` may need to reconnect: `cause` says why. After `refresh-after-401` the
   * transport already retried with the new token; long-lived streams (SSE) still reconnect.
   */
  'reconnect-required': [event: EventSubject & { reason: string; cause: ReconnectCause }];
  /** `server` needs a new interactive login; `command` is the exact command to show. */
  'needs-reauth': [event: EventSubject & { command: string; reason: string }];
}

/**
 * What changed a credential: this process (refresh, login, logout, removal, a rejected grant, a
 * note of scopes the authorization server refused at a step-up) or another one (`external`).
 */
export type CredentialsChangeReason =
  | 'refreshed'
  | 'login'
  | 'logout'
  | 'removed'
  | 'needs_reauth'
  | 'scope-refused'
  | 'external';

/** Why sessions should reconnect: a refresh after a 401, a new login, or a usable credential reappearing. */
export type ReconnectCause = 'refresh-after-401' | 'login' | 'credential-restored';

/** How the manager's parts announce events (the front's `emit`, bound). */
export type EmitEvent = <K extends keyof ManagerEvents>(event: K, ...args: ManagerEvents[K]) => void;
