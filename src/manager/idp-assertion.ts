import type { IdentityProviderConfig } from '../config/oauth-config.js';
import { NeedsReauthError } from '../errors.js';
import type { CredentialRecord } from '../store/credential-record.js';
import type { CredentialKey, CredentialStore } from '../store/credential-store.js';
import type { ManagerSettings } from './settings.js';
import { storedRecord } from './stored-record.js';

/** An identity assertion must stay valid this long after it is read, or it counts as expired. */
export const ASSERTION_MARGIN_MS = 30_000;

/** The store key of an identity provider's assertion: a credential of its own, `idp:<name>`. */
export function idpKey(name: string, account: string | undefined): CredentialKey {
  const server = `idp:${name}`;
  return account === undefined ? { server } : { server, account };
}

/**
 * When a JWT expires (its `exp`), epoch ms; null when it does not say or is not a JWT. Decoded,
 * not verified: the client only schedules with it; the servers that receive it verify it.
 */
export function jwtExpiry(jwt: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * The identity assertion (the ID token of `mcp-oauth login --idp NAME`) that every server trusting
 * that IdP exchanges for its ID-JAG: one login serves them all. Read from the store at each use
 * (another process may have signed in again); a missing, expired or rejected assertion is a
 * NeedsReauthError whose command is `mcp-oauth login --idp NAME`.
 */
export class IdpAssertions {
  constructor(
    private readonly settings: ManagerSettings,
    private readonly store: CredentialStore,
  ) {}

  /** The ID token to exchange for `server`, valid for at least ASSERTION_MARGIN_MS. */
  async idToken(idp: IdentityProviderConfig, server: string): Promise<string> {
    const record = await storedRecord(this.store, idpKey(idp.name, this.settings.account));
    const problem = this.problemOf(record, idp);
    if (problem) throw this.needsLogin(idp, server, problem);
    return record!.tokens!.accessToken;
  }

  /** The error that sends a person to `mcp-oauth login --idp NAME`. */
  needsLogin(idp: IdentityProviderConfig, server: string, reason: string): NeedsReauthError {
    return new NeedsReauthError(server, this.settings.idpLoginCommand(idp.name), reason);
  }

  private problemOf(record: CredentialRecord | undefined, idp: IdentityProviderConfig): string | undefined {
    const who = `the identity provider '${idp.name}'`;
    if (!record?.tokens || record.state === 'needs_reauth')
      return record?.reauthReason ?? `not signed in to ${who}`;
    if (record.binding.issuer !== idp.issuer) return `the sign-in to ${who} was made at another issuer`;
    const expiresAt = record.tokens.expiresAt;
    if (expiresAt !== null && expiresAt - ASSERTION_MARGIN_MS <= this.settings.clock.now())
      return `the sign-in to ${who} expired`;
    return undefined;
  }
}
