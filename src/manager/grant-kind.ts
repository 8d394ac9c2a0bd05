import type { OAuthConfig } from '../config/oauth-config.js';
import type { CredentialRecord } from '../store/credential-record.js';

/**
 * The OAuth grant a credential is obtained with, as `status --json` shows it (`grant`):
 * `authorization_code` (a person logs in), or a machine or enterprise identity:
 * `client_credentials`, `id_jag` (an identity assertion authorization grant), `jwt_bearer`.
 */
export type GrantKind = 'authorization_code' | 'client_credentials' | 'id_jag' | 'jwt_bearer';

/**
 * The grant of `record` for a server configured with `config`. Every credential this build can
 * hold comes from an interactive login, so the answer is `authorization_code` for now: the branch
 * that brings the machine and enterprise grants (`oauth.grant` in config.yaml) decides here, from
 * the configuration and the stored record, and nowhere else.
 */
export function grantKindOf(_record: CredentialRecord | undefined, _config: OAuthConfig): GrantKind {
  return 'authorization_code';
}
