import { ConfigError } from '../errors.js';
import { isSecureOrLoopback } from '../loopback.js';

/**
 * The URL of an MCP server as the manager keys and binds credentials to it: absolute, https
 * (plain http only on loopback: 127.0.0.0/8, ::1, localhost), without a fragment.
 */
export function normalizeServerUrl(name: string, serverUrl: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(serverUrl));
  } catch {
    throw new ConfigError(
      `The URL of MCP server '${name}' is not a valid URL; write an absolute https:// URL.`,
      {
        server: name,
        key: 'url',
      },
    );
  }
  if (!isSecureOrLoopback(url)) {
    throw new ConfigError(
      `The URL of MCP server '${name}' must use https (plain http is allowed only on loopback: 127.0.0.0/8, ::1, localhost).`,
      { server: name, key: 'url' },
    );
  }
  url.hash = '';
  return url.href;
}
