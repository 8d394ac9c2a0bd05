import type { RedisClientOptions } from 'redis';
import { type Clock, systemClock } from '../clock.js';
import { CorruptCredentialError, LeaseLostError, NewerSchemaError, StoreError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  CREDENTIAL_SCHEMA_VERSION,
  type CredentialRecord,
  credentialRecordSchema,
  type RecordVersion,
} from './credential-record.js';
import {
  type CredentialKey,
  type CredentialStore,
  DEFAULT_LOCK_WAIT_MS,
  keyId,
  type LockOptions,
  type PutExpectation,
  type PutResult,
} from './credential-store.js';
import type { RecordCipher } from './record-cipher.js';
import { decodeRecord, describeIssues } from './record-codec.js';
import { RedisChangeFeed } from './redis-change-feed.js';
import { RedisConnection } from './redis-connection.js';
import {
  type CredentialKeys,
  changeChannel,
  checkRedisPrefix,
  credentialKeys,
  DEFAULT_REDIS_PREFIX,
  recordScanPattern,
} from './redis-keys.js';
import { RedisLeaseLock } from './redis-lease-lock.js';
import { DELETE_SCRIPT, PUT_SCRIPT, QUARANTINE_SCRIPT } from './redis-scripts.js';

/** Options of a RedisCredentialStore. */
export interface RedisCredentialStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url?: string;
  /** node-redis client options (TLS, credentials, socket), merged over what `url` gives. */
  clientOptions?: RedisClientOptions;
  /** `url` is a seed node of a Redis Cluster. */
  cluster?: boolean;
  /** Key prefix of this deployment (default `mcp-oauth:`); deployments sharing a Redis differ by it. */
  prefix?: string;
  /** Seals record bodies at rest; without it they are stored as plain JSON. */
  cipher?: RecordCipher;
  logger?: Logger;
  /** Default `waitMs` of `withLock` (default {@link DEFAULT_LOCK_WAIT_MS}). */
  lockWaitMs?: number;
  /** Lease of a lock when the caller gives no `staleMs`, ms (default 10 s). */
  leaseMs?: number;
  /** Clock of the change feed's fallback limit (injected in tests). */
  clock?: Clock;
  /** While change events are lost, each known key is checked at most once per this, ms (default 1 s). */
  fallbackIntervalMs?: number;
  /** How often the fallback looks for keys due a check, ms (default 250). */
  fallbackTickMs?: number;
}

const DEFAULT_LEASE_MS = 10_000;

function cleanKey(key: CredentialKey): CredentialKey {
  return key.account === undefined ? { server: key.server } : { server: key.server, account: key.account };
}

/** Parses a keyId JSON (`["server", "account" | null]`); undefined when it is not one. */
function parseKeyId(text: string | null | undefined): CredentialKey | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string') return undefined;
    if (value[1] === null) return { server: value[0] };
    return typeof value[1] === 'string' ? { server: value[0], account: value[1] } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A credential store shared by every process of a fleet, on Redis (single node or Cluster).
 * Each credential is one hash beside its lease locks and fencing counters, all under one hash
 * tag (docs/DECISIONS.md, "Redis store"). Compare-and-set by (recordId, generation) and the
 * fencing check run in one Lua script that compares fields kept beside the body, so it never
 * needs to decrypt; change events over pub/sub with a rate-limited version check while the
 * subscription is down; `list` scans every master. The constructor does no I/O: the connection
 * is made at first use, and an unreachable store is StoreUnavailableError naming the URL
 * without its password. `close()` releases the connections and timers.
 */
export class RedisCredentialStore implements CredentialStore {
  /** The store's URL as it may be shown (no password). */
  readonly displayUrl: string;
  readonly prefix: string;
  private readonly connection: RedisConnection;
  private readonly locks: RedisLeaseLock;
  private readonly feed: RedisChangeFeed;
  private readonly cipher: RecordCipher | undefined;
  private readonly logger: Logger;
  private readonly lockWaitMs: number;
  private readonly channel: string;
  private readonly keyCache = new Map<string, CredentialKeys>();

  constructor(options: RedisCredentialStoreOptions) {
    this.prefix = checkRedisPrefix(options.prefix ?? DEFAULT_REDIS_PREFIX);
    this.logger = options.logger ?? silentLogger;
    this.cipher = options.cipher;
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
    this.channel = changeChannel(this.prefix);
    this.connection = new RedisConnection({
      url: options.url,
      clientOptions: options.clientOptions,
      cluster: options.cluster,
      logger: this.logger,
    });
    this.displayUrl = this.connection.displayUrl;
    this.locks = new RedisLeaseLock(this.connection, options.leaseMs ?? DEFAULT_LEASE_MS);
    this.feed = new RedisChangeFeed({
      connection: this.connection,
      channel: this.channel,
      logger: this.logger,
      clock: options.clock ?? systemClock,
      fallbackIntervalMs: options.fallbackIntervalMs ?? 1_000,
      fallbackTickMs: options.fallbackTickMs ?? 250,
      version: (key) => this.fingerprintOnly(key),
      parseKey: parseKeyId,
      idOf: keyId,
    });
  }

