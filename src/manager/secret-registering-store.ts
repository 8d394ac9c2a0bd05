import { registerSecret } from '../logger.js';
import type { CredentialRecord } from '../store/credential-record.js';
import type { CredentialStore } from '../store/credential-store.js';

/**
 * `store` as the manager's parts use it: every record read or written through it has its secrets
 * (access and refresh tokens, a client secret) registered with the redactor (`registerSecret`),
 * whatever the store (file, memory, a host's own). So no log line or error of this process can
 * show a token it only ever read from disk, and a server that echoes a refresh request back finds
 * the refresh token masked.
 */
export function registeringSecrets(store: CredentialStore): CredentialStore {
  const register = (record: CredentialRecord | undefined) => {
    registerSecret(record?.tokens?.accessToken);
    registerSecret(record?.tokens?.refreshToken);
    const secret = (record?.client?.information as { client_secret?: unknown } | undefined)?.client_secret;
    if (typeof secret === 'string') registerSecret(secret);
  };
  return {
    async get(key) {
      const record = await store.get(key);
      register(record);
      return record;
    },
    async put(key, record, expect) {
      register(record);
      const result = await store.put(key, record, expect);
      if (!result.ok) register(result.current);
      return result;
    },
    ...(store.read
      ? {
          read: async (key: Parameters<NonNullable<CredentialStore['read']>>[0]) => {
            const read = await store.read!(key);
            register(read.record);
            return read;
          },
        }
      : {}),
    delete: (key, expect) => store.delete(key, expect),
    list: () => store.list(),
    fingerprint: (key) => store.fingerprint(key),
    watch: (listener) => store.watch(listener),
    withLock: (key, fn, options) => store.withLock(key, fn, options),
    ...(store.assertLease
      ? {
          assertLease: (key: Parameters<CredentialStore['withLock']>[0], needMs: number) =>
            store.assertLease!(key, needMs),
        }
      : {}),
    close: () => store.close(),
  };
}
