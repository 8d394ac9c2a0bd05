import type { OAuthConfig } from '../config/oauth-config.js';
import { ConfigError } from '../errors.js';
import type { ClientAuthentication, TokenAcquisition } from '../oauth/token-acquisition.js';
import { grantKindOf } from './grant-kind.js';
import type { IdpAssertions } from './idp-assertion.js';
import type { ServerEntry } from './server-entry.js';
import type { ManagerSettings } from './settings.js';

/** How the configured client authenticates at the MCP authorization server's token endpoint. */
function clientAuthentication(config: OAuthConfig): ClientAuthentication {
  return {
    clientId: config.clientId,
    method: config.tokenEndpointAuthMethod,
    clientSecret: config.clientSecret,
    privateKeyFile: config.privateKeyFile,
    keyId: config.keyId,
  };
}

/**
 * The TokenAcquisition of a server whose tokens are minted (see grant-kind.ts), or undefined for
 * an authorization-code server (it refreshes). Built per transaction from the entry's current
 * configuration; the protocol code loads only when a mint really runs.
 */
export async function acquisitionFor(
  entry: ServerEntry,
  settings: ManagerSettings,
  idps: IdpAssertions,
): Promise<TokenAcquisition | undefined> {
  const kind = grantKindOf(entry.config);
  if (kind === 'authorization_code') return undefined;
  const client = clientAuthentication(entry.config);
  if (kind === 'client_credentials') {
    if (!client.clientId)
      throw new ConfigError(
        `MCP server '${entry.name}' uses the client_credentials grant but has no oauth.client_id; add the client id registered at its authorization server.`,
        { server: entry.name, key: 'oauth.client_id' },
      );
    const { ClientCredentialsGrant } = await import('../oauth/client-credentials-grant.js');
    return new ClientCredentialsGrant(client);
  }
  const { JwtBearerGrant } = await import('../oauth/jwt-bearer-grant.js');
  if (kind === 'jwt_bearer') {
    const { readWorkloadToken } = await import('../oauth/workload-token.js');
    const { workloadTokenFile, workloadTokenEnv } = entry.config;
    const source = workloadTokenFile ? { file: workloadTokenFile } : { env: workloadTokenEnv ?? '' };
    // Read again at every mint: the platform rotates the file in place.
    return new JwtBearerGrant(client, () => readWorkloadToken(source));
  }
  const idp = entry.config.identityProvider!;
  const [{ AssertionRejectedError, discoverIdentityProvider, exchangeForIdJag }, { issuerOf }] =
    await Promise.all([import('../oauth/id-jag-exchange.js'), import('../oauth/discovery.js')]);
  return new JwtBearerGrant(client, async (input) => {
    const idToken = await idps.idToken(idp, entry.name);
    const metadata = await discoverIdentityProvider(idp, settings.fetchFn, settings.requestTimeoutMs);
    try {
      return await exchangeForIdJag({
        idp,
        metadata,
        idToken,
        audience: issuerOf(input.discovery),
        resource: input.resource ?? entry.serverUrl,
        scope: input.scope,
        fetchFn: settings.fetchFn,
        timeoutMs: settings.requestTimeoutMs,
      });
    } catch (error) {
      if (error instanceof AssertionRejectedError)
        throw idps.needsLogin(
          idp,
          entry.name,
          `the identity provider '${idp.name}' refused the sign-in (${error.oauthCode})`,
        );
      throw error;
    }
  });
}

/** What names the client in an error: the key file, the workload token, or the client id. */
export function clientDescription(config: OAuthConfig): string {
  if (config.privateKeyFile)
    return `the private key file ${config.privateKeyFile} (client id ${config.clientId ?? 'unset'})`;
  if (config.workloadTokenFile) return `the workload token file ${config.workloadTokenFile}`;
  if (config.workloadTokenEnv) return `the workload token variable ${config.workloadTokenEnv}`;
  return `the client id ${config.clientId ?? 'unset'}`;
}
