import { randomBytes } from 'node:crypto';
import { type BigIntStats, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fsyncFolder, isTempFileName, tempFileTarget, writeFileAtomic } from '../atomic-file.js';
import { CorruptCredentialError, NewerSchemaError, StoreError } from '../errors.js';
import { acquireFileLock } from '../file-lock.js';
import { readSafeFile } from '../file-safety.js';
import { errnoCode, toStoreError } from '../fs-errors.js';
import { ensureHome, type HomeFolders, homeFolders, resolveHome } from '../home-folder.js';
import { type Logger, silentLogger } from '../logger.js';
import { ChangeNotifier } from './change-notifier.js';
import {
  CREDENTIAL_SCHEMA_VERSION,
  type CredentialRecord,
  credentialRecordSchema,
  type RecordVersion,
  sameVersion,
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
import type { RecordKeyMissingError } from './encryption-errors.js';
import { fileNameFor, RECORD_BASE_NAME } from './file-names.js';
import type { RecordCipher } from './record-cipher.js';
import { decodeRecord, describeIssues, encodeRecord } from './record-codec.js';

/** Options of a FileCredentialStore; every one is optional. */
export interface FileCredentialStoreOptions {
  /** The home folder; default `MCP_OAUTH_HOME`, else `~/.mcp-oauth` (see resolveHome). */
  home?: string;
  logger?: Logger;
  /**
   * Notice changes made by other processes (fs.watch plus the fingerprint poll). Default true.
   * With false, `watch` listeners only hear about this store's own writes.
   */
  watch?: boolean;
  /** Use fs.watch (default true). False leaves only the poll: for tests and network file systems. */
  fsWatch?: boolean;
  /** Period of the fallback fingerprint poll over known keys, ms (default 1 s; 0 disables it). */
  pollIntervalMs?: number;
  /** Default `waitMs` of `withLock`, and the bounded wait of the short write lock (default {@link DEFAULT_LOCK_WAIT_MS}). */
  lockWaitMs?: number;
  /**
   * Encryption at rest: with a cipher, every record written is sealed (existing plaintext records
   * are sealed at their next write); both forms are always read.
   */
  cipher?: RecordCipher;
}

/** Default period of the fallback fingerprint poll. */
const DEFAULT_POLL_INTERVAL_MS = 1_000;
const DEBOUNCE_MS = 10;
/** Age after which a temp-looking file that no record writer made is removed. */
const STRANGE_TEMP_FILE_MAX_AGE_MS = 10 * 60_000;
const RECORD_SUFFIX = '.json';

function fingerprintOf(stats: BigIntStats): string {
  return `${stats.ino}:${stats.mtimeNs}:${stats.size}`;
}

function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** What is in the record file right now, as seen by a writer holding the write lock. */
type CurrentRecord =
  | { state: 'absent' }
  | { state: 'present'; record: CredentialRecord }
  /** It was unreadable and has just been moved aside. */
  | { state: 'quarantined' };

/**
 * The default store: one JSON record file per key in `<home>/credentials/` (files 0600, folders
 * 0700), atomic replacement (temp file, fsync, rename, fsync folder), compare-and-set under a
 * short cross-process write lock, a separate cross-process transaction lock (`withLock`), and
 * change notification across processes (fs.watch plus a fingerprint poll).
 *
 * The constructor does no I/O; the home folder is created and checked on first use (or by
 * `FileCredentialStore.open`), and an insecure home is refused with InsecureHomeError. Record and
 * lock files are opened without following symbolic links; a link, a FIFO, a file of another user
 * or one writable by group or others is refused with UnsafeFileError and left in place (never
 * quarantined, never deleted).
 */
/** Record files `list()` reads at once. */
const LIST_PARALLEL_READS = 16;

export class FileCredentialStore implements CredentialStore {
  readonly home: string;
  readonly credentialsDir: string;
  readonly locksDir: string;
  private readonly logger: Logger;
  private readonly lockWaitMs: number;
  private readonly externalChanges: boolean;
  private readonly notifier: ChangeNotifier;
  private readonly names = new Map<string, string>();
  private readonly cipher: RecordCipher | undefined;
  /** The key ids of the records the last `list()` skipped because their key is not held. */
  unreadableKeyIds: readonly string[] = [];
  private ready: Promise<HomeFolders> | undefined;

  constructor(options: FileCredentialStoreOptions = {}) {
    const folders = homeFolders(resolveHome(options.home));
    this.home = folders.home;
    this.credentialsDir = folders.credentialsDir;
    this.locksDir = folders.locksDir;
    this.logger = options.logger ?? silentLogger;
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
    this.externalChanges = options.watch ?? true;
    this.cipher = options.cipher;
    this.notifier = new ChangeNotifier({
      dir: async () => (await this.ensureReady()).credentialsDir,
      logger: this.logger,
      fsWatch: options.fsWatch ?? true,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      debounceMs: DEBOUNCE_MS,
      fingerprint: (base) => this.fingerprintOfFile(this.pathOf(base)),
      readKey: (base) => this.readKeyOf(base),
    });
  }

  /** Creates a store and its home folder (refusing an insecure one) before returning it. */
  static async open(options: FileCredentialStoreOptions = {}): Promise<FileCredentialStore> {
    const store = new FileCredentialStore(options);
    await store.ensureReady();
    return store;
  }

  /** The path of the record file of `key` (it may not exist). */
  recordPath(key: CredentialKey): string {
    return this.pathOf(this.nameOf(key));
  }

  /**
   * Reads the record file. An unreadable file is confirmed under the write lock, then moved aside
   * (CorruptCredentialError); a newer schema throws NewerSchemaError and is left untouched.
   */
  async get(key: CredentialKey): Promise<CredentialRecord | undefined> {
    return (await this.read(key)).record;
  }

  /** `get`, with the fingerprint of the very bytes it read (from the same open and fstat). */
  async read(
    key: CredentialKey,
  ): Promise<{ record: CredentialRecord | undefined; fingerprint: string | undefined }> {
    await this.ensureReady();
    const base = this.nameOf(key);
    const path = this.pathOf(base);
    const file = await this.readFile(path);
    this.notifier.remember(base, key, file?.fingerprint);
    if (!file) return { record: undefined, fingerprint: undefined };
    const decoded = decodeRecord(file.bytes, key, this.cipher);
    if (decoded.kind === 'ok') return { record: decoded.record, fingerprint: file.fingerprint };
    if (decoded.kind === 'newer')
      throw new NewerSchemaError(key.server, decoded.schemaVersion, CREDENTIAL_SCHEMA_VERSION);
    // Unreadable. Confirm under the write lock (a writer may have just replaced it), then move it aside.
    return this.withWriteLock(key, base, async () => {
      const again = await this.readFile(path);
      if (!again) return { record: undefined, fingerprint: undefined };
      const confirmed = decodeRecord(again.bytes, key, this.cipher);
      if (confirmed.kind === 'ok') return { record: confirmed.record, fingerprint: again.fingerprint };
      if (confirmed.kind === 'newer') {
        throw new NewerSchemaError(key.server, confirmed.schemaVersion, CREDENTIAL_SCHEMA_VERSION);
      }
      const quarantinedTo = await this.quarantine(key, base, confirmed.detail);
      throw new CorruptCredentialError(key.server, confirmed.detail, quarantinedTo);
    });
  }

  /**
   * Compare-and-set under the short write lock, then an atomic replacement of the file. An
   * invalid record, or one of another key, is refused with StoreError (a caller bug); an
   * unreadable current file is moved aside and counts as absent.
   */
  async put(key: CredentialKey, record: CredentialRecord, expect: PutExpectation): Promise<PutResult> {
    await this.ensureReady();
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
    const data = encodeRecord(parsed.data, this.cipher);
    const base = this.nameOf(key);
    const path = this.pathOf(base);
    return this.withWriteLock(key, base, async (): Promise<PutResult> => {
      const current = await this.readCurrent(key, base);
      if (expect === null) {
        // A record that was unreadable has just been moved aside: the key is free again.
        if (current.state === 'present') return { ok: false, current: current.record };
      } else {
        if (current.state !== 'present') return { ok: false, current: undefined };
        if (!sameVersion(current.record, expect)) return { ok: false, current: current.record };
      }
      await writeFileAtomic(path, data);
      this.notifier.remember(base, key);
      this.notifier.changed(base);
      return { ok: true };
    });
  }

  async delete(key: CredentialKey, expect?: RecordVersion): Promise<boolean> {
    await this.ensureReady();
    const base = this.nameOf(key);
    const path = this.pathOf(base);
    return this.withWriteLock(key, base, async () => {
      const current = await this.readCurrent(key, base);
      if (current.state === 'absent') return false;
      // An unreadable record was moved aside (kept, not deleted): gone for an unconditional delete.
      if (current.state === 'quarantined') return expect === undefined;
      if (expect !== undefined && !sameVersion(current.record, expect)) return false;
      try {
        await fs.unlink(path);
      } catch (error) {
        if (isMissing(error)) return false;
        throw toStoreError('delete the credential file', path, error);
      }
      await fsyncFolder(this.credentialsDir);
      this.notifier.remember(base, key);
      this.notifier.changed(base);
      return true;
    });
  }

  /** The keys of the readable record files; corrupt, misplaced and temp files are skipped, not moved. */
  async list(): Promise<CredentialKey[]> {
    await this.ensureReady();
    let names: string[];
    try {
      names = await fs.readdir(this.credentialsDir);
    } catch (error) {
      if (isMissing(error)) return [];
      throw toStoreError('list the credentials folder', this.credentialsDir, error);
    }
    const keys: CredentialKey[] = [];
    const unreadable = new Set<string>();
    // A few reads at a time: one after another, a thousand records cost a thousand round trips
    // to the thread pool; the order does not matter (the keys are sorted at the end).
    const records = names.filter((name) => {
      if (!name.endsWith(RECORD_SUFFIX)) return false;
      // Temp files, quarantined files, strangers.
      return RECORD_BASE_NAME.test(name.slice(0, -RECORD_SUFFIX.length));
    });
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const name = records[next++]!;
        const key = await this.listedKey(name, unreadable);
        if (key) keys.push(key);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_PARALLEL_READS, records.length) }, worker));
    this.unreadableKeyIds = [...unreadable];
    return keys.sort((a, b) => (keyId(a) < keyId(b) ? -1 : keyId(a) > keyId(b) ? 1 : 0));
  }

  /** The key a listed record file names, or undefined (unreadable, corrupt, misplaced: logged). */
  private async listedKey(name: string, unreadable: Set<string>): Promise<CredentialKey | undefined> {
    const base = name.slice(0, -RECORD_SUFFIX.length);
    let file: { bytes: Buffer; fingerprint: string } | undefined;
    try {
      file = await this.readFile(this.pathOf(base));
    } catch (error) {
      this.logger.warn('Skipping an unreadable credential file', {
        file: name,
        error: (error as Error).message,
      });
      return undefined;
    }
    if (!file) return undefined;
    let decoded: ReturnType<typeof decodeRecord>;
    try {
      decoded = decodeRecord(file.bytes, undefined, this.cipher);
    } catch (error) {
      // Sealed with a key this process does not hold: kept, not listed (it cannot be named).
      const keyId = (error as RecordKeyMissingError).keyId;
      unreadable.add(keyId);
      this.logger.warn('Skipping a credential file sealed with a key this process does not hold', {
        file: name,
        keyId,
      });
      return undefined;
    }
    const key =
      decoded.kind === 'ok'
        ? decoded.record.account === undefined
          ? { server: decoded.record.server }
          : { server: decoded.record.server, account: decoded.record.account }
        : decoded.kind === 'newer'
          ? decoded.key
          : undefined;
    if (!key || this.nameOf(key) !== base) {
      this.logger.debug('Skipping a corrupt or misplaced credential file', { file: name });
      return undefined;
    }
    this.notifier.remember(base, key, file.fingerprint);
    return key;
  }

  /** `ino:mtimeNs:size` of the record file (one stat), or undefined when there is none. */
  async fingerprint(key: CredentialKey): Promise<string | undefined> {
    const base = this.nameOf(key);
    const fingerprint = await this.fingerprintOfFile(this.pathOf(base));
    this.notifier.remember(base, key, fingerprint);
    return fingerprint;
  }

  watch(listener: (key: CredentialKey) => void): () => void {
    return this.notifier.subscribe(listener, this.externalChanges);
  }

  /** A kernel lock on `locks/<name>.txn` (or `.login`); `staleMs` is not needed, see LockOptions. */
  async withLock<T>(key: CredentialKey, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const { locksDir } = await this.ensureReady();
    const base = this.nameOf(key);
    const suffix = options.purpose === 'login' ? 'login' : 'txn';
    const release = await acquireFileLock(join(locksDir, `${base}.${suffix}`), {
      waitMs: options.waitMs ?? this.lockWaitMs,
      logger: this.logger,
      what: `the credential of MCP server '${key.server}'`,
    });
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  async close(): Promise<void> {
    this.notifier.close();
  }

  // ---------------------------------------------------------------------------------------------

  private ensureReady(): Promise<HomeFolders> {
    if (!this.ready) {
      this.ready = ensureHome(this.home).then(async (folders) => {
        await this.sweepTempFiles();
        return folders;
      });
      // A refused or failed home is checked again on the next call (the user may fix it meanwhile).
      this.ready.catch(() => {
        this.ready = undefined;
      });
    }
    return this.ready;
  }

  /**
   * Removes temp files left by writers that died between creating and renaming them (they are
   * never a record, the record is only ever replaced by rename, but they hold a whole record,
   * tokens included). Runs at the first use of every store, so the next process to start sweeps
   * them. A record's temp file is only ever written under that record's write lock, so "is its
   * writer gone?" is exactly "can the write lock be taken now?": the kernel drops the lock when
   * its holder dies, whatever pid it had, and a live writer (in this process, another process or
   * another container on the same kernel) still holds it and keeps its file. The writer's pid in
   * the name is not used: pids are reused and are per namespace. Temp files that no record
   * writer could have made are left to the old rule (older than 10 minutes).
   */
  private async sweepTempFiles(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.credentialsDir);
    } catch {
      return;
    }
    const orphans = new Map<string, string[]>();
    const strangers: string[] = [];
    for (const name of names) {
      if (!isTempFileName(name)) continue;
      const target = tempFileTarget(name);
      const base = target?.endsWith(RECORD_SUFFIX) ? target.slice(0, -RECORD_SUFFIX.length) : undefined;
      if (base !== undefined && RECORD_BASE_NAME.test(base))
        orphans.set(base, [...(orphans.get(base) ?? []), name]);
      else strangers.push(name);
    }
    for (const [base, temps] of orphans) {
      let release: (() => Promise<void>) | undefined;
      try {
        // No wait: a held lock means a live writer; its file is swept by a later start if it dies.
        release = await acquireFileLock(join(this.locksDir, `${base}.write`), {
          waitMs: 0,
          logger: this.logger,
          what: 'a credential file (temp file sweep)',
        });
        // Every name was listed before the lock was taken and is never reused: its writer is done.
        for (const name of temps) await fs.unlink(join(this.credentialsDir, name)).catch(() => {});
        this.logger.debug('Removed temp files of a writer that died mid-write', { count: temps.length });
      } catch {
        // Held (a live writer) or refused (a hostile lock file): leave them.
      } finally {
        await release?.();
      }
    }
    const cutoff = Date.now() - STRANGE_TEMP_FILE_MAX_AGE_MS;
    for (const name of strangers) {
      const path = join(this.credentialsDir, name);
      try {
        if ((await fs.lstat(path)).mtimeMs < cutoff) await fs.unlink(path);
      } catch {
        // Best effort: another process may be sweeping too.
      }
    }
  }

  private nameOf(key: CredentialKey): string {
    const identity = keyId(key);
    let name = this.names.get(identity);
    if (name === undefined) {
      name = fileNameFor(key);
      this.names.set(identity, name);
    }
    return name;
  }

  private pathOf(base: string): string {
    return join(this.credentialsDir, `${base}${RECORD_SUFFIX}`);
  }

  private async fingerprintOfFile(path: string): Promise<string | undefined> {
    try {
      // lstat: a planted link is judged (and refused) by the read, not followed here.
      return fingerprintOf(await fs.lstat(path, { bigint: true }));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw toStoreError('inspect the credential file', path, error);
    }
  }

  /**
   * The bytes of a record file and the fingerprint of exactly those bytes; undefined when missing.
   * Opened without following a symbolic link and without blocking on a FIFO; a link, a FIFO or any
   * other non-regular file, a file of another user, or one group or others can write is refused
   * with UnsafeFileError naming the fix. Such a file is neither read nor quarantined: it is not an
   * unreadable record of ours but something put there, so it stays for its owner to look at.
   */
  private async readFile(path: string): Promise<{ bytes: Buffer; fingerprint: string } | undefined> {
    const file = await readSafeFile(path, 'the credential file');
    return file && { bytes: file.bytes, fingerprint: fingerprintOf(file.stats) };
  }

  /** For change notification: which key a record file holds (only if its name matches that key). */
  private async readKeyOf(base: string): Promise<CredentialKey | undefined> {
    const file = await this.readFile(this.pathOf(base));
    if (!file) return undefined;
    let decoded: ReturnType<typeof decodeRecord>;
    try {
      decoded = decodeRecord(file.bytes, undefined, this.cipher);
    } catch {
      return undefined; // sealed with a key not held: a read of the key names it
    }
    const key =
      decoded.kind === 'ok'
        ? { server: decoded.record.server, account: decoded.record.account }
        : decoded.kind === 'newer'
          ? decoded.key
          : undefined;
    if (!key) return undefined;
    const clean = key.account === undefined ? { server: key.server } : key;
    return this.nameOf(clean) === base ? clean : undefined;
  }

  /** Under the write lock: the current record. Newer schema throws; unreadable is moved aside. */
  private async readCurrent(key: CredentialKey, base: string): Promise<CurrentRecord> {
    const file = await this.readFile(this.pathOf(base));
    if (!file) return { state: 'absent' };
    const decoded = decodeRecord(file.bytes, key, this.cipher);
    if (decoded.kind === 'ok') return { state: 'present', record: decoded.record };
    if (decoded.kind === 'newer')
      throw new NewerSchemaError(key.server, decoded.schemaVersion, CREDENTIAL_SCHEMA_VERSION);
    await this.quarantine(key, base, decoded.detail);
    return { state: 'quarantined' };
  }

  /** Moves an unreadable record file aside (never deletes it); call with the write lock held. */
  private async quarantine(key: CredentialKey, base: string, detail: string): Promise<string> {
    const from = this.pathOf(base);
    const to = join(
      this.credentialsDir,
      `${base}.corrupt-${Date.now()}-${randomBytes(4).toString('hex')}${RECORD_SUFFIX}`,
    );
    try {
      await fs.rename(from, to);
    } catch (error) {
      throw toStoreError('move the unreadable credential file aside from', from, error);
    }
    await fsyncFolder(this.credentialsDir);
    this.logger.warn(
      `The stored credential for MCP server '${key.server}' was unreadable and was moved aside`,
      {
        reason: detail,
        keptAt: to,
      },
    );
    this.notifier.remember(base, key);
    this.notifier.changed(base);
    return to;
  }

  private async withWriteLock<T>(key: CredentialKey, base: string, fn: () => Promise<T>): Promise<T> {
    const release = await acquireFileLock(join(this.locksDir, `${base}.write`), {
      waitMs: this.lockWaitMs,
      logger: this.logger,
      what: `the credential file of MCP server '${key.server}'`,
    });
    try {
      return await fn();
    } finally {
      await release();
    }
  }
}
