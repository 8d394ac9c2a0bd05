import { type FSWatcher, watch as fsWatch } from 'node:fs';
import type { Logger } from '../logger.js';
import { notifyChange } from './change-listeners.js';
import type { CredentialKey } from './credential-store.js';
import { RECORD_BASE_NAME } from './file-names.js';

/** With a live fs.watch, the fingerprint sweep runs on one poll tick in this many. */
const WATCHED_POLL_EVERY = 10;

/** Called with the key of a record that changed. */
export type ChangeListener = (key: CredentialKey) => void;

/** What a ChangeNotifier watches and how; the file store supplies the file access. */
export interface ChangeNotifierOptions {
  /** The folder holding the record files. */
  dir: () => Promise<string>;
  logger: Logger;
  /** Use fs.watch on the folder (low latency). */
  fsWatch: boolean;
  /** Period of the fingerprint poll over known keys; 0 disables it. */
  pollIntervalMs: number;
  /** Bursts of events within this window are delivered once per key. */
  debounceMs: number;
  /** The fingerprint of a record file, by base name (undefined: no file). */
  fingerprint: (baseName: string) => Promise<string | undefined>;
  /** Reads a record file to learn which key it holds (undefined: unreadable or gone). */
  readKey: (baseName: string) => Promise<CredentialKey | undefined>;
}

/**
 * Change notification for a folder of record files, whichever process wrote them: fs.watch on
 * the folder (low latency, where it works) plus a cheap poll of the fingerprints of known keys
 * (where it does not: network file systems, some containers, dropped events). Signals are
 * coalesced per key within `debounceMs`. Neither the watcher nor the timers keep the process
 * alive. A duplicate signal is possible; a lost one is what this avoids.
 */
export class ChangeNotifier {
  private ticksSinceSweep = 0;
  private readonly options: ChangeNotifierOptions;
  /** base name -> key, learnt from every read, write, list and fingerprint. */
  private readonly known = new Map<string, CredentialKey>();
  /** base name -> fingerprint last observed by the poll, or last signalled. */
  private readonly baseline = new Map<string, string | undefined>();
  private readonly listeners = new Set<{ listener: ChangeListener }>();
  private readonly pending = new Set<string>();
  private pendingAll = false;
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private polling = false;
  private started = false;
  /** Bumped by every start and stop: a start that resolves after a later stop/start does nothing. */
  private epoch = 0;
  private closed = false;

  constructor(options: ChangeNotifierOptions) {
    this.options = options;
  }

  /** Records that `baseName` holds `key`; with a fingerprint, sets the poll baseline if none yet. */
  remember(baseName: string, key: CredentialKey, ...fingerprint: [] | [string | undefined]): void {
    if (!this.known.has(baseName)) {
      this.known.set(
        baseName,
        key.account === undefined ? { server: key.server } : { server: key.server, account: key.account },
      );
    }
    if (fingerprint.length === 1 && !this.baseline.has(baseName)) this.baseline.set(baseName, fingerprint[0]);
  }

  /** This process changed `baseName` (write, delete, quarantine): signal it. */
  changed(baseName: string): void {
    this.schedule(baseName);
  }

  /**
   * Adds a listener; with `external`, also starts watching the folder for other processes'
   * writes (stopped again when the last listener leaves). Returns the unsubscribe function.
   */
  subscribe(listener: ChangeListener, external: boolean): () => void {
    if (this.closed) return () => {};
    const entry = { listener };
    this.listeners.add(entry);
    if (external) this.start();
    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Drops every listener and stops watching for good. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const epoch = ++this.epoch;
    this.options
      .dir()
      .then((dir) => {
        if (epoch !== this.epoch || this.closed) return;
        if (this.options.fsWatch) this.startFsWatch(dir);
        if (this.options.pollIntervalMs > 0) {
          this.pollTimer = setInterval(() => void this.poll(), this.options.pollIntervalMs);
          this.pollTimer.unref();
        }
      })
      .catch((error: unknown) => {
        if (epoch !== this.epoch) return;
        this.started = false;
        this.options.logger.warn(
          'Cannot watch the credentials folder; changes by other processes will be missed',
          {
            error: error instanceof Error ? error.message : String(error),
          },
        );
      });
  }

  private startFsWatch(dir: string): void {
    try {
      const watcher = fsWatch(dir, { persistent: false }, (_event, filename) => this.onFsEvent(filename));
      watcher.on('error', (error) => {
        this.options.logger.warn('fs.watch on the credentials folder failed; falling back to polling', {
          error: error.message,
        });
        watcher.close();
        if (this.watcher === watcher) this.watcher = undefined;
      });
      this.watcher = watcher;
    } catch (error) {
      this.options.logger.warn('fs.watch is unavailable for the credentials folder; polling instead', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private stop(): void {
    this.started = false;
    this.epoch += 1;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    if (this.listeners.size === 0 && this.debounceTimer) {
      clearTimeout(this.debounceTimer);
      this.debounceTimer = undefined;
      this.pending.clear();
      this.pendingAll = false;
    }
  }

  private onFsEvent(filename: string | Buffer | null): void {
    if (filename === null) {
      // Some platforms do not say which file changed: check every known key.
      this.pendingAll = true;
      this.armDebounce();
      return;
    }
    const name = filename.toString();
    if (!name.endsWith('.json')) return;
    const base = name.slice(0, -'.json'.length);
    if (RECORD_BASE_NAME.test(base)) this.schedule(base);
  }

  private schedule(baseName: string): void {
    if (this.listeners.size === 0) return;
    this.pending.add(baseName);
    this.armDebounce();
  }

  private armDebounce(): void {
    if (this.debounceTimer || this.closed) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      // One flush at a time; a burst arriving during a flush is picked up by the next one.
      this.flushing = (this.flushing ?? Promise.resolve()).then(() => this.flush()).catch(() => {});
    }, this.options.debounceMs);
    this.debounceTimer.unref();
  }

  private async flush(): Promise<void> {
    const names = [...this.pending];
    this.pending.clear();
    const all = this.pendingAll;
    this.pendingAll = false;
    for (const base of names) {
      let key = this.known.get(base);
      if (!key) {
        key = await this.options.readKey(base).catch(() => undefined);
        if (!key) continue;
        this.remember(base, key);
      }
      const fingerprint = await this.options.fingerprint(base).catch(() => undefined);
      this.baseline.set(base, fingerprint);
      this.emit(key);
    }
    if (all) await this.poll();
  }

  /** Compares the fingerprint of every known key with its baseline; signals the ones that moved. */
  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    // While fs.watch is alive the sweep is only a safety net (coarse or missed events): one tick in
    // WATCHED_POLL_EVERY, so an idle process watching many records costs next to nothing. If the
    // watcher dies, every tick sweeps again.
    if (this.watcher && ++this.ticksSinceSweep < WATCHED_POLL_EVERY) return;
    this.ticksSinceSweep = 0;
    this.polling = true;
    try {
      for (const [base, key] of this.known) {
        if (this.closed) return;
        let fingerprint: string | undefined;
        try {
          fingerprint = await this.options.fingerprint(base);
        } catch {
          continue;
        }
        if (!this.baseline.has(base)) {
          this.baseline.set(base, fingerprint);
        } else if (this.baseline.get(base) !== fingerprint) {
          this.baseline.set(base, fingerprint);
          this.emit(key);
        }
      }
    } finally {
      this.polling = false;
    }
  }

  private emit(key: CredentialKey): void {
    notifyChange(this.listeners, key, this.options.logger);
  }
}
