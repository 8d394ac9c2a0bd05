import { createClient } from 'redis';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { notifyChange } from './change-listeners.js';
import type { CredentialKey } from './credential-store.js';
import type { RedisConnection } from './redis-connection.js';

/** Options of a change feed. */
export interface RedisChangeFeedOptions {
  connection: RedisConnection;
  channel: string;
  logger: Logger;
  /** Measures the fallback's once-per-second limit (injected in tests). */
  clock: Clock;
  /** While the subscription is down, each known key is version-checked at most once per this (default 1 s). */
  fallbackIntervalMs: number;
  /** How often the fallback loop looks for keys due a check (real time). */
  fallbackTickMs: number;
  /** The version of a key as stored now (`rid:gen`, undefined: no record). */
  version: (key: CredentialKey) => Promise<string | undefined>;
  /** Parses a published key JSON (undefined: not a key of this store). */
  parseKey: (message: string) => CredentialKey | undefined;
  /** The identity of a key, for maps. */
  idOf: (key: CredentialKey) => string;
}

interface Known {
  key: CredentialKey;
  version: string | undefined;
  checkedAt: number;
}

interface Subscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  destroy(): void;
}

/**
 * Change events of a Redis store over pub/sub: every write script publishes the key it changed
 * on the deployment's channel, and each process's subscription turns that into `watch` signals,
 * so caches are invalidated without polling. When the subscription drops (Redis restarted, the
 * network cut), a fallback compares the stored version of each known key with the last one seen,
 * at most once per `fallbackIntervalMs` per key, until the subscription is back; on its return
 * one sweep catches what happened in between. Nothing here keeps the process alive.
 */
export class RedisChangeFeed {
  private readonly options: RedisChangeFeedOptions;
  private readonly known = new Map<string, Known>();
  private readonly listeners = new Set<{ listener: (key: CredentialKey) => void }>();
  private subscriber: Subscriber | undefined;
  private starting: Promise<void> | undefined;
  private up = false;
  private everUp = false;
  private ticker: NodeJS.Timeout | undefined;
  private checking = false;
  private closed = false;
  /** Version checks made by the fallback (observability and tests). */
  fallbackChecks = 0;

  constructor(options: RedisChangeFeedOptions) {
    this.options = options;
  }

  /** True while the subscription is live (events flow). */
  get live(): boolean {
    return this.up;
  }

  /** Records the version of `key` this process last read or wrote (the fallback's baseline). */
  remember(key: CredentialKey, version: string | undefined): void {
    const id = this.options.idOf(key);
    const known = this.known.get(id);
    if (known) known.version = version;
    else this.known.set(id, { key, version, checkedAt: this.options.clock.now() });
  }

  /** Adds a listener (starting the subscription with the first); returns the unsubscribe function. */
  subscribe(listener: (key: CredentialKey) => void): () => void {
    if (this.closed) return () => {};
    const entry = { listener };
    this.listeners.add(entry);
    this.start();
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Resolves once the subscription is live (for tests and hosts that want events before they start). */
  async whenLive(): Promise<void> {
    this.start();
    await this.starting;
  }

  /** Unsubscribes, stops the fallback, closes the subscriber connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    // Destroyed, not quit: nothing is pending on a subscriber, and a subscriber still trying to
    // reconnect (Redis down) would never answer a QUIT.
    subscriber?.destroy();
  }

  private start(): void {
    if (this.subscriber || this.closed) return;
    const subscriber = createClient(this.options.connection.subscriberOptions()) as unknown as Subscriber;
    this.subscriber = subscriber;
    subscriber.on('error', (error) => {
      this.setUp(false);
      this.options.logger.debug('Redis change feed connection error', {
        error: error instanceof Error ? error.message : String(error),
      });
    });
    subscriber.on('end', () => this.setUp(false));
    subscriber.on('reconnecting', () => this.setUp(false));
    // node-redis subscribes again on every reconnection before it reports ready.
    subscriber.on('ready', () => {
      if (this.everUp) this.setUp(true);
    });
    this.ticker = setInterval(() => void this.tick(), this.options.fallbackTickMs);
    this.ticker.unref();
    this.starting = subscriber
      .connect()
      .then(() => subscriber.subscribe(this.options.channel, (message) => this.onMessage(message)))
      .then(() => {
        this.everUp = true;
        this.setUp(true);
      })
      .catch((error: unknown) => {
        // The fallback covers the time until node-redis reconnects (it keeps trying).
        this.options.logger.warn(
          'Cannot subscribe to the Redis store change events; checking versions instead',
          {
            error: error instanceof Error ? error.message : String(error),
          },
        );
      });
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    if (up) {
      // Back: one sweep for whatever changed while the events were lost.
      void this.sweep(true);
    } else if (!this.closed) {
      this.options.logger.warn('Redis store change events lost; checking versions at most once per second');
    }
  }

  private onMessage(message: string): void {
    const key = this.options.parseKey(message);
    if (key) this.emit(key);
  }

  private async tick(): Promise<void> {
    if (this.up || this.closed || this.listeners.size === 0) return;
    await this.sweep(false);
  }

  /** Compares known keys' versions with their baselines; `all` ignores the per-key limit. */
  private async sweep(all: boolean): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const known of this.known.values()) {
        if (this.closed) return;
        const now = this.options.clock.now();
        if (!all && now - known.checkedAt < this.options.fallbackIntervalMs) continue;
        known.checkedAt = now;
        this.fallbackChecks += 1;
        let version: string | undefined;
        try {
          version = await this.options.version(known.key);
        } catch {
          continue; // the store itself is unreachable: nothing to compare with
        }
        if (version !== known.version) {
          known.version = version;
          this.emit(known.key);
        }
      }
    } finally {
      this.checking = false;
    }
  }

  private emit(key: CredentialKey): void {
    notifyChange(this.listeners, key, this.options.logger);
  }
}
