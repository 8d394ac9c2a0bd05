import type { StoreSettings } from '../config/config-schema.js';
import { ConfigError } from '../errors.js';
import type { EncryptionSetting } from './encryption-keys.js';
import { redactStoreUrl } from './store-url.js';

/** The environment variable that selects the store (a URL), over `store.url` of config.yaml. */
export const STORE_ENV = 'MCP_OAUTH_STORE';

/** Which store a process uses, as configuration and environment decide it. */
export interface StoreSpec {
  /** `file` (the home folder's credentials/), or a `redis://` / `rediss://` URL. */
  url: string;
  backend: 'file' | 'redis';
  /** Redis key prefix (default of the Redis store when unset). */
  prefix?: string;
  encryption: EncryptionSetting;
  /** Where `url` came from. */
  from: 'environment' | 'config' | 'default';
}

/** The backend of a store URL, or a ConfigError naming where it came from (never its password). */
export function backendOf(url: string, where: string): 'file' | 'redis' {
  if (url === 'file') return 'file';
  if (/^rediss?:\/\/./i.test(url)) return 'redis';
  throw new ConfigError(
    `${where} must be file or a redis:// or rediss:// URL (found ${redactStoreUrl(url)}), e.g. ${STORE_ENV}=rediss://user:password@redis.example.com:6380/0`,
    { key: 'store.url' },
  );
}

/** `MCP_OAUTH_STORE` over `store.url`, `file` by default; prefix and encryption from `store:`. */
export function storeSpecOf(settings: StoreSettings | null | undefined, env: NodeJS.ProcessEnv): StoreSpec {
  const fromEnv = env[STORE_ENV];
  const url = fromEnv || settings?.url || 'file';
  const from = fromEnv ? 'environment' : settings?.url ? 'config' : 'default';
  const backend = backendOf(url, fromEnv ? STORE_ENV : 'store.url');
  return {
    url,
    backend,
    ...(settings?.prefix !== undefined ? { prefix: settings.prefix } : {}),
    encryption: settings?.encryption ?? undefined,
    from,
  };
}
