import * as oauth from 'oauth4webapi';
import { registerSecret } from '../logger.js';
import { isLoopbackHost } from '../loopback.js';
import type { StoredClient, StoredDiscovery } from '../store/credential-record.js';

/**
 * Revokes a token at the authorization server, best effort (a logout must succeed locally even
 * when the server is unreachable): returns false when the metadata lists no
 * `revocation_endpoint` or the request fails. Through oauth4webapi, with `client_secret_post`
 * for a confidential client; plain HTTP only for a loopback endpoint.
 *
 * @see [RFC 7009 §2.1. Revocation Request](https://www.rfc-editor.org/rfc/rfc7009.html#section-2.1)
 */
export async function revokeToken(input: {
  discovery: StoredDiscovery;
  client: StoredClient;
  token: string;
  tokenTypeHint: 'refresh_token' | 'access_token';
  fetchFn: typeof fetch;
  timeoutMs: number;
}): Promise<boolean> {
  registerSecret(input.token);
  const metadata = input.discovery.authorizationServerMetadata;
  const endpoint = metadata?.revocation_endpoint;
  if (typeof endpoint !== 'string' || typeof metadata?.issuer !== 'string') return false;
  const as = {
    ...metadata,
    issuer: metadata.issuer,
    revocation_endpoint: endpoint,
  } as oauth.AuthorizationServer;
  const info = input.client.information as { client_id: string; client_secret?: string };
  const client: oauth.Client = { client_id: info.client_id };
  const auth = info.client_secret ? oauth.ClientSecretPost(info.client_secret) : oauth.None();
  try {
    const response = await oauth.revocationRequest(as, client, auth, input.token, {
      additionalParameters: { token_type_hint: input.tokenTypeHint },
      signal: AbortSignal.timeout(input.timeoutMs),
      [oauth.customFetch]: input.fetchFn,
      [oauth.allowInsecureRequests]: isLoopbackHost(new URL(endpoint).hostname),
    });
    await oauth.processRevocationResponse(response);
    return true;
  } catch {
    return false;
  }
}
