import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { type CredentialKey, keyId } from './credential-store.js';

/** The prefix used when a deployment names none. */
export const DEFAULT_REDIS_PREFIX = 'mcp-oauth:';

/** What a lease lock of a credential is for (see LockOptions.purpose). */
export type LeasePurpose = 'refresh' | 'login';

/** The Redis keys of one credential; they share one hash tag, so one Lua script may touch them all on Redis Cluster. */
export interface CredentialKeys {
  /** Hash: the record body and, beside it, recordId / generation / schemaVersion / key. */
  record: string;
  /** String: the lease of the lock of `purpose` (value: the holder's random token). */
  lock(purpose: LeasePurpose): string;
  /** String: the fencing counter of `purpose`, incremented at every grant of that lock; never expires. */
  fence(purpose: LeasePurpose): string;
}

/**
 * Checks a deployment prefix: printable, no hash-tag braces (they would change which slot a key
 * lands in on Cluster), at most 100 characters. Several deployments share one Redis by prefix.
 */
export function checkRedisPrefix(prefix: string): string {
  if (prefix.length > 100 || /[{}\s]/.test(prefix) || /\p{Cc}/u.test(prefix)) {
    throw new ConfigError(
      'The Redis store prefix must be at most 100 characters without spaces, control characters or braces ({ }); for example "mcp-oauth:" or "team-a:mcp-oauth:".',
      { key: 'store.prefix' },
    );
  }
  return prefix;
}

/**
 * The hash tag of a credential: a digest of its exact identity (keyId), so server and account
 * names (any characters, any length) never land in key names, and two keys never collide.
 */
export function credentialTag(key: CredentialKey): string {
  return createHash('sha256').update(keyId(key)).digest('base64url').slice(0, 22);
}

/** The keys of `key` under `prefix`: `<prefix>{<tag>}:rec`, `:lock:<purpose>`, `:fence:<purpose>`. */
export function credentialKeys(prefix: string, key: CredentialKey): CredentialKeys {
  const base = `${prefix}{${credentialTag(key)}}`;
  return {
    record: `${base}:rec`,
    lock: (purpose) => `${base}:lock:${purpose}`,
    fence: (purpose) => `${base}:fence:${purpose}`,
  };
}

/** The SCAN pattern that matches every record hash of a prefix (glob characters in it escaped). */
export function recordScanPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}{*}:rec`;
}

/** The pub/sub channel of a prefix's change events (one per deployment, not per credential). */
export function changeChannel(prefix: string): string {
  return `${prefix}changes`;
}
