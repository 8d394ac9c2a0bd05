// Its own module, free of the MCP SDK: the manager checks for it on every refresh error, and
// loading it must not load the protocol code (the CLI's status and token never need that).

/** How a failed refresh must be treated. */
export type RefreshFailureKind =
  /** The grant is dead (invalid_grant, or the client was rejected): only a new login helps. */
  | 'terminal'
  /** Network error, timeout, 5xx, temporarily_unavailable: keep everything, back off, retry later. */
  | 'transient';

/** A failed token request, classified so the caller knows whether to keep or drop the credential. */
export class RefreshFailure extends Error {
  readonly kind: RefreshFailureKind;
  /** The OAuth error code when the server sent one (never a token). */
  readonly oauthCode: string | undefined;
  /**
   * The refresh token of a 200 response that was refused for another reason: the server already
   * rotated the grant, so the caller persists it before anything else. Not enumerable, so it never
   * reaches a log line, `JSON.stringify` or `util.inspect` of the error.
   */
  declare readonly rotatedRefreshToken: string | undefined;
  constructor(
    kind: RefreshFailureKind,
    oauthCode: string | undefined,
    detail: string,
    options?: { cause?: unknown; rotatedRefreshToken?: string | undefined },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RefreshFailure';
    this.kind = kind;
    this.oauthCode = oauthCode;
    Object.defineProperty(this, 'rotatedRefreshToken', {
      value: options?.rotatedRefreshToken,
      enumerable: false,
    });
  }
}
