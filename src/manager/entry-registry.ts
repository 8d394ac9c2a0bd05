import { loadConfig } from '../config/config-file.js';
import type { OAuthConfig } from '../config/oauth-config.js';
import { ConfigError, ManagerClosedError } from '../errors.js';
import { type CredentialKey, keyId } from '../store/credential-store.js';
import { ServerEntry } from './server-entry.js';
import { normalizeServerUrl } from './server-url.js';

/**
 * The manager's entries, one per (account, server), keyed like the store keys their records.
 * A name becomes an entry here, once per call from the public API; the parts below receive the
 * entry itself.
 */
export class EntryRegistry {
  private readonly entries = new Map<string, ServerEntry>();
  private closed = false;

  constructor(
    private readonly account: string | undefined,
    /** The home whose config.yaml names the servers; none for a manager on a custom store. */
    private readonly home: string | undefined,
  ) {}

  /** The store key of `server` for this manager's account. */
  keyFor(server: string): CredentialKey {
    return this.account === undefined ? { server } : { server, account: this.account };
  }

  /**
   * Registers `name` at `serverUrl`, or updates its OAuth settings. A new URL replaces the entry
   * (`replaced`), so a credential bound to the old URL is never sent to the new one.
   */
  register(
    name: string,
    serverUrl: string | URL,
    config: OAuthConfig,
  ): { entry: ServerEntry; replaced: boolean } {
    this.assertOpen();
    if (typeof name !== 'string' || name.length === 0)
      throw new ConfigError('A server name must be a non-empty string.');
    const url = normalizeServerUrl(name, serverUrl);
    const id = keyId(this.keyFor(name));
    const existing = this.entries.get(id);
    if (existing && existing.serverUrl === url) {
      existing.config = config;
      return { entry: existing, replaced: false };
    }
    const entry = new ServerEntry(name, this.keyFor(name), url, config);
    this.entries.set(id, entry);
    return { entry, replaced: existing !== undefined };
  }

  /** The registered entry of `name`; a usage error naming the fix when there is none. */
  get(name: string): ServerEntry {
    this.assertOpen();
    const entry = this.entries.get(keyId(this.keyFor(name)));
    if (!entry) {
      throw new ConfigError(
        `Unknown MCP server '${name}': add it with \`mcp-oauth servers add ${name} <url>\`, or call getOrBuildProvider(name, url) first.`,
        { server: name },
      );
    }
    return entry;
  }

  /** The entry of `name`, registered from config.yaml in the home folder when not yet known. */
  async resolve(name: string): Promise<ServerEntry> {
    this.assertOpen();
    if (!this.entries.has(keyId(this.keyFor(name))) && this.home) {
      const server = (await loadConfig(this.home)).servers.get(name);
      if (server?.error) throw server.error;
      if (server) this.register(name, server.url, server.oauth);
    }
    return this.get(name);
  }

  has(name: string): boolean {
    return this.entries.has(keyId(this.keyFor(name)));
  }

  /** The entry stored under a store key id (for change notifications). */
  byKeyId(id: string): ServerEntry | undefined {
    return this.entries.get(id);
  }

  delete(name: string): void {
    this.entries.delete(keyId(this.keyFor(name)));
  }

  all(): IterableIterator<ServerEntry> {
    return this.entries.values();
  }

  /** Every later use throws ManagerClosedError. */
  close(): void {
    this.closed = true;
  }

  assertOpen(): void {
    if (this.closed) throw new ManagerClosedError();
  }
}
