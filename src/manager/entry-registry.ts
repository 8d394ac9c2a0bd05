import { loadConfig } from '../config/config-file.js';
import type { OAuthConfig } from '../config/oauth-config.js';
import { ConfigError, ManagerClosedError } from '../errors.js';
import { shellQuote } from '../shell-quote.js';
import { type CredentialKey, keyId } from '../store/credential-store.js';
import { ServerEntry } from './server-entry.js';
import { normalizeServerUrl } from './server-url.js';

/**
 * The manager's entries, one per (account, server), keyed like the store keys their records. One
 * manager serves any number of accounts (a gateway with one credential per end user): entries are
 * held by server name, then by account (`undefined`: the default account, today's unset key), so
 * the hot path finds an entry with two map lookups and builds nothing. A name becomes an entry
 * here, once per call from the public API; the parts below receive the entry itself.
 */
export class EntryRegistry {
  /** By server name, then account: few servers, any number of accounts each. */
  private readonly entries = new Map<string, Map<string | undefined, ServerEntry>>();
  /** The same entries by store key id, for the store's change notifications. */
  private readonly byId = new Map<string, ServerEntry>();
  private count = 0;
  private closed = false;

  constructor(
    /** The account of calls that name none (the manager's `account` option). */
    readonly defaultAccount: string | undefined,
    /** The home whose config.yaml names the servers; none for a manager on a custom store. */
    private readonly home: string | undefined,
  ) {}

  /** The store key of `server` for `account`. */
  keyFor(server: string, account: string | undefined = this.defaultAccount): CredentialKey {
    return account === undefined ? { server } : { server, account };
  }

  /**
   * Registers `name` at `serverUrl` for `account`, or updates its OAuth settings. A new URL
   * replaces the entry (`replaced`), so a credential bound to the old URL is never sent to the
   * new one.
   */
  register(
    name: string,
    serverUrl: string | URL,
    config: OAuthConfig,
    account: string | undefined = this.defaultAccount,
  ): { entry: ServerEntry; replaced: boolean } {
    this.assertOpen();
    if (typeof name !== 'string' || name.length === 0)
      throw new ConfigError('A server name must be a non-empty string.');
    if (account !== undefined && (typeof account !== 'string' || account.length === 0))
      throw new ConfigError('An account must be a non-empty string (or unset for the default account).');
    const url = normalizeServerUrl(name, serverUrl);
    let accounts = this.entries.get(name);
    const existing = accounts?.get(account);
    if (existing && existing.serverUrl === url) {
      existing.config = config;
      existing.orphaned = false;
      return { entry: existing, replaced: false };
    }
    if (!accounts) {
      accounts = new Map();
      this.entries.set(name, accounts);
    }
    const key = this.keyFor(name, account);
    const entry = new ServerEntry(name, key, url, config);
    accounts.set(account, entry);
    this.byId.set(keyId(key), entry);
    if (!existing) this.count += 1;
    return { entry, replaced: existing !== undefined };
  }

  /**
   * The registered entry of `name` for `account`; a usage error naming the fix when there is
   * none. The hot path: two map lookups, no allocation.
   */
  get(name: string, account: string | undefined = this.defaultAccount): ServerEntry {
    this.assertOpen();
    const entry = this.entries.get(name)?.get(account);
    if (!entry) {
      const who = account === undefined ? '' : ` (account '${account}')`;
      throw new ConfigError(
        `Unknown MCP server '${name}'${who}: add it with \`mcp-oauth servers add ${shellQuote(name)} <url>\`, or call getOrBuildProvider(name, url${account === undefined ? '' : ', config, { account }'}) first.`,
        { server: name },
      );
    }
    return entry;
  }

  /**
   * The entry of `name` for `account`, registered when not yet known: like the entry of another
   * account of the same server (a server registered for one account serves every account), else
   * from config.yaml in the home folder.
   */
  async resolve(name: string, account: string | undefined = this.defaultAccount): Promise<ServerEntry> {
    this.assertOpen();
    const sibling = this.entries.get(name)?.values().next().value;
    if (!this.has(name, account) && sibling) {
      // Registered for another account: the server is the same for every account.
      this.register(name, sibling.serverUrl, sibling.config, account);
    } else if (!this.has(name, account) && this.home) {
      const server = (await loadConfig(this.home)).servers.get(name);
      if (server?.error) throw server.error;
      if (server) this.register(name, server.url, server.oauth, account);
    }
    return this.get(name, account);
  }

  has(name: string, account: string | undefined = this.defaultAccount): boolean {
    return this.entries.get(name)?.has(account) === true;
  }

  /** The entry stored under a store key id (for change notifications). */
  byKeyId(id: string): ServerEntry | undefined {
    return this.byId.get(id);
  }

  delete(name: string, account: string | undefined = this.defaultAccount): void {
    const accounts = this.entries.get(name);
    const entry = accounts?.get(account);
    if (!accounts || !entry) return;
    accounts.delete(account);
    if (accounts.size === 0) this.entries.delete(name);
    this.byId.delete(keyId(entry.key));
    this.count -= 1;
  }

  /** How many entries (accounts x servers) are registered. */
  get size(): number {
    return this.count;
  }

  /** Every entry, of every account. */
  *all(): IterableIterator<ServerEntry> {
    for (const accounts of this.entries.values()) yield* accounts.values();
  }

  /** Every later use throws ManagerClosedError. */
  close(): void {
    this.closed = true;
  }

  assertOpen(): void {
    if (this.closed) throw new ManagerClosedError();
  }
}
