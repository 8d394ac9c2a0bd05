/**
 * Typed errors. Every error carries a stable `code` (for programs) and a message that says what
 * to do next (for people). Messages never contain tokens or secrets.
 */

/** The stable `code` of every error of this library, for programs to branch on. */
export type McpOAuthErrorCode =
  | 'NEEDS_REAUTH'
  | 'TRANSIENT'
  | 'CONFIG'
  | 'CORRUPT_CREDENTIAL'
  | 'NEWER_SCHEMA'
  | 'INSECURE_HOME'
  | 'STORE'
  | 'LOGIN_FAILED'
  | 'LOCK_TIMEOUT'
  | 'CLOSED'
  | 'CIRCUIT_OPEN'
  | 'INSUFFICIENT_SCOPE';

/** The base of every error of this library: catch it to handle them all. */
export class McpOAuthError extends Error {
  readonly code: McpOAuthErrorCode;
  constructor(code: McpOAuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The server needs a new interactive login; `command` is the exact command to run. */
export class NeedsReauthError extends McpOAuthError {
  readonly server: string;
  readonly command: string;
  readonly reason: string;
  constructor(server: string, command: string, reason: string, options?: { cause?: unknown }) {
    super('NEEDS_REAUTH', `MCP server '${server}' needs a new login (${reason}). Run: ${command}`, options);
    this.server = server;
    this.command = command;
    this.reason = reason;
  }
}

/** A network error, timeout or 5xx: nothing was lost; retry after `retryAfterMs`. */
export class TransientAuthError extends McpOAuthError {
  readonly server: string;
  readonly retryAfterMs: number;
  constructor(server: string, detail: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(
      'TRANSIENT',
      `MCP server '${server}': the authorization server could not be reached (${detail}). The stored credential is kept; retry in ${Math.ceil(retryAfterMs / 1000)} s.`,
      options,
    );
    this.server = server;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Bad configuration or bad arguments: `file`, `server` and `key` say where. */
export class ConfigError extends McpOAuthError {
  readonly file: string | undefined;
  readonly server: string | undefined;
  readonly key: string | undefined;
  constructor(message: string, where: { file?: string; server?: string; key?: string } = {}) {
    super('CONFIG', message);
    this.file = where.file;
    this.server = where.server;
    this.key = where.key;
  }
}

/** A credential record could not be read; it was moved aside to `quarantinedTo`, never deleted. */
export class CorruptCredentialError extends McpOAuthError {
  readonly server: string;
  readonly quarantinedTo: string | undefined;
  constructor(
    server: string,
    detail: string,
    quarantinedTo: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      'CORRUPT_CREDENTIAL',
      `The stored credential for MCP server '${server}' is unreadable (${detail}).${quarantinedTo ? ` It was kept at ${quarantinedTo}.` : ''} Log in again to replace it.`,
      options,
    );
    this.server = server;
    this.quarantinedTo = quarantinedTo;
  }
}

/** The record was written by a newer build; this build never overwrites it. */
export class NewerSchemaError extends McpOAuthError {
  readonly server: string;
  readonly found: number;
  readonly supported: number;
  constructor(server: string, found: number, supported: number) {
    super(
      'NEWER_SCHEMA',
      `The stored credential for MCP server '${server}' has schemaVersion ${found}, newer than this build supports (${supported}). Upgrade mcp-oauth-manager; the record was left untouched.`,
    );
    this.server = server;
    this.found = found;
    this.supported = supported;
  }
}

/** The home folder is writable by group or others, or otherwise unsafe; `fix` says what to do. */
export class InsecureHomeError extends McpOAuthError {
  readonly path: string;
  readonly fix: string;
  constructor(path: string, detail: string, fix = `chmod 700 ${path}`) {
    super('INSECURE_HOME', `Refusing to use ${path}: ${detail}. Fix it with: ${fix}`);
    this.path = path;
    this.fix = fix;
  }
}

/** Storage I/O failed (disk full, permissions, ...). */
export class StoreError extends McpOAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE', message, options);
  }
}

/**
 * A shared store (Redis) cannot be reached now. Nothing was changed by the failed operation; a
 * refresh that meets it fails with TransientAuthError and is retried later.
 */
export class StoreUnavailableError extends StoreError {
  /** The store's URL without its password. */
  readonly url: string;
  constructor(url: string, detail: string, options?: { cause?: unknown }) {
    super(
      `The credential store at ${url} cannot be reached (${detail}). Check that it is running and reachable from this machine, then retry.`,
      options,
    );
    this.url = url;
  }
}

/**
 * A lease lock (Redis store) expired while its holder still worked, for example after a long
 * pause: the holder's write was refused (fencing), so whatever the next holder wrote stands.
 * Nothing was changed by the refused operation; retry.
 */
export class LeaseLostError extends StoreError {
  constructor(what: string) {
    super(
      `The lock on ${what} expired before this process finished (it was paused or cut off from the store); its write was refused so the newer holder's credential stands. Retry.`,
    );
  }
}

/** A cross-process lock could not be taken within its bounded wait. */
export class LockTimeoutError extends McpOAuthError {
  constructor(what: string, waitedMs: number, options?: { cause?: unknown }) {
    super(
      'LOCK_TIMEOUT',
      `Timed out after ${waitedMs} ms waiting for the lock on ${what}; another process holds it. Retry.`,
      options,
    );
  }
}

/** An interactive login did not complete; the previous credential is unchanged. */
export class LoginError extends McpOAuthError {
  readonly server: string;
  constructor(server: string, detail: string, options?: { cause?: unknown }) {
    super(
      'LOGIN_FAILED',
      `Login to MCP server '${server}' failed: ${detail}. The previous credential, if any, is unchanged.`,
      options,
    );
    this.server = server;
  }
}

/** The manager was closed. */
export class ManagerClosedError extends McpOAuthError {
  constructor() {
    super('CLOSED', 'The OAuthManager was closed; create a new one.');
  }
}

/** Calls to a server that kept failing are refused for a while instead of hammering it. */
export class CircuitOpenError extends McpOAuthError {
  readonly server: string;
  readonly retryAfterMs: number;
  constructor(server: string, retryAfterMs: number, lastError: string) {
    super(
      'CIRCUIT_OPEN',
      `MCP server '${server}' failed repeatedly (last: ${lastError}); calls are paused for ${Math.ceil(retryAfterMs / 1000)} s, then one probe is let through. A new login or credential change resumes at once.`,
    );
    this.server = server;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The server demands scopes a new authorization would not add, or step-up hit its limit. */
export class InsufficientScopeError extends McpOAuthError {
  readonly server: string;
  readonly missingScopes: string[];
  constructor(server: string, missingScopes: string[], detail: string) {
    super(
      'INSUFFICIENT_SCOPE',
      missingScopes.length > 0
        ? `MCP server '${server}' requires scopes that were not granted (${missingScopes.join(' ')}): ${detail}.`
        : `MCP server '${server}' refuses the call for insufficient scope: ${detail}.`,
    );
    this.server = server;
    this.missingScopes = missingScopes;
  }
}
