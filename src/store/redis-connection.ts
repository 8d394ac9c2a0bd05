import { createClient, createCluster, type RedisClientOptions } from 'redis';
import { StoreUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RedisScript } from './redis-scripts.js';
import { redactStoreUrl } from './store-url.js';

/** Where the Redis store connects. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). */
  url?: string;
  /** node-redis client options (socket, TLS, credentials), merged over what `url` gives. */
  clientOptions?: RedisClientOptions;
  /** Connect to a Redis Cluster whose seed node is `url` (or `clientOptions`). */
  cluster?: boolean;
  logger: Logger;
}

/** A Redis client or cluster, reduced to what the store uses (node-redis's types differ between the two). */
interface Commands {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  hmGet(key: string, fields: string[]): Promise<Array<string | null>>;
  connect(): Promise<unknown>;
  close?(): Promise<void>;
  destroy(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  isReady?: boolean;
}

interface ScanClient {
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
}

/** A reconnection delay that grows to 1 s: a restarted Redis is found again within a second. */
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 5), 1_000);
}

/**
 * The connection of one Redis store: a node-redis client (or cluster client) that fails fast
 * while disconnected (no offline queue: a command never waits for a reconnection that may not
 * come) and reconnects in the background; failures of the connection become
 * StoreUnavailableError naming the URL without its password.
 */
export class RedisConnection {
  /** The URL for messages: password and secret parameters replaced. */
  readonly displayUrl: string;
  private commands: Commands;
  private readonly cluster: boolean;
  private readonly options: RedisConnectionOptions;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(options: RedisConnectionOptions) {
    this.options = options;
    this.cluster = options.cluster ?? false;
    this.displayUrl = options.url ? redactStoreUrl(options.url) : 'redis (client options)';
    this.commands = this.build();
  }

  /** Connects once (first use); a failure is StoreUnavailableError and the next call tries again. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(this.displayUrl, 'the store is closed'));
    if (!this.connecting) {
      const client = this.commands;
      this.connecting = new Promise<void>((resolve, reject) => {
        // node-redis retries a failed first connection forever; the first failure is the answer here.
        const onError = (error: unknown) => reject(error);
        client.on('error', onError);
        client.connect().then(
          () => {
            client.off('error', onError);
            resolve();
          },
          (error: unknown) => reject(error),
        );
      }).catch((error: unknown) => {
        this.connecting = undefined;
        try {
          client.destroy();
        } catch {
          // never connected: nothing to stop
        }
        // A fresh client for the next attempt (a destroyed one does not connect again).
        this.commands = this.build();
        throw this.unavailable(error);
      });
    }
    return this.connecting;
  }

  private build(): Commands {
    const options = this.options;
    const clientOptions: RedisClientOptions = {
      ...(options.url ? { url: options.url } : {}),
      ...options.clientOptions,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: reconnectDelay, connectTimeout: 5_000, ...options.clientOptions?.socket },
    } as RedisClientOptions;
    let commands: Commands;
    if (this.cluster) {
      const { url, ...defaults } = clientOptions;
      commands = createCluster({
        rootNodes: [{ url: url ?? 'redis://127.0.0.1:6379' }],
        defaults,
      }) as unknown as Commands;
    } else {
      commands = createClient(clientOptions) as unknown as Commands;
    }
    // Without a listener node-redis would throw connection errors as uncaught exceptions.
    commands.on('error', (error) => {
      options.logger.debug('Redis store connection error', {
        store: this.displayUrl,
        error: error instanceof Error ? error.message : String(error),
      });
    });
    return commands;
  }

  /** Runs a script by its SHA1, loading it on NOSCRIPT (first use on a server, or after a restart). */
  async run(script: RedisScript, keys: string[], args: string[]): Promise<unknown> {
    await this.ready();
    try {
      try {
        return await this.commands.evalSha(script.sha1, { keys, arguments: args });
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await this.commands.eval(script.source, { keys, arguments: args });
      }
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** HMGET, failures translated. */
  async hmGet(key: string, fields: string[]): Promise<Array<string | null>> {
    await this.ready();
    try {
      return await this.commands.hmGet(key, fields);
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Every key matching `pattern`, on every master of a cluster (SCAN, never KEYS). */
  async scan(pattern: string): Promise<string[]> {
    await this.ready();
    try {
      const clients: ScanClient[] = [];
      if (this.cluster) {
        const cluster = this.commands as unknown as {
          masters: unknown[];
          nodeClient(node: unknown): Promise<ScanClient>;
        };
        for (const master of cluster.masters) clients.push(await cluster.nodeClient(master));
      } else {
        clients.push(this.commands as unknown as ScanClient);
      }
      const found = new Set<string>();
      for (const client of clients) {
        for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 500 })) {
          for (const key of batch) found.add(key);
        }
      }
      return [...found];
    } catch (error) {
      throw this.translate(error);
    }
  }

  /**
   * A second connection for SUBSCRIBE (a subscribed connection cannot run other commands). On a
   * cluster, PUBLISH reaches every node, so one node's connection hears every event.
   */
  subscriberOptions(): RedisClientOptions {
    const clientOptions = {
      ...(this.options.url ? { url: this.options.url } : {}),
      ...this.options.clientOptions,
      socket: {
        reconnectStrategy: reconnectDelay,
        connectTimeout: 5_000,
        ...this.options.clientOptions?.socket,
      },
    };
    return clientOptions as RedisClientOptions;
  }

  /** Closes the connection; commands still queued fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const connecting = this.connecting;
    this.connecting = undefined;
    if (!connecting) return;
    try {
      await connecting;
    } catch {
      return; // never connected (and already destroyed)
    }
    try {
      if (this.commands.close) await this.commands.close();
      else this.commands.destroy();
    } catch {
      this.commands.destroy();
    }
  }

  /** StoreUnavailableError for a connection failure; a Redis error reply (a bug or a refused command) stays as is. */
  translate(error: unknown): Error {
    if (error instanceof StoreUnavailableError) return error;
    if (error instanceof Error && error.constructor.name.endsWith('ErrorReply')) {
      return new StoreUnavailableError(
        this.displayUrl,
        `Redis refused the command: ${error.message.split('\n')[0]}`,
      );
    }
    return this.unavailable(error);
  }

  private unavailable(error: unknown): StoreUnavailableError {
    const detail = error instanceof Error ? error.message || error.name : String(error);
    // node-redis messages name host and port at most, never the password; redact anyway.
    // No `cause`: a client error object may carry its connection options, password included.
    return new StoreUnavailableError(this.displayUrl, detail.replace(/\/\/[^@\s]*@/g, '//***@'));
  }
}
