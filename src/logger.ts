/**
 * Logging with redaction at every level: anything that looks like a token or a secret is masked
 * before it reaches the sink, whatever the caller passed.
 */

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where this library logs: any object with these four methods (a console, pino, winston, ...). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const SECRET_KEY =
  /(token|secret|password|authorization|code_verifier|verifier|assertion|cookie|^code$|device_code)/i;

// The names of the parameters and JSON fields that carry a secret in OAuth requests and responses
// (RFC 6749, 7636, 8628, 7009, 7523): the pattern net for values that were never registered.
const SECRET_NAMES =
  'access_token|refresh_token|id_token|client_secret|code_verifier|device_code|code|token|password|assertion|client_assertion|subject_token|actor_token';
// `name=value` in a query or a form body: at the start of the text or after a separator, so that
// a secret that is the first parameter of a body is caught too (not `error_code=`, `x-code=`).
const FORM_SECRET = new RegExp(`((?:^|[?&\\s"'(,;:=])(?:${SECRET_NAMES})=)[^&\\s"'<>]+`, 'gi');
// `"name": "value"` in JSON, also when that JSON sits inside a JSON string (escaped quotes).
const JSON_SECRET = new RegExp(
  `(\\\\*"(?:${SECRET_NAMES}|authorization|cookie|set-cookie|client_secret_basic)\\\\*"\\s*:\\s*\\\\*")(?:[^"\\\\]|\\\\u[0-9a-fA-F]{4})+`,
  'gi',
);
// HTTP authorization values (Bearer, Basic, DPoP) in free text. The value must look like a
// credential (a digit or one of + / = _ - . in it, or 16 characters and more), so that English
// such as "basic authentication" stays readable.
const AUTH_VALUE = /\b(bearer|basic|dpop)(\s+)([A-Za-z0-9._~+/=-]+)/gi;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

function looksLikeCredential(value: string): boolean {
  return value.length >= 16 || /[0-9+/=_.~-]/.test(value);
}

/** Registered values shorter than this are ignored: they would mask ordinary words. */
const MIN_SECRET_LENGTH = 8;
/** The registry keeps the newest values; a long-running host refreshes forever. */
const MAX_REGISTERED_SECRETS = 2000;
// Insertion order is age: the oldest values go first when the registry is full.
const registeredSecrets = new Set<string>();

/**
 * Registers a secret this process holds (a token, a client secret, an authorization code, a
 * PKCE verifier, a device code) with the redactor: from now on `redactText`, `redact` and every
 * redacting logger mask it wherever it appears, whatever text surrounds it, also URL-encoded.
 * The patterns of `redactText` are only a second net for values never registered. Values shorter
 * than 8 characters are ignored; the newest 2000 values are kept.
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  // Tokens are mostly unreserved characters, whose encoded forms are the value itself.
  const forms = /^[\w.-]+$/.test(value)
    ? [value]
    : new Set([value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)]);
  for (const form of forms) {
    if (form.length < MIN_SECRET_LENGTH) continue;
    registeredSecrets.delete(form);
    registeredSecrets.add(form);
  }
  while (registeredSecrets.size > MAX_REGISTERED_SECRETS) {
    const oldest = registeredSecrets.values().next().value;
    if (oldest === undefined) break;
    registeredSecrets.delete(oldest);
  }
}

/** How many values (and encoded forms) the redactor currently masks by value (for tests). */
export function registeredSecretCount(): number {
  return registeredSecrets.size;
}

/**
 * Masks secrets inside free text: every value registered with `registerSecret`, then by pattern
 * the authorization values (Bearer, Basic, DPoP), JWTs, secret parameters of a query or a form
 * body (also the first one), and secret fields of JSON (`"refresh_token":"..."`), also escaped
 * inside a JSON string.
 */
export function redactText(text: string): string {
  let out = text;
  for (const secret of registeredSecrets) {
    if (out.includes(secret)) out = out.replaceAll(secret, '[redacted]');
  }
  return out
    .replace(AUTH_VALUE, (match, scheme: string, space: string, value: string) =>
      looksLikeCredential(value) ? `${scheme}${space}[redacted]` : match,
    )
    .replace(JWT, '[redacted-jwt]')
    .replace(JSON_SECRET, '$1[redacted]')
    .replace(FORM_SECRET, '$1[redacted]');
}

/** How deep `redact` walks nested fields; deeper values are replaced, not logged. */
const MAX_REDACT_DEPTH = 6;

/**
 * A copy of `value` safe to log: strings go through `redactText`, fields whose names suggest a
 * secret are masked, errors become `name: message`; nesting deeper than a few levels is cut.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > MAX_REDACT_DEPTH) return '[…]';
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return redactText(`${value.name}: ${value.message}`);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        SECRET_KEY.test(k) && v !== undefined && v !== null && typeof v !== 'boolean'
          ? '[redacted]'
          : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Wraps any sink so that messages and fields are redacted before they are written. */
export function redactingLogger(sink: Logger): Logger {
  const wrap =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      sink[level](redactText(message), fields ? (redact(fields) as Record<string, unknown>) : undefined);
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

/** A logger that drops everything (the default). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A logger writing one line per event to stderr, at `level` and above. */
export function consoleLogger(level: LogLevel = 'info'): Logger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const min = order.indexOf(level);
  const write =
    (l: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (order.indexOf(l) < min) return;
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      process.stderr.write(`[mcp-oauth] ${l} ${message}${extra}\n`);
    };
  return redactingLogger({
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  });
}
