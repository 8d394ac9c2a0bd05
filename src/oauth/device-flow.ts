import type { FetchLike } from '@modelcontextprotocol/client';
import * as oauth from 'oauth4webapi';
import { LoginError } from '../errors.js';
import { registerSecret } from '../logger.js';
import { isLoopbackHost } from '../loopback.js';
import type { StoredClient, StoredDiscovery, StoredTokens } from '../store/credential-record.js';
import { capturingTokenFetch, tokensFromResponse } from './token-refresh.js';

/** RFC 8628 §3.2/§3.5: the polling interval when the response gives no `interval`. */
export const DEFAULT_POLL_INTERVAL_SECONDS = 5;
/**
 * The shortest polling interval honoured, whatever the server says: an `interval` of 0.001 would
 * otherwise make a thousand token requests a second.
 */
export const MIN_POLL_INTERVAL_SECONDS = 1;
/** RFC 8628 §3.5: `slow_down` adds 5 seconds to this and every later polling interval. */
export const SLOW_DOWN_STEP_MS = 5_000;

/** Waits `ms` between two polls; rejects when `signal` aborts. Injectable so tests need not wait. */
export type PollSleep = (ms: number, signal: AbortSignal) => Promise<void>;

/**
 * The polling interval in ms for the device authorization response's `interval` (seconds):
 * {@link DEFAULT_POLL_INTERVAL_SECONDS} when absent or not a positive number, and never below
 * {@link MIN_POLL_INTERVAL_SECONDS}.
 *
 * @see [RFC 8628 §3.2. Device Authorization Response](https://www.rfc-editor.org/rfc/rfc8628.html#section-3.2)
 */
export function pollIntervalMs(interval: unknown): number {
  const seconds =
    typeof interval === 'number' && Number.isFinite(interval) && interval > 0
      ? interval
      : DEFAULT_POLL_INTERVAL_SECONDS;
  return Math.max(MIN_POLL_INTERVAL_SECONDS, seconds) * 1000;
}

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
 * `expired_token`, ...), the code's expiry or the `signal` ends it with a LoginError. Polls wait
 * the server's `interval`, at least {@link MIN_POLL_INTERVAL_SECONDS}, 5 s when it gives none,
 * and 5 s more after each `slow_down`. Returns the tokens to commit; stores nothing.
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
  /** Told when the flow enters a step, so a timeout can name it. */
  onPhase?: (phase: 'device authorization request' | 'wait for the device approval') => void;
  /** The wait between polls (default: a timer). */
  sleep?: PollSleep;
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

  input.onPhase?.('device authorization request');
  const parameters: Record<string, string> = { resource: input.resource };
  if (input.scope) parameters.scope = input.scope;
  const authorization = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, client, auth, parameters, common),
  );
  registerSecret(authorization.device_code);
  input.show({
    verificationUri: authorization.verification_uri,
    userCode: authorization.user_code,
    ...(authorization.verification_uri_complete
      ? { verificationUriComplete: authorization.verification_uri_complete }
      : {}),
    expiresInSeconds: authorization.expires_in,
  });

  input.onPhase?.('wait for the device approval');
  let intervalMs = pollIntervalMs(authorization.interval);
  const expiresAt = Date.now() + authorization.expires_in * 1000;
  const wait = input.sleep ?? sleep;
  // A 2xx token response that oauth4webapi refuses is judged by tokensFromResponse instead.
  const captured = capturingTokenFetch(input.fetchFn as FetchLike);
  const polling = { ...common, [oauth.customFetch]: captured.fetchFn as typeof fetch };
  for (;;) {
    await wait(intervalMs, input.signal);
    if (Date.now() > expiresAt)
      throw new LoginError(input.server, 'the device code expired before it was approved');
    try {
      const response = await oauth.deviceCodeGrantRequest(as, client, auth, authorization.device_code, {
        ...polling,
        additionalParameters: { resource: input.resource },
      });
      const ok = response.ok;
      try {
        await oauth.processDeviceCodeResponse(as, client, response);
      } catch (error) {
        if (!ok || error instanceof oauth.ResponseBodyError) throw error;
      }
      return tokensFromResponse(captured.successBody(), input.now(), undefined, input.scope);
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
