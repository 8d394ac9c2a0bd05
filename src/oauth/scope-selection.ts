import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/client';
import type { OAuthConfig } from '../config/oauth-config.js';
import type { StoredDiscovery } from '../store/credential-record.js';

/**
 * Chooses the scope of a new authorization: `exact` when given (a step-up's union of the granted
 * and the challenged scopes), else the configured scope, else the challenge's `scope`, else all
 * of the protected-resource metadata's `scopes_supported`, else none; plus `offline_access` when
 * the authorization server lists it in `scopes_supported` (some servers issue a refresh token only
 * when it is asked for), a step-up included: the grant it replaces had asked for it too.
 * Undefined when nothing is chosen.
 *
 * @see [MCP Authorization (2026-07-28): Scope Selection Strategy](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#scope-selection-strategy)
 * @see [MCP Authorization (2026-07-28): Refresh Tokens (SEP-2207)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#refresh-tokens)
 */
export function selectScope(
  config: OAuthConfig,
  discovery: StoredDiscovery,
  challengeScope: string | undefined,
  exact?: string,
): string | undefined {
  const prm = discovery.resourceMetadata as OAuthProtectedResourceMetadata | undefined;
  const base = exact ?? config.scope ?? challengeScope ?? prm?.scopes_supported?.join(' ');
  const asScopes = (discovery.authorizationServerMetadata?.scopes_supported ?? []) as string[];
  const words = new Set((base ?? '').split(/\s+/).filter(Boolean));
  if (asScopes.includes('offline_access')) words.add('offline_access');
  return words.size > 0 ? [...words].join(' ') : undefined;
}
