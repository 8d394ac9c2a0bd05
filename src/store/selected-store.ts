import { loadConfig } from '../config/config-file.js';
import { resolveHome } from '../home-folder.js';
import { type Logger, silentLogger } from '../logger.js';
import type { CredentialRecord, RecordVersion } from './credential-record.js';
import {
  type CredentialKey,
  type CredentialStore,
  DEFAULT_LOCK_WAIT_MS,
  type LockOptions,
  type PutExpectation,
  type PutResult,
} from './credential-store.js';
import type { Encryption } from './encryption-keys.js';
import { isMoveMarkerKey, type MoveMarker, readMoveMarker } from './move-marker.js';
import { type OpenedStore, openStore } from './open-store.js';
import { StoreMovedError } from './store-moved-error.js';
import { type StoreSpec, storeSpecOf } from './store-spec.js';

/** Options of a SelectedStore. */
export interface SelectedStoreOptions {
  /** The home folder: `home` > MCP_OAUTH_HOME > ~/.mcp-oauth. */
  home?: string;
  /** Where MCP_OAUTH_STORE and the encryption keys are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** The store to use instead of config.yaml's `store:` and MCP_OAUTH_STORE. */
  spec?: StoreSpec;
}

/** How often a process waiting for a move in progress looks at the marker again. */
const MOVE_POLL_MS = 100;
/** A chain of moves longer than this is refused (a loop of markers). */
const MAX_HOPS = 4;

/**
 * The store a process was configured to use (MCP_OAUTH_STORE > config.yaml `store:` > the file
 * store), resolved at first use so the manager's constructor stays synchronous and a file-store
 * process never loads the Redis client. It follows `mcp-oauth store migrate`: every lock it grants
 * first checks the source store's "moved" marker (under that lock, so no refresh of the old store
 * can start once the marker is written); while a move is under way it waits, once done it switches
 * to the new store and tells its watchers about every key there, or refuses with StoreMovedError
 * naming the new URL when it cannot follow. The marker's reserved key never shows in `list`.
 */
export class SelectedStore implements CredentialStore {
  /** The home folder (config.yaml, and the file store's credentials). */
  readonly home: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly logger: Logger;
  private readonly spec: StoreSpec | undefined;
  private opening: Promise<OpenedStore> | undefined;
  private current: OpenedStore | undefined;
  private encryption: Encryption | undefined;
  private readonly listeners = new Set<(key: CredentialKey) => void>();
  private unwatchCurrent: (() => void) | undefined;
  private switching: Promise<void> | undefined;
  private closed = false;

  constructor(options: SelectedStoreOptions = {}) {
    this.home = resolveHome(options.home);
    this.env = options.env ?? process.env;
    this.logger = options.logger ?? silentLogger;
    this.spec = options.spec;
  }

  /** The store in use now (opened at first use). */
  async resolve(): Promise<OpenedStore> {
    if (this.current) return this.current;
    if (!this.opening) {
      this.opening = this.open().then(
        (opened) => {
          this.use(opened);
          return opened;
        },
        (error: unknown) => {
          this.opening = undefined; // a store unreachable now may be reachable at the next call
          throw error;
        },
      );
    }
    return this.opening;
  }

  async get(key: CredentialKey): Promise<CredentialRecord | undefined> {
    return (await this.resolve()).store.get(key);
  }

  async read(
    key: CredentialKey,
  ): Promise<{ record: CredentialRecord | undefined; fingerprint: string | undefined }> {
    const { store } = await this.resolve();
    if (store.read) return store.read(key);
    const record = await store.get(key);
    return { record, fingerprint: await store.fingerprint(key) };
  }

  async put(key: CredentialKey, record: CredentialRecord, expect: PutExpectation): Promise<PutResult> {
    return (await this.resolve()).store.put(key, record, expect);
  }

  async delete(key: CredentialKey, expect?: RecordVersion): Promise<boolean> {
    return (await this.resolve()).store.delete(key, expect);
  }

  async list(): Promise<CredentialKey[]> {
    return (await (await this.resolve()).store.list()).filter((key) => !isMoveMarkerKey(key));
  }

  async fingerprint(key: CredentialKey): Promise<string | undefined> {
    return (await this.resolve()).store.fingerprint(key);
  }

  watch(listener: (key: CredentialKey) => void): () => void {
    this.listeners.add(listener);
    // Subscribes the store once it is open (the listener set is what each store feeds).
    if (this.current) this.attach();
    this.resolve().catch((error: unknown) =>
      this.logger.warn('The credential store could not be opened for change notification', {
        error: (error as Error).message,
      }),
    );
    return () => {
      this.listeners.delete(listener);
    };
  }

