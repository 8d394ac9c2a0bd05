/** The parts of a 401/403 challenge that shape a login (RFC 6750 §3, RFC 9728 §5.1). */
export interface Challenge {
  scope?: string;
  resourceMetadataUrl?: URL;
}

/**
 * What the SDK seam (`ManagedProvider`) needs from the manager, and nothing more: the token for
 * the next request, the 401 recovery, and the command a person runs to log in again. The
 * provider depends on this interface, not on the manager class, so the layers do not form a
 * circle.
 */
export interface ProviderPort {
  /** The token for the next request of `server` (of `account`), or undefined to send it bare (see OAuthManager). */
  tokenForRequest(server: string, account?: string): Promise<string | undefined>;
  /**
   * Recovery after a 401 that answered `failedAccessToken` (null: none was sent; undefined:
   * unknown): true when a new token is ready, false when a login is needed, or NeedsReauthError /
   * TransientAuthError naming why not.
   */
  handle401(
    server: string,
    failedAccessToken: string | null | undefined,
    challenge?: Challenge,
    account?: string,
  ): Promise<boolean>;
  /** The exact command that logs in to `server` (of `account`) again. */
  reloginCommandFor(server: string, account?: string): string;
  /**
   * A request of `server` sent without any credential got `status`: a 2xx records the `no_auth`
   * observation (the server needs no login), a 401 clears it. Best effort, never throws.
   */
  noteUnauthenticatedAnswer?(server: string, status: number): Promise<void>;
}
