import { createHash } from 'node:crypto';
import { type CredentialKey, keyId } from './credential-store.js';

/** Length of the readable part of a record file name. */
const SLUG_MAX = 40;
/** Hex characters of SHA-256 kept in a record file name (96 bits). */
const HASH_HEX = 24;

/** What a record file name looks like: `<slug>-<24 hex>` (the `.json` extension is added by the store). */
export const RECORD_BASE_NAME = new RegExp(`^[a-z0-9-]{1,${SLUG_MAX}}-[0-9a-f]{${HASH_HEX}}$`);

function slug(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * A safe, collision-free file base name (no extension) for any key: a readable slug of the
 * account and server (lowercase ASCII letters, digits and `-`, at most 40 characters) followed by
 * `-` and a SHA-256 prefix of the exact key identity. The slug is only for people; the hash makes
 * names distinct (`a.b` and `a_b` share a slug, not a hash). Never empty, never `.`/`..`, never a
 * Windows reserved name (the hash suffix is always there), no path separators, at most 65 bytes.
 */
export function fileNameFor(key: CredentialKey): string {
  const readable = key.account === undefined ? slug(key.server) : `${slug(key.account)}-${slug(key.server)}`;
  const trimmed = readable.slice(0, SLUG_MAX).replace(/^-+|-+$/g, '') || 'unnamed';
  const hash = createHash('sha256').update(keyId(key), 'utf8').digest('hex').slice(0, HASH_HEX);
  return `${trimmed}-${hash}`;
}