  async withLock<T>(key: CredentialKey, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const deadline = Date.now() + (options.waitMs ?? DEFAULT_LOCK_WAIT_MS);
    for (let hop = 0; ; hop++) {
      const opened = await this.resolve();
      const outcome = await opened.store.withLock(
        key,
        async (): Promise<{ value: T } | { marker: MoveMarker }> => {
          // Under the lock: a migration writes its marker before it takes any credential's lock,
          // so a refresh that passes this check finishes before that credential is copied.
          const marker = await readMoveMarker(opened.store);
          return marker ? { marker } : { value: await fn() };
        },
        options,
      );
      if ('value' in outcome) return outcome.value;
      if (hop >= MAX_HOPS) throw new StoreMovedError(outcome.marker.to, outcome.marker.phase);
      await this.follow(opened, outcome.marker, deadline);
    }
  }

  /** For stores whose locks are leases: the lease of the lock held on `key` has `needMs` left. */
  async assertLease(key: CredentialKey, needMs: number): Promise<void> {
    const { store } = await this.resolve();
    await store.assertLease?.(key, needMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unwatchCurrent?.();
    this.unwatchCurrent = undefined;
    const opened = this.current ?? (await this.opening?.catch(() => undefined));
    await opened?.store.close();
  }

  // ---------------------------------------------------------------------------------------------

  /** The configured store, or where its marker says it moved (when this process can follow). */
  private async open(): Promise<OpenedStore> {
    const spec = this.spec ?? storeSpecOf((await loadConfig(this.home, this.env)).store, this.env);
    let opened = await openStore(spec, { home: this.home, env: this.env, logger: this.logger });
    this.encryption = opened.cipher ? { kind: 'key', cipher: opened.cipher } : undefined;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const marker = await readMoveMarker(opened.store).catch(() => undefined);
      const next = marker?.phase === 'moved' ? this.targetOf(marker) : undefined;
      if (!next) break;
      this.logger.info(`The credential store ${opened.displayUrl} moved to ${marker!.to}; using it`);
      const previous = opened;
      opened = await this.openTarget(next, spec);
      await previous.store.close();
    }
    return opened;
  }

  /** Waits out a move in progress, then switches to the new store or throws StoreMovedError. */
  private async follow(opened: OpenedStore, marker: MoveMarker, deadline: number): Promise<void> {
    if (this.current !== opened) return; // another call switched already
    let seen: MoveMarker | undefined = marker;
    while (seen?.phase === 'moving') {
      if (Date.now() >= deadline) throw new StoreMovedError(seen.to, 'moving');
      await new Promise((resolve) => setTimeout(resolve, MOVE_POLL_MS));
      seen = await readMoveMarker(opened.store);
    }
    if (!seen) return; // the move was undone: the store is live again
    const target = this.targetOf(seen);
    if (!target) throw new StoreMovedError(seen.to, 'moved');
    this.switching ??= this.switchTo(opened, target, seen).finally(() => {
      this.switching = undefined;
    });
    await this.switching;
  }

  private async switchTo(from: OpenedStore, target: StoreSpec, marker: MoveMarker): Promise<void> {
    if (this.current !== from) return;
    const opened = await this.openTarget(target, undefined);
    if (this.closed) {
      await opened.store.close();
      return;
    }
    this.logger.info(`The credential store ${from.displayUrl} moved to ${marker.to}; switching to it`);
    this.use(opened);
    // Every credential there may differ from what was cached: tell the watchers (they re-read).
    for (const key of await opened.store.list().catch(() => [])) {
      if (!isMoveMarkerKey(key)) for (const listener of this.listeners) listener(key);
    }
    await from.store.close().catch(() => {});
  }

  /** The spec of a marker's target, or undefined when this process cannot open it. */
  private targetOf(marker: MoveMarker): StoreSpec | undefined {
    if (!marker.target) return undefined;
    if (marker.target === 'file') {
      if (marker.home !== undefined && resolveHome(marker.home) !== this.home) return undefined;
      return { url: 'file', backend: 'file', encryption: undefined, from: 'config' };
    }
    if (!/^rediss?:\/\//i.test(marker.target)) return undefined;
    return {
      url: marker.target,
      backend: 'redis',
      ...(marker.prefix !== undefined ? { prefix: marker.prefix } : {}),
      encryption: undefined,
      from: 'config',
    };
  }

  private openTarget(target: StoreSpec, spec: StoreSpec | undefined): Promise<OpenedStore> {
    // The same key material as the store it leaves: a fleet moves its records, not its keys.
    const encryption: Encryption =
      this.encryption ??
      (spec?.encryption === 'none' || target.backend === 'redis' ? { kind: 'none' } : { kind: 'unset' });
    return openStore(target, { home: this.home, env: this.env, logger: this.logger, encryption });
  }

  private use(opened: OpenedStore): void {
    this.unwatchCurrent?.();
    this.unwatchCurrent = undefined;
    this.current = opened;
    this.opening = Promise.resolve(opened);
    this.attach();
  }

  /** Feeds the listeners from the current store's change notification, once there are listeners. */
  private attach(): void {
    if (this.unwatchCurrent || !this.current || this.listeners.size === 0) return;
    this.unwatchCurrent = this.current.store.watch((key) => {
      if (isMoveMarkerKey(key)) return;
      for (const listener of this.listeners) listener(key);
    });
  }
}
