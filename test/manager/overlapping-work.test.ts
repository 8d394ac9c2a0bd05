import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CredentialKey,
  type CredentialRecord,
  type CredentialStore,
  type LockOptions,
  LockTimeoutError,
  LoginError,
  MemoryCredentialStore,
  OAuthManager,
} from '../../src/index.js';
import { CREDENTIAL_SCHEMA_VERSION, versionOf } from '../../src/store/credential-record.js';

// Work that overlaps other work: joining another process's login, and a reload overlapping a record
// this process installs. Stores that pause or hold at the right moment play the other party: a
// real second process produces these interleavings only by chance.
const URL_ = 'https://mcp.example.com/mcp';
const managers: OAuthManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

const committedElsewhere = (key: CredentialKey): CredentialRecord => ({
  schemaVersion: CREDENTIAL_SCHEMA_VERSION,
  recordId: randomUUID(),
  generation: 1,
  server: key.server,
  binding: { serverUrl: URL_, resource: URL_, issuer: 'https://as.example.com', clientId: 'c' },
  client: { kind: 'dcr', information: { client_id: 'c' } },
  tokens: {
    accessToken: 'access-token-of-the-other-login',
    tokenType: 'Bearer',
    refreshToken: 'refresh-token-of-the-other-login',
    expiresAt: Date.now() + 3_600_000,
    obtainedAt: Date.now(),
  },
  state: 'valid',
  updatedAt: Date.now(),
});

/** A memory store whose first login-lock try meets another process's login (`onHeld` plays it). */
function storeWithOtherLogin(onHeld: (inner: MemoryCredentialStore, key: CredentialKey) => Promise<void>) {
  const inner = new MemoryCredentialStore();
  let first = true;
  const store: CredentialStore = {
    get: (key) => inner.get(key),
    put: (key, record, expect) => inner.put(key, record, expect),
    delete: (key, expect) => inner.delete(key, expect),
    list: () => inner.list(),
    fingerprint: (key) => inner.fingerprint(key),
    watch: (listener) => inner.watch(listener),
    close: () => inner.close(),
    async withLock<T>(key: CredentialKey, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
      if (options.purpose === 'login' && first) {
        first = false;
        await onHeld(inner, key);
        throw new LockTimeoutError('the login lock', 0);
      }
      return inner.withLock(key, fn, options);
    },
  };
  return store;
}

describe('joining a login running in another process', () => {
  it('its commit and release between our failed try and our next read still count as its success', async () => {
    const store = storeWithOtherLogin(async (inner, key) => {
      const current = await inner.get(key);
      await inner.put(key, committedElsewhere(key), current ? versionOf(current) : null);
    });
    const manager = new OAuthManager({ store, interactive: 'always' });
    managers.push(manager);
    manager.getOrBuildProvider('s', URL_);
    const result = await manager.login('s');
    expect(result.joined).toBe(true);
    expect(result.status.state).toBe('valid');
  });

  it('a cancelled wait ends at once with a LoginError, and nothing changes', async () => {
    let release: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inner = new MemoryCredentialStore();
    let tries = 0;
    const store: CredentialStore = Object.assign(Object.create(inner) as CredentialStore, {
      get: inner.get.bind(inner),
      put: inner.put.bind(inner),
      fingerprint: inner.fingerprint.bind(inner),
      watch: inner.watch.bind(inner),
      list: inner.list.bind(inner),
      delete: inner.delete.bind(inner),
      close: inner.close.bind(inner),
      async withLock<T>(key: CredentialKey, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
        if (options.purpose === 'login' && tries++ === 0) throw new LockTimeoutError('the login lock', 0);
        // The other process keeps the login lock until the test ends.
        if (options.purpose === 'login') await holding;
        return inner.withLock(key, fn, options);
      },
    });
    const manager = new OAuthManager({ store, interactive: 'always' });
    managers.push(manager);
    manager.getOrBuildProvider('s', URL_);
    const controller = new AbortController();
    const prompts: string[] = [];
    const login = manager.login('s', { signal: controller.signal, prompt: (p) => prompts.push(p.kind) });
    await new Promise((r) => setTimeout(r, 20));
    expect(prompts).toEqual(['waiting-for-other-login']);
    controller.abort();
    const error = await login.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    expect((error as Error).message).toMatch(/cancelled while waiting/);
    expect(await inner.get({ server: 's' })).toBeUndefined();
    release();
  });
});

describe('a read that overlaps a record this process installs', () => {
  it('never puts the older record back (a logout during a slow reload stays a logout)', async () => {
    const inner = new MemoryCredentialStore();
    const key = { server: 's' };
    await inner.put(key, committedElsewhere(key), null);
    let gate: Promise<void> | undefined;
    let open: () => void = () => {};
    const store: CredentialStore = {
      async get(k) {
        const record = await inner.get(k);
        // The armed read returns what it read only once the gate opens (a slow disk).
        const waiting = gate;
        gate = undefined;
        if (waiting) await waiting;
        return record;
      },
      put: (k, record, expect) => inner.put(k, record, expect),
      delete: (k, expect) => inner.delete(k, expect),
      list: () => inner.list(),
      fingerprint: (k) => inner.fingerprint(k),
      // No change notifications (a store whose watch is late or down): nothing heals the entry.
      watch: () => () => {},
      withLock: (k, fn, options) => inner.withLock(k, fn, options),
      close: () => inner.close(),
    };
    const manager = new OAuthManager({ store, interactive: 'never' });
    managers.push(manager);
    manager.getOrBuildProvider('s', URL_);
    expect(await manager.accessToken('s')).toBe('access-token-of-the-other-login');

    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const slowStatus = manager.status('s'); // a reload whose read is held at the gate
    await new Promise((r) => setTimeout(r, 10));
    await manager.logout('s'); // reads (ungated), writes the logged-out record, installs it
    open();
    await slowStatus;
    await expect(manager.accessToken('s')).rejects.toThrow(/needs a new login|not logged in/);
  });
});
