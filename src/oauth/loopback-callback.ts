import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IssuerMismatchError, validateAuthorizationResponseIssuer } from '@modelcontextprotocol/client';
import { ConfigError, LoginError } from '../errors.js';
import { registerSecret } from '../logger.js';
import { displayText, sendLoginPage } from './login-pages.js';

/** The port number that asks the OS for any free port. */
export const ANY_FREE_PORT = 0;

/** The configuration key named when a fixed callback port is taken, unless the caller names another. */
const DEFAULT_PORT_KEY = 'oauth.redirect_port';

/**
 * The parts of a successful authorization response a login needs.
 *
 * @see [RFC 6749 §4.1.2. Authorization Response](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.2)
 */
export interface AuthorizationResponse {
  code: string;
  /** RFC 9207 `iss`, when the authorization server sent it. */
  iss: string | undefined;
}

/**
 * The authorization server a login started at, from its validated metadata: the `iss` an
 * authorization response must carry (RFC 9207).
 */
export interface ExpectedIssuer {
  issuer: string;
  /** The metadata's `authorization_response_iss_parameter_supported` is `true`. */
  issParameterSupported: boolean;
}

/**
 * Applies the RFC 9207 §2.4 rules to the `iss` of an authorization response, success or error,
 * with plain string comparison: a LoginError when the response did not come from the expected
 * authorization server (a wrong `iss`, or none where the server advertises the parameter), else
 * undefined. Without an expected issuer (no metadata) every response passes. The error names the
 * expected issuer and the received `iss` (cleaned), never the response's `error` fields: they
 * come from whoever forged it.
 *
 * @see [RFC 9207 §2.4. Validating the Issuer Identifier](https://www.rfc-editor.org/rfc/rfc9207.html#section-2.4)
 */
export function issuerMismatch(
  server: string,
  iss: string | undefined,
  expected: ExpectedIssuer | undefined,
): LoginError | undefined {
  if (!expected) return undefined;
  try {
    validateAuthorizationResponseIssuer({
      iss,
      expectedIssuer: expected.issuer,
      issParameterSupported: expected.issParameterSupported,
    });
    return undefined;
  } catch (error) {
    if (!IssuerMismatchError.isInstance(error)) throw error;
    const received = iss === undefined ? 'missing' : JSON.stringify(displayText(iss).slice(0, 200));
    return new LoginError(
      server,
      `the authorization response did not come from ${expected.issuer} (iss ${received}); it was ignored. Log in again; if this repeats, something other than the authorization server is answering the login`,
    );
  }
}

/** A listening loopback redirect endpoint; `close` it when the login ends. */
export interface LoopbackCallback {
  /** `http://127.0.0.1:<port><path>`, the redirect URI to register and send. */
  readonly redirectUri: string;
  readonly port: number;
  /**
   * Resolves with the first request on the callback path whose `state` matches exactly.
   * Stray requests (favicon, prefetch, other paths, wrong state) are answered 404/400 and ignored.
   * A response (success or error) whose `iss` fails `issuer` ends the wait with the issuer
   * error, and its `error` fields are shown nowhere (see {@link issuerMismatch}).
   */
  waitForResponse(
    state: string,
    signal: AbortSignal,
    issuer?: ExpectedIssuer,
  ): Promise<AuthorizationResponse>;
  close(): Promise<void>;
}

/**
 * Starts the loopback redirect listener of a native app: binds 127.0.0.1 only (not `localhost`,
 * which may resolve elsewhere), on a per-server `path`, and serves until the matching `state`
 * arrives or the caller's deadline passes. An error response ends the wait with a LoginError.
 * `port` {@link ANY_FREE_PORT} picks a free port; a fixed port that is taken is a ConfigError
 * naming `portKey` (default `oauth.redirect_port`).
 *
 * @see [RFC 8252 §7.3. Loopback Interface Redirection](https://www.rfc-editor.org/rfc/rfc8252.html#section-7.3)
 * @see [RFC 8252 §8.3. Loopback Redirect Considerations](https://www.rfc-editor.org/rfc/rfc8252.html#section-8.3)
 */
export async function startLoopbackCallback(options: {
  server: string;
  port: number;
  path: string;
  portKey?: string;
}): Promise<LoopbackCallback> {
  let expectedState: string | undefined;
  let expectedIssuer: ExpectedIssuer | undefined;
  let settle:
    | ((r: { ok: true; value: AuthorizationResponse } | { ok: false; error: Error }) => void)
    | undefined;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== options.path) {
      sendLoginPage(res, 404, 'Not found', ['This address only receives the authorization response.']);
      return;
    }
    const state = url.searchParams.get('state');
    if (expectedState === undefined || state !== expectedState) {
      sendLoginPage(res, 400, 'Unexpected request', [
        'The state parameter does not match the login in progress.',
      ]);
      return;
    }
    // RFC 9207 before anything else in the response is acted on or shown (SEP-2468).
    registerSecret(url.searchParams.get('code'));
    const mismatch = issuerMismatch(options.server, url.searchParams.get('iss') ?? undefined, expectedIssuer);
    if (mismatch) {
      sendLoginPage(res, 400, 'Login failed', [
        'This response did not come from the authorization server the login started at, so it was ignored.',
        `You are not logged in to ${options.server}. You can close this tab.`,
      ]);
      settle?.({ ok: false, error: mismatch });
      return;
    }
    const rawError = url.searchParams.get('error');
    if (rawError) {
      // Both come from the authorization server: shown as text only, without control characters.
      const error = displayText(rawError);
      const description = displayText(url.searchParams.get('error_description') ?? '');
      sendLoginPage(res, 400, 'Login failed', [
        `The authorization server answered ${error}${description ? `: ${description}` : ''}.`,
        `You are not logged in to ${options.server}. You can close this tab.`,
      ]);
      settle?.({
        ok: false,
        error: new LoginError(options.server, `the authorization server answered ${error}`),
      });
      return;
    }
    const code = url.searchParams.get('code');
    if (!code) {
      sendLoginPage(res, 400, 'Unexpected request', ['The response carries no authorization code.']);
      return;
    }
    sendLoginPage(res, 200, 'Login complete', [
      `You are logged in to ${options.server}. You can close this tab.`,
    ]);
    settle?.({ ok: true, value: { code, iss: url.searchParams.get('iss') ?? undefined } });
  };

  const server: Server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        const key = options.portKey ?? DEFAULT_PORT_KEY;
        reject(
          new ConfigError(
            `Port ${options.port} on 127.0.0.1 is in use, so the login callback cannot listen there. Free the port or change ${key} (${ANY_FREE_PORT} picks a free port).`,
            { server: options.server, key },
          ),
        );
      } else reject(err);
    });
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    redirectUri: `http://127.0.0.1:${port}${options.path}`,
    port,
    waitForResponse(state, signal, issuer) {
      expectedState = state;
      expectedIssuer = issuer;
      return new Promise<AuthorizationResponse>((resolve, reject) => {
        const onAbort = () =>
          reject(new LoginError(options.server, 'no authorization response arrived before the deadline'));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        settle = (r) => {
          signal.removeEventListener('abort', onAbort);
          settle = undefined;
          if (r.ok) resolve(r.value);
          else reject(r.error);
        };
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
