/**
 * `mcp-oauth-manager/redis`: the credential store shared by a fleet (several machines, a gateway
 * with replicas), for hosts that build their store themselves and pass it to `OAuthManager`. A
 * separate entry so the root import never loads the Redis client.
 */
export { LeaseLostError, StoreUnavailableError } from './errors.js';
export type { RecordCipher } from './store/record-cipher.js';
export { RedisCredentialStore, type RedisCredentialStoreOptions } from './store/redis-credential-store.js';
export { DEFAULT_REDIS_PREFIX } from './store/redis-keys.js';
export { redactStoreUrl } from './store/store-url.js';
