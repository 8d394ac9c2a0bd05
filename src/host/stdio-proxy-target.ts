import { addServers, loadConfig, type ServerConfig } from '../config/config-file.js';
import { derivedServerName, disambiguatedServerName } from '../config/derived-server-name.js';
import { ConfigError } from '../errors.js';
import { isSecureOrLoopback } from '../loopback.js';
import { shellQuote } from '../shell-quote.js';

/** How often a proxy re-reads config.yaml after another process added the same URL first. */
const ADD_ATTEMPTS = 5;

/** A server the proxy relays to, and whether this proxy added it to config.yaml. */
export interface ProxyTarget {
  server: ServerConfig;
  added: boolean;
}

/**
 * The server `<server>` of `mcp-oauth proxy <server>` names: a configured name, or an http(s) URL.
 * A URL already in config.yaml (same URL, whatever its name) is used as configured; otherwise it
 * is added under `derivedServerName(url)` (or `disambiguatedServerName` when that name holds
 * another URL) through `addServers`, which writes under the configuration's edit lock. Several
 * proxies started at once with the same URL derive the same name: one of them adds it, the others
 * find the name taken, re-read the file and use the entry that is now there. Plain HTTP is
 * refused except on loopback (ConfigError, exit 2).
 */
export async function resolveProxyTarget(home: string, server: string): Promise<ProxyTarget> {
  const url = parseServerUrl(server);
  if (!url) {
    const config = await loadConfig(home);
    const found = config.servers.get(server);
    if (!found) {
      throw new ConfigError(
        `Unknown server '${server}': it is not in ${config.file}. Pass its URL instead (mcp-oauth proxy https://...), or add it with: mcp-oauth servers add ${shellQuote(server)} <url>`,
        { file: config.file, server },
      );
    }
    if (found.error) throw found.error;
    return { server: found, added: false };
  }
  if (!isSecureOrLoopback(url)) {
    throw new ConfigError(
      `Refusing ${url.href}: plain HTTP is only allowed for loopback servers (127.0.0.1, ::1, localhost). Use the server's https:// URL.`,
    );
  }
  for (let attempt = 1; ; attempt++) {
    const config = await loadConfig(home);
    const same = [...config.servers.values()].find((s) => sameUrl(s.url, url));
    if (same) {
      if (same.error) throw same.error;
      return { server: same, added: false };
    }
    const derived = derivedServerName(url);
    const name = config.servers.has(derived) ? disambiguatedServerName(url) : derived;
    try {
      const [added] = await addServers(home, [{ name, url: url.href }]);
      return { server: added!, added: true };
    } catch (error) {
      // Another proxy added the name between our read and our write: read again.
      if (!(error instanceof ConfigError) || error.server !== name || attempt >= ADD_ATTEMPTS) throw error;
    }
  }
}

/** The URL `server` spells, when it is one (http or https); undefined for a name. */
function parseServerUrl(server: string): URL | undefined {
  if (!/^https?:\/\//i.test(server)) return undefined;
  try {
    return new URL(server);
  } catch {
    throw new ConfigError(
      `'${server}' is not a valid URL; pass a configured server name or an https:// URL.`,
    );
  }
}

function sameUrl(configured: string, url: URL): boolean {
  try {
    return new URL(configured).href === url.href;
  } catch {
    return false;
  }
}
