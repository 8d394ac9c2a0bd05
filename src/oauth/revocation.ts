import * as oauth from 'oauth4webapi';
import { registerSecret } from '../logger.js';
import { isLoopbackHost } from '../loopback.js';
import type { StoredClient, StoredDiscovery } from '../store/credential-record.js';

/**
 * What became of a revocation request: `revoked`, or why not, so that a person knows whether the
 * token may still be live at the server:
 * - `no_endpoint`: the authorization server's metadata lists no `revocation_endpoint`;
 * - `unreachable`: no answer (refused connection, DNS, TLS, timeout) or a 5xx: the server is down;
 * - `refused`: the server answered with an error (a 4xx, an OAuth error code).
 */
export type RevocationResult =
  | { revoked: true }
  | { revoked: false; reason: 'no_endpoint' | 'unreachable' | 'refused'; detail: string };

/**
 * Revokes a token at the authorization server, best effort (a logout must succeed locally even
 * when the server is unreachable): never throws; the result says whether and why not. Through
 * oauth4webapi, with `client_secret_post` for a confidential client; plain HTTP only for a
 * loopback endpoint.
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
}): Promise<RevocationResult> {
  registerSecret(input.token);
  const metadata = input.discovery.authorizationServerMetadata;
  const endpoint = metadata?.revocation_endpoint;
  if (typeof endpoint !== 'string' || typeof metadata?.issuer !== 'string')
    return {
      revoked: false,
      reason: 'no_endpoint',
      detail: 'the authorization server offers no revocation endpoint',
    };
  const as = {
    ...metadata,
    issuer: metadata.issuer,
    revocation_endpoint: endpoint,
  } as oauth.AuthorizationServer;
  const info = input.client.information as { client_id: string; client_secret?: string };
  const client: oauth.Client = { client_id: info.client_id };
  const auth = info.client_secret ? oauth.ClientSecretPost(info.client_secret) : oauth.None();
  const where = new URL(endpoint);
  const shown = `${where.origin}${where.pathname}`;
  let response: Response;
  try {
    response = await oauth.revocationRequest(as, client, auth, input.token, {
      additionalParameters: { token_type_hint: input.tokenTypeHint },
      signal: AbortSignal.timeout(input.timeoutMs),
      [oauth.customFetch]: input.fetchFn,
      [oauth.allowInsecureRequests]: isLoopbackHost(where.hostname),
    });
  } catch (error) {
    return { revoked: false, reason: 'unreachable', detail: `${shown} did not answer (${causeOf(error)})` };
  }
  if (response.status >= 500) {
    await response.body?.cancel().catch(() => {});
    return { revoked: false, reason: 'unreachable', detail: `${shown} answered HTTP ${response.status}` };
  }
  try {
    await oauth.processRevocationResponse(response);
    return { revoked: true };
  } catch (error) {
    const code = error instanceof oauth.ResponseBodyError ? ` ${error.error}` : '';
    return {
      revoked: false,
      reason: 'refused',
      detail: `${shown} refused the revocation (HTTP ${response.status}${code})`,
    };
  }
}

/** A short cause of a failed request: the network error code, or a timeout. */
function causeOf(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timed out';
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}
