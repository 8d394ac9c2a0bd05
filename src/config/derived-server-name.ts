import { createHash } from 'node:crypto';
import { MAX_SERVER_NAME_LENGTH } from './config-schema.js';

/** Characters a derived name keeps; everything else becomes '-'. */
const UNSAFE = /[^a-z0-9._]+/g;

/**
 * The name `mcp-oauth proxy URL` gives a server that is not configured yet: made only from the
 * URL's host, port and path (lowercased, other characters folded to '-'), so that every process
 * started with the same URL derives the same name without talking to the others. The scheme is
 * left out (plain HTTP is only for loopback anyway); a query string, or a name cut to the length
 * limit, gets a short hash of the whole URL so that different URLs keep different names.
 *
 * `https://mcp.notion.com/mcp` -> `mcp.notion.com-mcp`; `http://127.0.0.1:8080/sse` ->
 * `127.0.0.1-8080-sse`.
 */
export function derivedServerName(url: URL): string {
  const parts = [url.hostname.replace(/^\[|\]$/g, ''), url.port, ...url.pathname.split('/')];
  let name = parts
    .join('-')
    .toLowerCase()
    .replace(UNSAFE, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|-+$/g, '');
  if (!name) name = 'server';
  const needsHash = url.search !== '' || name.length > MAX_SERVER_NAME_LENGTH;
  if (!needsHash) return name;
  const suffix = `-${urlHash(url)}`;
  return `${name.slice(0, MAX_SERVER_NAME_LENGTH - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/**
 * The derived name for `url` when `derivedServerName(url)` is taken by another URL: the same name
 * with a short hash of the URL, again the same in every process.
 */
export function disambiguatedServerName(url: URL): string {
  const base = derivedServerName(url);
  const suffix = `-${urlHash(url)}`;
  if (base.endsWith(suffix)) return `${base.slice(0, MAX_SERVER_NAME_LENGTH - 2)}-2`;
  return `${base.slice(0, MAX_SERVER_NAME_LENGTH - suffix.length).replace(/-+$/, '')}${suffix}`;
}

function urlHash(url: URL): string {
  return createHash('sha256').update(url.href).digest('hex').slice(0, 8);
}
