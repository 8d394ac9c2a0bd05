import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import { RecordKeyMissingError } from './encryption-errors.js';
import type { RecordCipher } from './record-cipher.js';

/** Length of an AES-256 key in bytes. */
export const KEY_BYTES = 32;
/** The first part of every sealed record; a stored value without it is plaintext JSON. */
export const SEALED_PREFIX = 'mcpo-enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The id of a key as written in each record: 12 hex digits of SHA-256 over a fixed label and the
 * key. It tells which key sealed a record (so keys can rotate) without revealing the key.
 */
export function keyIdOf(key: Uint8Array): string {
  return createHash('sha256').update('mcp-oauth-manager record key\0').update(key).digest('hex').slice(0, 12);
}

/** True when `stored` is in the sealed form (whatever key sealed it). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

/** The key id named by a sealed value, or undefined for plaintext. */
export function sealedKeyId(stored: string): string | undefined {
  if (!isSealed(stored)) return undefined;
  return stored.slice(SEALED_PREFIX.length).split(':', 1)[0];
}

/**
 * AES-256-GCM around a record's JSON: `mcpo-enc:v1:<key id>:<iv>:<ciphertext+tag>` (base64url),
 * a fresh random 96-bit IV per seal, the header (prefix and key id) bound as additional data so
 * it cannot be swapped. Seals with the current key; opens with the current key or any previous
 * (read-only) key; passes plaintext JSON through, so a store reads both forms.
 */
export class AesGcmCipher implements RecordCipher {
  /** The id of the key new records are sealed with. */
  readonly currentKeyId: string;
  private readonly current: Buffer;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Uint8Array, previous: readonly Uint8Array[] = []) {
    for (const key of [current, ...previous]) {
      if (key.length !== KEY_BYTES)
        throw new StoreError(`An AES-256 key has ${KEY_BYTES} bytes, not ${key.length}.`);
    }
    this.current = Buffer.from(current);
    this.currentKeyId = keyIdOf(current);
    this.keys.set(this.currentKeyId, this.current);
    for (const key of previous) {
      const id = keyIdOf(key);
      if (!this.keys.has(id)) this.keys.set(id, Buffer.from(key));
    }
  }

  /** The ids of every key this cipher can open with, the current one first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const header = `${SEALED_PREFIX}${this.currentKeyId}:`;
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    cipher.setAAD(Buffer.from(header, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${header}${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  open(stored: string): string {
    const text = stored.trim();
    if (!isSealed(text)) return stored;
    const [id, ivText, bodyText, extra] = text.slice(SEALED_PREFIX.length).split(':');
    if (id === undefined || ivText === undefined || bodyText === undefined || extra !== undefined) {
      throw new StoreError('A sealed credential record is malformed (its header is damaged).');
    }
    const key = this.keys.get(id);
    if (!key) throw new RecordKeyMissingError(id, this.keyIds);
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) {
      throw new StoreError(`A credential record sealed with key ${id} is malformed (truncated).`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(`${SEALED_PREFIX}${id}:`, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch (error) {
      throw new StoreError(
        `A credential record sealed with key ${id} failed authentication (damaged or tampered with).`,
        { cause: error },
      );
    }
  }
}
