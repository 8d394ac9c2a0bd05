import type { FetchLike } from '@modelcontextprotocol/client';
import { LoginError } from '../errors.js';
import { displayText } from '../terminal-text.js';
import { safeUrl } from './network-error.js';

/** How an URL answered an MCP request sent without any credential. */
export type ProbeAnswer =
  /** It asks for authentication (401, or 403 with a Bearer challenge): an MCP server behind OAuth. */
  (
    | { kind: 'challenge'; status: number }
    /** It answered like an MCP server (JSON-RPC, or an SSE stream) without asking for anything. */
    | { kind: 'open'; status: number }
    /** Anything else: not an MCP endpoint. `said` is a short, cleaned excerpt of the body. */
    | { kind: 'other'; status: number; said: string }
  ) & {
    /** The response's `Date` header (for a clock-skew check), when it sent one. */
    date?: string;
  };

/** Bytes of a body looked at: enough for a JSON-RPC answer's start. */
const PEEK_BYTES = 4096;
/** Characters of a body quoted in an error. */
const QUOTED = 80;

/** The paths MCP servers are usually served at, tried when the configured URL is not one. */
export const USUAL_MCP_PATHS = ['/mcp', '/sse'] as const;

/**
 * Sends one unauthenticated MCP request to `url` and says how it answered: a POST `initialize`
 * (Streamable HTTP), or for a URL ending in `/sse` a GET for the event stream (HTTP+SSE). Nothing
 * secret is sent. The body is read only up to a few KiB.
 *
 * @see [MCP Transports (2025-11-25)](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports)
 */
export async function probeMcpEndpoint(url: string, fetchFn: FetchLike): Promise<ProbeAnswer> {
  const sse = new URL(url).pathname.endsWith('/sse');
  const response = sse
    ? await fetchFn(url, { method: 'GET', headers: { accept: 'text/event-stream' } })
    : await fetchFn(url, {
        method: 'POST',
        headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'mcp-oauth-manager', version: 'probe' },
          },
        }),
      });
  const status = response.status;
  const dated = response.headers.get('date');
  const date = dated ? { date: dated } : {};
  const challenge = response.headers.get('www-authenticate') ?? '';
  const type = response.headers.get('content-type') ?? '';
  if (status === 401 || (status === 403 && /bearer/i.test(challenge))) {
    await response.body?.cancel().catch(() => {});
    return { kind: 'challenge', status, ...date };
  }
  if (sse && response.ok && type.includes('text/event-stream')) {
    await response.body?.cancel().catch(() => {});
    return { kind: 'open', status, ...date };
  }
  const body = await peek(response);
  if (/"jsonrpc"\s*:\s*"2\.0"/.test(body)) return { kind: 'open', status, ...date };
  return { kind: 'other', status, said: displayText(body.replace(/\s+/g, ' ').trim(), QUOTED), ...date };
}

async function peek(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < PEEK_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, PEEK_BYTES).toString('utf8');
}

/**
 * A login to a server that answered an MCP request without asking for authentication: there is
 * nothing to log in to. The CLI reports it as done (`no_auth`), not as a failure.
 */
export class NoLoginNeededError extends LoginError {
  constructor(server: string, url: string) {
    super(
      server,
      `${safeUrl(url)} answered an MCP request sent without authentication, so it needs no login; use it as it is`,
    );
    this.name = 'NoLoginNeededError';
  }
}

/**
 * Explains why a server gave no usable OAuth metadata, by asking it as an MCP client would:
 * - it answers without authentication: NoLoginNeededError;
 * - it is not an MCP endpoint, but `/mcp` or `/sse` on its origin is: the URL to configure;
 * - it asks for authentication yet publishes no metadata: said so;
 * - nothing there speaks MCP: "not an MCP server, no OAuth metadata at URL".
 * Returns the LoginError to throw. `fallback` is the original problem, kept as the cause.
 */
export async function explainMissingMetadata(input: {
  server: string;
  serverUrl: string;
  fetchFn: FetchLike;
  fallback: unknown;
}): Promise<LoginError> {
  const { server, serverUrl, fetchFn } = input;
  const where = safeUrl(serverUrl);
  let answer: ProbeAnswer;
  try {
    answer = await probeMcpEndpoint(serverUrl, fetchFn);
  } catch (error) {
    return new LoginError(server, error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (answer.kind === 'open') return new NoLoginNeededError(server, serverUrl);
  if (answer.kind === 'challenge') {
    // It asks for authentication and discovery failed on what it published (an issuer that does
    // not match, malformed metadata): that failure is the reason, not a lack of metadata.
    if (input.fallback instanceof Error)
      return new LoginError(
        server,
        `the OAuth metadata for ${where} cannot be used: ${input.fallback.message}`,
        { cause: input.fallback },
      );
    return new LoginError(
      server,
      `${where} asks for authentication (HTTP ${answer.status}) but publishes no OAuth metadata (no protected-resource metadata, no authorization-server metadata at its origin), so no login can be started from it; ask its operator which authorization server to use, or check the URL`,
      { cause: input.fallback },
    );
  }
  const origin = new URL(serverUrl).origin;
  const tried: string[] = [];
  for (const path of USUAL_MCP_PATHS) {
    const candidate = `${origin}${path}`;
    if (new URL(serverUrl).pathname.replace(/\/$/, '') === path) continue;
    tried.push(candidate);
    const found = await probeMcpEndpoint(candidate, fetchFn).catch(() => undefined);
    if (found && found.kind !== 'other') {
      return new LoginError(
        server,
        `${where} is not an MCP endpoint (it answered HTTP ${answer.status}), but ${candidate} answers like an MCP server; set url: ${candidate} for this server in config.yaml`,
        { cause: input.fallback },
      );
    }
  }
  const said = answer.said ? ` ${JSON.stringify(answer.said)}` : '';
  return new LoginError(
    server,
    `${where} is not an MCP server and publishes no OAuth metadata (it answered an MCP request with HTTP ${answer.status}${said}${tried.length > 0 ? `, and ${tried.join(' and ')} did not answer like one either` : ''}); check the URL in config.yaml`,
    { cause: input.fallback },
  );
}
