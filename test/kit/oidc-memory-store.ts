import type { Adapter, AdapterPayload } from 'oidc-provider';

// A per-authorization-server store for oidc-provider's models. The built-in
// memory adapter is a process-wide LRU capped at 1000 entries (two test servers
// in one worker would share it, and a load test would evict live refresh
// tokens) and it prints a warning; this one is private, unbounded and lets the
// kit revoke every grant at once.

interface Entry {
  payload: AdapterPayload;
  expiresAt: number; // epoch ms; Infinity when the model has no TTL
}

export class OidcMemoryStore {
  readonly #entries = new Map<string, Entry>();

  adapterFor(model: string): Adapter {
    return new ModelAdapter(model, this);
  }

  get(key: string): AdapterPayload | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  set(key: string, payload: AdapterPayload, expiresInSeconds?: number): void {
    const expiresAt = typeof expiresInSeconds === 'number' ? Date.now() + expiresInSeconds * 1000 : Infinity;
    this.#entries.set(key, { payload, expiresAt });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Keys (`Model:id`) whose payload satisfies `match`, expired ones included. */
  keysWhere(match: (model: string, payload: AdapterPayload) => boolean): string[] {
    const keys: string[] = [];
    for (const [key, { payload }] of this.#entries) {
      if (match(key.slice(0, key.indexOf(':')), payload)) keys.push(key);
    }
    return keys;
  }

  /** Every grant id that any stored artifact (or Grant itself) refers to. */
  grantIds(): Set<string> {
    const ids = new Set<string>();
    for (const [key, { payload }] of this.#entries) {
      if (key.startsWith('Grant:')) ids.add(key.slice('Grant:'.length));
      if (typeof payload.grantId === 'string') ids.add(payload.grantId);
    }
    return ids;
  }
}

class ModelAdapter implements Adapter {
  readonly #model: string;
  readonly #store: OidcMemoryStore;

  constructor(model: string, store: OidcMemoryStore) {
    this.#model = model;
    this.#store = store;
  }

  #key(id: string): string {
    return `${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    this.#store.set(this.#key(id), payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.#store.get(this.#key(id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const [key] = this.#store.keysWhere((model, payload) => model === this.#model && payload.uid === uid);
    return key === undefined ? undefined : this.#store.get(key);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const [key] = this.#store.keysWhere(
      (model, payload) => model === this.#model && payload.userCode === userCode,
    );
    return key === undefined ? undefined : this.#store.get(key);
  }

  async consume(id: string): Promise<void> {
    const payload = this.#store.get(this.#key(id));
    // oidc-provider's reuse detection reads this mark on the next find().
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.#store.delete(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of this.#store.keysWhere(
      (model, payload) => model === this.#model && payload.grantId === grantId,
    )) {
      this.#store.delete(key);
    }
  }
}
