import type { FetchLike } from '@modelcontextprotocol/client';

/**
 * The most bytes read from any one response of an authorization server or of a protected
 * resource's metadata endpoint: metadata, client registration, token and error bodies alike.
 * Real ones are a few KiB; 256 KiB leaves room for long `scopes_supported` lists while a hostile
 * server can no longer make this process buffer (and store, and rewrite at every refresh)
 * megabytes.
 */
export const MAX_OAUTH_RESPONSE_BYTES = 256 * 1024;

// Statuses whose Response must be built without a body (the Fetch standard's null body statuses).
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** A server's response exceeded {@link MAX_OAUTH_RESPONSE_BYTES}; it was not read further. */
export class ResponseTooLargeError extends Error {
  readonly url: string;
  readonly limitBytes: number;
  constructor(url: string, limitBytes: number) {
    super(
      `the response of ${url} is larger than ${Math.round(limitBytes / 1024)} KiB, the limit for an authorization server's responses; it was not read`,
    );
    this.name = 'ResponseTooLargeError';
    this.url = url;
    this.limitBytes = limitBytes;
  }
}

/** The URL a fetch was called with, as a string. */
export function urlOf(input: Parameters<FetchLike>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return (input as { url: string }).url;
}

/**
 * Wraps `fetchFn` so that no response body larger than `maxBytes` is ever read: a declared
 * `content-length` above it is refused before reading, and a body that grows past it is cut off
 * with a ResponseTooLargeError naming the URL and the limit. The body is read once, up to the
 * limit, and handed on as a fresh Response, so the MCP SDK's and oauth4webapi's own
 * `response.json()` run unchanged on what this let through.
 */
export function limitResponseSize(
  fetchFn: FetchLike,
  maxBytes: number = MAX_OAUTH_RESPONSE_BYTES,
): FetchLike {
  return async (input, init) => {
    const response = await fetchFn(input, init);
    const url = urlOf(input);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new ResponseTooLargeError(url, maxBytes);
    }
    const body = await readAtMost(response, maxBytes, url);
    return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

async function readAtMost(
  response: Response,
  maxBytes: number,
  url: string,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ResponseTooLargeError(url, maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
