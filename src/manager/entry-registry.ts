import { loadConfig } from '../config/config-file.js';
import type { OAuthConfig } from '../config/oauth-config.js';
import { ConfigError, ManagerClosedError } from '../errors.js';
import { type CredentialKey, keyId } from '../store/credential-store.js';
import { ServerEntry } from './server-entry.js';
import { normalizeServerUrl } from './server-url.js';

/**
 * The manager's entries, one per (account, server), keyed like the store keys their records.
 * A name becomes an entry here, once per call from the public API; the parts below receive the
 * entry itself. The account is the registry's own, so a name is the key within it: the hot path
 * looks the name up without building a key.
 */
export class EntryRegistry {
  /** By server name (this registry's account). */
  private readonly entries = new Map<string, ServerEntry>();
  /** The same entries by store key id, for the store's change notifications. */
  private readonly byId = new Map<string, ServerEntry>();
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
    const existing = this.entries.get(name);
    if (existing && existing.serverUrl === url) {
      existing.config = config;
      return { entry: existing, replaced: false };
    }
    const key = this.keyFor(name);
    const entry = new ServerEntry(name, key, url, config);
    this.entries.set(name, entry);
    this.byId.set(keyId(key), entry);
    return { entry, replaced: existing !== undefined };
  }

  /** The registered entry of `name`; a usage error naming the fix when there is none. */
  get(name: string): ServerEntry {
    this.assertOpen();
    const entry = this.entries.get(name);
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
    if (!this.entries.has(name) && this.home) {
      const server = (await loadConfig(this.home)).servers.get(name);
      if (server?.error) throw server.error;
      if (server) this.register(name, server.url, server.oauth);
    }
    return this.get(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry stored under a store key id (for change notifications). */
  byKeyId(id: string): ServerEntry | undefined {
    return this.byId.get(id);
  }

  delete(name: string): void {
    const entry = this.entries.get(name);
    this.entries.delete(name);
    if (entry) this.byId.delete(keyId(entry.key));
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
