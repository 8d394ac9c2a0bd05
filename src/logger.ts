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

const SECRET_KEY = /(token|secret|password|authorization|code_verifier|verifier|assertion|cookie|^code$)/i;
// Bearer values, JWTs, and long opaque strings inside free text.
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const QUERY_SECRET = /([?&](?:code|access_token|refresh_token|client_secret|code_verifier)=)[^&\s"]+/gi;

/** Masks bearer tokens, JWTs and secret query parameters inside free text. */
export function redactText(text: string): string {
  return text
    .replace(BEARER, '$1[redacted]')
    .replace(JWT, '[redacted-jwt]')
    .replace(QUERY_SECRET, '$1[redacted]');
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
