import type { ClientOptions } from '@modelcontextprotocol/client';
import { loadConfig } from '../config/config-file.js';
import type { OAuthConfig } from '../config/oauth-config.js';
import { ConfigError, McpOAuthError } from '../errors.js';
import type { OAuthManager } from '../manager/oauth-manager.js';
import { getManager } from '../manager/singleton.js';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import { ManagedClient } from './managed-client.js';

/** The MCP `clientInfo` sent in `initialize` when the host gives none. */
export const DEFAULT_CLIENT_INFO: Readonly<{ name: string; version: string }> = {
  name: 'mcp-oauth-manager',
  version: '1',
};

/** The default version negotiation: the SDK probes with `server/discover`, then falls back to `initialize`. */
const AUTO: NonNullable<ClientOptions['versionNegotiation']> = { mode: 'auto' };

/** Options of `connect`; every one is optional. */
export interface ConnectOptions {
  /** Default: the process manager, `getManager()`. */
  manager?: OAuthManager;
  /**
   * Whose credential: the account of the key (a gateway connects once per user). Default: the
   * manager's `account` option (the default account when unset).
   */
  account?: string;
  /** The server's URL; default: from `config.yaml` in the manager's home. */
  url?: string | URL;
  /** The server's OAuth settings; default: from `config.yaml` when the URL comes from there, else none. */
  oauth?: OAuthConfig;
  /** Default 'auto': Streamable HTTP (2026-07-28, else 2025), falling back to SSE for servers that only speak SSE. */
  transport?: 'auto' | 'streamable-http' | 'sse';
  /** The MCP `clientInfo` (default {@link DEFAULT_CLIENT_INFO}). */
  clientInfo?: { name: string; version: string };
  /**
   * Passed to the SDK `Client`. `versionNegotiation` defaults to `{ mode: 'auto' }`: MCP 2026-07-28
   * (stateless, `server/discover`) with servers that speak it, the 2025 `initialize` with the
   * others; set `{ mode: 'legacy' }` to never probe.
   */
  clientOptions?: ClientOptions;
  breaker?: CircuitBreakerOptions;
}

/**
 * A connected SDK v2 client for the MCP server `name`, authenticated by the manager, with
 * reconnect, 401 recovery, step-up and a circuit breaker (see ManagedClient). It speaks MCP
 * 2026-07-28 to servers that do, the 2025 `initialize` to the others, and HTTP+SSE to servers that
 * only speak that (`client.getProtocolEra()`, `client.transportKind`). Throws NeedsReauthError at
 * once when the server needs a login the manager may not start.
 *
 * @see [MCP Versioning (2026-07-28)](https://modelcontextprotocol.io/specification/2026-07-28/basic/versioning)
 */
export async function connect(name: string, options: ConnectOptions = {}): Promise<ManagedClient> {
  const manager = options.manager ?? getManager();
  let url = options.url;
  let oauth = options.oauth;
  if (url === undefined) {
    if (!manager.home) {
      throw new ConfigError(
        `No URL for MCP server '${name}': pass options.url, or give the manager a home with a config.yaml.`,
        { server: name },
      );
    }
    const config = await loadConfig(manager.home);
    const server = config.servers.get(name);
    if (!server) {
      throw new ConfigError(
        `MCP server '${name}' is not in ${config.file}; add it with: mcp-oauth servers add ${name} <url>`,
        { file: config.file, server: name },
      );
    }
    if (server.error) throw server.error;
    url = server.url;
    oauth ??= server.oauth;
  }
  const provider = manager.getOrBuildProvider(
    name,
    url,
    oauth ?? {},
    options.account === undefined ? {} : { account: options.account },
  );
  const client = new ManagedClient(
    manager,
    name,
    new URL(String(url)),
    provider,
    options.transport ?? 'auto',
    options.clientInfo ?? { ...DEFAULT_CLIENT_INFO },
    { ...options.clientOptions, versionNegotiation: options.clientOptions?.versionNegotiation ?? AUTO },
    options.breaker,
  );
  try {
    await client.open();
  } catch (error) {
    await client.close().catch(() => {});
    // The SDK wraps what the probe's 401 recovery threw ("Version negotiation probe failed"):
    // the host gets this library's own typed error (NeedsReauthError with its command) instead.
    const cause = (error as { cause?: unknown } | undefined)?.cause;
    throw cause instanceof McpOAuthError ? cause : error;
  }
  return client;
}
