import { ConfigError, StoreError, StoreUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AesGcmCipher } from './aes-gcm-cipher.js';
import type { CredentialStore } from './credential-store.js';
import { ENCRYPTION_KEY_ENV, type Encryption, loadEncryption } from './encryption-keys.js';
import { FileCredentialStore } from './file-credential-store.js';
import { MOVE_MARKER_KEY } from './move-marker.js';
import type { StoreSpec } from './store-spec.js';
import { redactStoreUrl } from './store-url.js';

/** A store opened from a StoreSpec, with what was decided on the way. */
export interface OpenedStore {
  store: CredentialStore;
  backend: 'file' | 'redis';
  /** The URL as it may be shown: `file` or the Redis URL without its password. */
  displayUrl: string;
  /** The full URL (`file` or the Redis URL, password included): never print it. */
  url: string;
  prefix: string | undefined;
  /** The cipher records are sealed with, when a key is configured. */
  cipher: AesGcmCipher | undefined;
}

/** What opening a store needs besides its spec. */
export interface OpenStoreOptions {
  /** The home folder (the file store's, and the base of relative key file paths). */
  home: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Use this encryption instead of loading it from the spec and the environment. */
  encryption?: Encryption;
}

/**
 * Opens the store `spec` names. The file store opens without I/O; a Redis store is imported only
 * now (the `redis` package never loads otherwise), refused without a key unless `encryption: none`
 * was written, and reached once, so an unreachable store is StoreUnavailableError naming its URL
 * without the password.
 */
export async function openStore(spec: StoreSpec, options: OpenStoreOptions): Promise<OpenedStore> {
  const encryption = options.encryption ?? (await loadEncryption(spec.encryption, options.env, options.home));
  const cipher = encryption.kind === 'key' ? encryption.cipher : undefined;
  if (spec.backend === 'file') {
    const store = new FileCredentialStore({ home: options.home, logger: options.logger, cipher });
    return { store, backend: 'file', displayUrl: 'file', url: 'file', prefix: undefined, cipher };
  }
  const displayUrl = redactStoreUrl(spec.url);
  if (encryption.kind === 'unset') {
    throw new ConfigError(
      `The shared credential store ${displayUrl} needs an encryption key: set ${ENCRYPTION_KEY_ENV} to the base64 of 32 random bytes (openssl rand -base64 32), or store.encryption.key_file in config.yaml. To store credentials unencrypted, write store.encryption: none in config.yaml.`,
      { key: 'store.encryption' },
    );
  }
  const { RedisCredentialStore } = await import('./redis-credential-store.js');
  const store = new RedisCredentialStore({
    url: spec.url,
    prefix: spec.prefix,
    cipher,
    logger: options.logger,
  });
  try {
    // One round trip: reachability, credentials and ACL at once (and the marker is read anyway).
    await store.fingerprint(MOVE_MARKER_KEY);
  } catch (error) {
    await store.close().catch(() => {});
    if (error instanceof StoreUnavailableError) throw error;
    throw new StoreUnavailableError(
      displayUrl,
      error instanceof StoreError ? error.message : 'connection failed',
      {
        cause: error,
      },
    );
  }
  return { store, backend: 'redis', displayUrl, url: spec.url, prefix: store.prefix, cipher };
}
