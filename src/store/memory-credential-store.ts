import { Mutex, withTimeout } from 'async-mutex';
import { LockTimeoutError, StoreError } from '../errors.js';
import {
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
import { describeIssues } from './record-codec.js';

/** Options of a MemoryCredentialStore. */
export interface MemoryCredentialStoreOptions {
  /** Default `waitMs` of `withLock` (default {@link DEFAULT_LOCK_WAIT_MS}). */
  lockWaitMs?: number;
}

function copyKey(key: CredentialKey): CredentialKey {
  return key.account === undefined ? { server: key.server } : { server: key.server, account: key.account };
}

/**
 * A store in memory, for tests and for hosts that embed their own persistence. Same
 * compare-and-set semantics as the file store; records are deep-copied in and out, so callers
 * cannot change stored state; `watch` fires after a microtask on put and delete; `withLock` is an
 * in-process mutex per key (not re-entrant); `fingerprint` is `recordId:generation`.
 */
export class MemoryCredentialStore implements CredentialStore {
  private readonly records = new Map<string, { key: CredentialKey; record: CredentialRecord }>();
  private readonly listeners = new Set<{ listener: (key: CredentialKey) => void }>();
  private readonly mutexes = new Map<string, { mutex: Mutex; users: number }>();
  private readonly lockWaitMs: number;
  private closed = false;

  constructor(options: MemoryCredentialStoreOptions = {}) {
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  }

  async get(key: CredentialKey): Promise<CredentialRecord | undefined> {
    const entry = this.records.get(keyId(key));
    return entry ? structuredClone(entry.record) : undefined;
  }

  async put(key: CredentialKey, record: CredentialRecord, expect: PutExpectation): Promise<PutResult> {
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
    const id = keyId(key);
    const current = this.records.get(id)?.record;
    if (expect === null) {
      if (current) return { ok: false, current: structuredClone(current) };
    } else {
      if (!current) return { ok: false, current: undefined };
      if (!sameVersion(current, expect)) return { ok: false, current: structuredClone(current) };
    }
    // safeParse already returned a fresh object; clone anyway so nothing is shared with the caller.
    this.records.set(id, { key: copyKey(key), record: structuredClone(parsed.data) });
    this.signal(key);
    return { ok: true };
  }

  async delete(key: CredentialKey, expect?: RecordVersion): Promise<boolean> {
    const id = keyId(key);
    const current = this.records.get(id)?.record;
    if (!current) return false;
    if (expect !== undefined && !sameVersion(current, expect)) return false;
    this.records.delete(id);
    this.signal(key);
    return true;
  }

  async list(): Promise<CredentialKey[]> {
    return [...this.records.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) => copyKey(entry.key));
  }

  async fingerprint(key: CredentialKey): Promise<string | undefined> {
    const record = this.records.get(keyId(key))?.record;
    return record ? `${record.recordId}:${record.generation}` : undefined;
  }

  watch(listener: (key: CredentialKey) => void): () => void {
    if (this.closed) return () => {};
    const entry = { listener };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  async withLock<T>(key: CredentialKey, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const id = `${options.purpose ?? 'refresh'}:${keyId(key)}`;
    const waitMs = options.waitMs ?? this.lockWaitMs;
    let entry = this.mutexes.get(id);
    if (!entry) {
      entry = { mutex: new Mutex(), users: 0 };
      this.mutexes.set(id, entry);
    }
    entry.users += 1;
    try {
      const what = `the credential of MCP server '${key.server}'`;
      const release = await withTimeout(entry.mutex, waitMs, new LockTimeoutError(what, waitMs)).acquire();
      try {
        return await fn();
      } finally {
        release();
      }
    } finally {
      entry.users -= 1;
      if (entry.users === 0) this.mutexes.delete(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  private signal(key: CredentialKey): void {
    const copy = copyKey(key);
    queueMicrotask(() => {
      for (const { listener } of [...this.listeners]) {
        try {
          listener(copyKey(copy));
        } catch {
          // A listener's failure is its own; the other listeners still hear about the change.
        }
      }
    });
  }
}
