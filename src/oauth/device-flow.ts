import * as oauth from 'oauth4webapi';
import { LoginError } from '../errors.js';
import { isLoopbackHost } from '../loopback.js';
import type { StoredClient, StoredDiscovery, StoredTokens } from '../store/credential-record.js';
import { tokensFromResponse } from './token-refresh.js';

/** RFC 8628 §3.2: the polling interval when the response gives no `interval`. */
const DEFAULT_POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: `slow_down` adds 5 seconds to this and every later polling interval. */
const SLOW_DOWN_STEP_MS = 5_000;

/**
 * What the person must see to approve a device login: where to go and the code to enter.
 *
 * @see [RFC 8628 §3.3. User Interaction](https://www.rfc-editor.org/rfc/rfc8628.html#section-3.3)
 */
export interface DeviceCodePrompt {
  verificationUri: string;
  userCode: string;
  verificationUriComplete?: string;
  expiresInSeconds: number;
}

/**
 * Runs the device authorization grant through oauth4webapi: the device authorization request,
 * the code shown to the person, then token polling that honours `authorization_pending` and
 * `slow_down`. `resource` goes with both requests. Any other error response (`access_denied`,
 * `expired_token`, ...), the code's expiry or the `signal` ends it with a LoginError. Returns
 * the tokens to commit; stores nothing.
 *
 * @see [RFC 8628 §3.1. Device Authorization Request](https://www.rfc-editor.org/rfc/rfc8628.html#section-3.1)
 * @see [RFC 8628 §3.4. Device Access Token Request](https://www.rfc-editor.org/rfc/rfc8628.html#section-3.4)
 * @see [RFC 8628 §3.5. Device Access Token Response](https://www.rfc-editor.org/rfc/rfc8628.html#section-3.5)
 * @see [RFC 8707 §2. Resource Parameter](https://www.rfc-editor.org/rfc/rfc8707.html#section-2)
 */
export async function runDeviceFlow(input: {
  server: string;
  discovery: StoredDiscovery;
  client: StoredClient;
  scope: string | undefined;
  resource: string;
  fetchFn: typeof fetch;
  signal: AbortSignal;
  now: () => number;
  show: (prompt: DeviceCodePrompt) => void;
}): Promise<StoredTokens> {
  const metadata = input.discovery.authorizationServerMetadata;
  const endpoint = metadata?.device_authorization_endpoint;
  if (typeof endpoint !== 'string' || typeof metadata?.issuer !== 'string') {
    throw new LoginError(
      input.server,
      'the authorization server does not offer the device flow; log in with the browser or --no-browser',
    );
  }
  const as = { ...metadata, issuer: metadata.issuer } as oauth.AuthorizationServer;
  const info = input.client.information as { client_id: string; client_secret?: string };
  const client: oauth.Client = { client_id: info.client_id };
  const auth = info.client_secret ? oauth.ClientSecretPost(info.client_secret) : oauth.None();
  const insecure = isLoopbackHost(new URL(endpoint).hostname);
  const common = {
    [oauth.customFetch]: input.fetchFn,
    [oauth.allowInsecureRequests]: insecure,
    signal: input.signal,
  };

  const parameters: Record<string, string> = { resource: input.resource };
  if (input.scope) parameters.scope = input.scope;
  const authorization = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, client, auth, parameters, common),
  );
  input.show({
    verificationUri: authorization.verification_uri,
    userCode: authorization.user_code,
    ...(authorization.verification_uri_complete
      ? { verificationUriComplete: authorization.verification_uri_complete }
      : {}),
    expiresInSeconds: authorization.expires_in,
  });

  let intervalMs = (authorization.interval ?? DEFAULT_POLL_INTERVAL_SECONDS) * 1000;
  const expiresAt = Date.now() + authorization.expires_in * 1000;
  for (;;) {
    await sleep(intervalMs, input.signal, input.server);
    if (Date.now() > expiresAt)
      throw new LoginError(input.server, 'the device code expired before it was approved');
    try {
      const response = await oauth.deviceCodeGrantRequest(as, client, auth, authorization.device_code, {
        ...common,
        additionalParameters: { resource: input.resource },
      });
      const tokens = await oauth.processDeviceCodeResponse(as, client, response);
      return tokensFromResponse(
        {
          access_token: tokens.access_token,
          token_type: tokens.token_type,
          ...(tokens.expires_in !== undefined ? { expires_in: tokens.expires_in } : {}),
          ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
          ...(tokens.scope ? { scope: tokens.scope } : {}),
        },
        input.now(),
        undefined,
        input.scope,
      );
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError) {
        if (error.error === 'authorization_pending') continue;
        if (error.error === 'slow_down') {
          intervalMs += SLOW_DOWN_STEP_MS;
          continue;
        }
        throw new LoginError(input.server, `the authorization server answered ${error.error}`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

function sleep(ms: number, signal: AbortSignal, server: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new LoginError(server, 'the device code was not approved before the deadline'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
