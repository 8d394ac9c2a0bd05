import type { OAuthConfig } from '../config/oauth-config.js';

/**
 * How a server's tokens are obtained, as `status` shows it:
 * - `authorization_code`: a person logs in; a refresh token renews it;
 * - `client_credentials`: the client itself (a secret or a private key), minted when needed;
 * - `id_jag`: the company's IdP assertion exchanged for an ID-JAG (SEP-990), then a JWT bearer grant;
 * - `jwt_bearer`: a JWT the platform gives the workload, presented as a JWT bearer assertion.
 */
export type GrantKind = 'authorization_code' | 'client_credentials' | 'id_jag' | 'jwt_bearer';

/** The one place that decides the grant kind of a server from its configuration. */
export function grantKindOf(config: OAuthConfig): GrantKind {
  if (config.identityProvider) return 'id_jag';
  if (config.grant === 'client_credentials') return 'client_credentials';
  if (config.grant === 'jwt_bearer') return 'jwt_bearer';
  return 'authorization_code';
}

/** Whether tokens of this kind are minted by the client with no person (no browser, no refresh token needed). */
export function isMinted(kind: GrantKind): boolean {
  return kind !== 'authorization_code';
}