  /** Creates a store and connects it, so an unreachable Redis is reported now (StoreUnavailableError). */
  static async open(options: RedisCredentialStoreOptions): Promise<RedisCredentialStore> {
    const store = new RedisCredentialStore(options);
    try {
      await store.connection.ready();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** The change feed's state and fallback counter (observability, tests). */
  get changeFeed(): { readonly live: boolean; readonly fallbackChecks: number; whenLive(): Promise<void> } {
    return this.feed;
  }

  async get(key: CredentialKey): Promise<CredentialRecord | undefined> {
    return (await this.read(key)).record;
  }

  /** The record and its fingerprint (`recordId:generation`) from one HMGET. */
  async read(
    key: CredentialKey,
  ): Promise<{ record: CredentialRecord | undefined; fingerprint: string | undefined }> {
    const [rid, gen, sv, body] = await this.connection.hmGet(this.keysOf(key).record, [
      'rid',
      'gen',
      'sv',
      'body',
    ]);
    if (!rid || body == null) {
      this.feed.remember(key, undefined);
      return { record: undefined, fingerprint: undefined };
    }
    const fingerprint = `${rid}:${gen}`;
    this.feed.remember(key, fingerprint);
    const schemaVersion = Number(sv);
    if (Number.isInteger(schemaVersion) && schemaVersion > CREDENTIAL_SCHEMA_VERSION) {
      throw new NewerSchemaError(key.server, schemaVersion, CREDENTIAL_SCHEMA_VERSION);
    }
    return { record: await this.decodeOrQuarantine(key, body), fingerprint };
  }

  async put(key: CredentialKey, record: CredentialRecord, expect: PutExpectation): Promise<PutResult> {
    return this.write(key, record, expect, false);
  }

  private async write(
    key: CredentialKey,
    record: CredentialRecord,
    expect: PutExpectation,
    retried: boolean,
  ): Promise<PutResult> {
    const parsed = credentialRecordSchema.safeParse(record);
    if (!parsed.success) {
      throw new StoreError(
        `Refusing to store an invalid credential record for MCP server '${key.server}' (${describeIssues(parsed.error)}). This is a bug in the caller.`,
      );
    }
    if (parsed.data.server !== key.server || parsed.data.account !== key.account) {
      throw new StoreError(
        `Refusing to store a credential record under another key than its own server/account (MCP server '${key.server}'). This is a bug in the caller.`,
      );
    }
    const keys = this.keysOf(key);
    const lease = this.locks.current(keys.record);
    const json = JSON.stringify(parsed.data);
    const body = this.cipher ? this.cipher.seal(json) : json;
    const reply = (await this.connection.run(
      PUT_SCRIPT,
      [keys.record, lease?.fenceKey ?? keys.fence('refresh')],
      [
        lease?.fence ?? '',
        String(CREDENTIAL_SCHEMA_VERSION),
        expect === null ? '' : expect.recordId,
        expect === null ? '' : String(expect.generation),
        parsed.data.recordId,
        String(parsed.data.generation),
        String(parsed.data.schemaVersion),
        keyId(key),
        body,
        this.channel,
      ],
    )) as [string, string?];
    switch (reply[0]) {
      case 'ok':
        this.feed.remember(key, `${parsed.data.recordId}:${parsed.data.generation}`);
        return { ok: true };
      case 'fenced':
        if (lease) lease.lost = true;
        throw new LeaseLostError(`the credential of MCP server '${key.server}'`);
      case 'newer':
        throw new NewerSchemaError(key.server, Number(reply[1]), CREDENTIAL_SCHEMA_VERSION);
      default: {
        if (!reply[1]) return { ok: false, current: undefined };
        let current: CredentialRecord;
        try {
          current = await this.decodeOrQuarantine(key, reply[1]);
        } catch (error) {
          // The stored record was unreadable and has just been moved aside: the key is free
          // again, as in the file store (once: a second failure is reported).
          if (error instanceof CorruptCredentialError && error.quarantinedTo && !retried) {
            return this.write(key, record, expect, true);
          }
          throw error;
        }
        return { ok: false, current };
      }
    }
  }

  async delete(key: CredentialKey, expect?: RecordVersion): Promise<boolean> {
    const keys = this.keysOf(key);
    const lease = this.locks.current(keys.record);
    const reply = (await this.connection.run(
      DELETE_SCRIPT,
      [keys.record, lease?.fenceKey ?? keys.fence('refresh')],
      [
        lease?.fence ?? '',
        String(CREDENTIAL_SCHEMA_VERSION),
        expect?.recordId ?? '',
        expect === undefined ? '' : String(expect.generation),
        this.channel,
      ],
    )) as [string, string?];
    switch (reply[0]) {
      case 'ok':
        this.feed.remember(key, undefined);
        return true;
      case 'fenced':
        if (lease) lease.lost = true;
        throw new LeaseLostError(`the credential of MCP server '${key.server}'`);
      case 'newer':
        throw new NewerSchemaError(key.server, Number(reply[1]), CREDENTIAL_SCHEMA_VERSION);
      default:
        return false;
    }
  }

  /**
   * Every stored key, in keyId order: SCAN over every master (no index set, so no second slot to
   * keep consistent on Cluster); O(keys in the database), meant for status and migrate.
   */
  async list(): Promise<CredentialKey[]> {
    const names = await this.connection.scan(recordScanPattern(this.prefix));
    const keys: CredentialKey[] = [];
    for (const name of names) {
      const [text] = await this.connection.hmGet(name, ['key']);
      const key = parseKeyId(text);
      // Only a hash that sits where its key belongs (a stranger or a copy by hand is skipped).
      if (key && this.keysOf(key).record === name) keys.push(key);
    }
    return keys.sort((a, b) => (keyId(a) < keyId(b) ? -1 : keyId(a) > keyId(b) ? 1 : 0));
  }

  /** `recordId:generation` of the stored record (one HMGET, no body), or undefined. */
  async fingerprint(key: CredentialKey): Promise<string | undefined> {
    const fingerprint = await this.fingerprintOnly(key);
    this.feed.remember(key, fingerprint);
    return fingerprint;
  }

  watch(listener: (key: CredentialKey) => void): () => void {
    return this.feed.subscribe(listener);
  }

  /** A lease lock (see RedisLeaseLock); `staleMs` is the lease, renewed while `fn` runs. */
  async withLock<T>(key: CredentialKey, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    return this.locks.withLease(
      this.keysOf(key),
      options.purpose ?? 'refresh',
      `the credential of MCP server '${key.server}'`,
      options.waitMs ?? this.lockWaitMs,
      options.staleMs,
      fn,
    );
  }

  /**
   * Makes sure the lock the caller holds on `key` stays valid for `needMs` more (extending the
   * lease when shorter), or throws LeaseLostError: called just before a refresh token is sent, so
   * a holder whose lease expired never presents a token the next holder may present too.
   */
  async assertLease(key: CredentialKey, needMs: number): Promise<void> {
    await this.locks.assert(this.keysOf(key).record, needMs, `the credential of MCP server '${key.server}'`);
  }

  async close(): Promise<void> {
    this.locks.close();
    await this.feed.close();
    await this.connection.close();
  }

  // ---------------------------------------------------------------------------------------------

  private keysOf(key: CredentialKey): CredentialKeys {
    const id = keyId(key);
    let keys = this.keyCache.get(id);
    if (!keys) {
      keys = credentialKeys(this.prefix, cleanKey(key));
      this.keyCache.set(id, keys);
    }
    return keys;
  }

  private async fingerprintOnly(key: CredentialKey): Promise<string | undefined> {
    const [rid, gen] = await this.connection.hmGet(this.keysOf(key).record, ['rid', 'gen']);
    return rid ? `${rid}:${gen}` : undefined;
  }

  /**
   * The record in a stored body. A key the cipher does not hold throws the cipher's error and
   * moves nothing. Unreadable plaintext JSON is moved aside to `<record>:corrupt:<ms>` (kept, never
   * deleted) and throws CorruptCredentialError naming where; anything else unreadable (it may be
   * sealed in a format this build does not know) is reported and left in place.
   */
  private async decodeOrQuarantine(key: CredentialKey, body: string): Promise<CredentialRecord> {
    const json = this.cipher ? this.cipher.open(body) : body;
    const decoded = decodeRecord(Buffer.from(json, 'utf8'), key);
    if (decoded.kind === 'ok') return decoded.record;
    if (decoded.kind === 'newer')
      throw new NewerSchemaError(key.server, decoded.schemaVersion, CREDENTIAL_SCHEMA_VERSION);
    const record = this.keysOf(key).record;
    if (!json.trimStart().startsWith('{'))
      throw new CorruptCredentialError(key.server, decoded.detail, undefined);
    const aside = `${record}:corrupt:${Date.now()}`;
    const moved = Number(await this.connection.run(QUARANTINE_SCRIPT, [record, aside], [body, this.channel]));
    this.logger.warn(
      `The stored credential for MCP server '${key.server}' was unreadable and was moved aside`,
      {
        reason: decoded.detail,
        keptAt: aside,
      },
    );
    throw new CorruptCredentialError(
      key.server,
      decoded.detail,
      moved ? `${this.displayUrl} key ${aside}` : undefined,
    );
  }
}
