import { createInterface } from 'node:readline';
import { LoginError } from '../errors.js';
import { registerSecret } from '../logger.js';
import { displayText } from './login-pages.js';
import { type AuthorizationResponse, type ExpectedIssuer, issuerMismatch } from './loopback-callback.js';

/** The authorization response parameters found in a pasted line (any may be missing). */
export interface PastedResponse {
  code?: string;
  state?: string;
  iss?: string;
  error?: string;
  errorDescription?: string;
}

/**
 * Parses what a person pastes after the browser was redirected: the whole address, or only its
 * query (`?code=…&state=…` or `code=…&state=…`). Undefined when the text carries none of these.
 */
export function parsePastedResponse(text: string): PastedResponse | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  let query: string;
  try {
    query = new URL(trimmed).search;
  } catch {
    query = trimmed.startsWith('?') ? trimmed : `?${trimmed}`;
  }
  const params = new URLSearchParams(query);
  const get = (name: string) => params.get(name) ?? undefined;
  const parsed: PastedResponse = {
    code: get('code'),
    state: get('state'),
    iss: get('iss'),
    error: get('error'),
    errorDescription: get('error_description'),
  };
  return parsed.code || parsed.error ? parsed : undefined;
}

/**
 * Reads lines from `stream` (a TTY or a pipe) until one is the authorization response for
 * `state`: for a login whose browser cannot reach the loopback listener (another machine). A
 * line with another state or no code is reported through `onIgnored` and skipped; an error
 * response, the deadline or the end of the input ends it with a LoginError. A response whose
 * `iss` fails `issuer` (RFC 9207) ends it with the issuer error, its `error` fields unshown.
 *
 * @see [RFC 6749 §4.1.2. Authorization Response](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.1.2)
 */
export function readPastedResponse(input: {
  server: string;
  stream: NodeJS.ReadableStream;
  state: string;
  signal: AbortSignal;
  issuer?: ExpectedIssuer;
  onIgnored?: (reason: string) => void;
}): Promise<AuthorizationResponse> {
  return new Promise<AuthorizationResponse>((resolve, reject) => {
    const lines = createInterface({ input: input.stream, terminal: false });
    let done = false;
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      input.signal.removeEventListener('abort', onAbort);
      lines.close();
      outcome();
    };
    const onAbort = () =>
      finish(() =>
        reject(new LoginError(input.server, 'no authorization response arrived before the deadline')),
      );
    if (input.signal.aborted) return onAbort();
    input.signal.addEventListener('abort', onAbort, { once: true });
    lines.on('line', (line) => {
      const pasted = parsePastedResponse(line);
      // Whatever line carries a code (another attempt's included) holds a secret from now on.
      registerSecret(pasted?.code);
      if (!pasted) {
        if (line.trim())
          input.onIgnored?.('that is not the address the browser was sent to (it has no code)');
        return;
      }
      if (pasted.state !== input.state) {
        input.onIgnored?.('that address belongs to another login attempt (its state does not match)');
        return;
      }
      // RFC 9207 before the response's error is acted on or shown (SEP-2468).
      const mismatch = issuerMismatch(input.server, pasted.iss, input.issuer);
      if (mismatch) {
        finish(() => reject(mismatch));
        return;
      }
      if (pasted.error) {
        // Server-supplied text bound for the terminal: no escape sequences, no line breaks.
        const description = displayText(pasted.errorDescription ?? '');
        const detail = `the authorization server answered ${displayText(pasted.error)}${description ? ` (${description})` : ''}`;
        finish(() => reject(new LoginError(input.server, detail)));
        return;
      }
      finish(() => resolve({ code: pasted.code!, iss: pasted.iss }));
    });
    lines.on('close', () =>
      finish(() =>
        reject(new LoginError(input.server, 'the input ended before the redirected address was pasted')),
      ),
    );
  });
}
