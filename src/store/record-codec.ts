import type { $ZodError } from 'zod/v4/core';
import { isSealed, sealedKeyId } from './aes-gcm-cipher.js';
import {
  CREDENTIAL_SCHEMA_VERSION,
  type CredentialRecord,
  credentialRecordSchema,
} from './credential-record.js';
import type { CredentialKey } from './credential-store.js';
import { RecordKeyMissingError } from './encryption-errors.js';
import type { RecordCipher } from './record-cipher.js';

/** What the bytes of a record file turned out to be. */
export type DecodedRecord =
  | { kind: 'ok'; record: CredentialRecord }
  /** Written by a newer build: never validated against this build's schema, never overwritten. */
  | { kind: 'newer'; schemaVersion: number; key: CredentialKey | undefined }
  /** Unreadable. `detail` says why, without quoting the content (it may hold tokens). */
  | { kind: 'corrupt'; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Schema issues named in a message; the rest are counted. */
const MAX_ISSUES_SHOWN = 3;

/** A short description of schema issues: paths and issue codes only, never the values. */
export function describeIssues(error: $ZodError): string {
  const parts = error.issues
    .slice(0, MAX_ISSUES_SHOWN)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.code}`);
  if (error.issues.length > MAX_ISSUES_SHOWN) parts.push(`${error.issues.length - MAX_ISSUES_SHOWN} more`);
  return parts.join('; ');
}

function keyOf(raw: Record<string, unknown>): CredentialKey | undefined {
  if (typeof raw.server !== 'string') return undefined;
  if (raw.account === undefined) return { server: raw.server };
  return typeof raw.account === 'string' ? { server: raw.server, account: raw.account } : undefined;
}

/**
 * Decodes a record file, plaintext JSON or sealed (see AesGcmCipher; opened with `cipher`). The raw
 * `schemaVersion` is read before schema validation, so a record from a newer build is recognised
 * as such rather than called corrupt. With `expected`, a record stored for another server or
 * account is corrupt (it was copied or renamed by hand). A record sealed with a key `cipher` does
 * not hold (or with no cipher) throws RecordKeyMissingError: it is not corrupt, and nothing may
 * move it.
 */
export function decodeRecord(
  bytes: Uint8Array,
  expected?: CredentialKey,
  cipher?: RecordCipher,
): DecodedRecord {
  if (bytes.length === 0) return { kind: 'corrupt', detail: 'the file is empty' };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { kind: 'corrupt', detail: 'the file is not valid UTF-8' };
  }
  if (isSealed(text)) {
    if (!cipher) throw new RecordKeyMissingError(sealedKeyId(text) ?? '(unreadable)', []);
    try {
      text = cipher.open(text);
    } catch (error) {
      if (error instanceof RecordKeyMissingError) throw error;
      return { kind: 'corrupt', detail: (error as Error).message };
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // The SyntaxError quotes the content; it is deliberately not kept.
    return { kind: 'corrupt', detail: 'the file is not valid JSON (truncated or damaged)' };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { kind: 'corrupt', detail: 'the file does not hold a JSON object' };
  }
  const object = raw as Record<string, unknown>;
  const version = object.schemaVersion;
  if (typeof version === 'number' && Number.isInteger(version) && version > CREDENTIAL_SCHEMA_VERSION) {
    return { kind: 'newer', schemaVersion: version, key: keyOf(object) };
  }
  const parsed = credentialRecordSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      kind: 'corrupt',
      detail: `the record does not match the credential schema (${describeIssues(parsed.error)})`,
    };
  }
  const record = parsed.data;
  if (expected && (record.server !== expected.server || record.account !== expected.account)) {
    return { kind: 'corrupt', detail: 'the file holds the record of another server or account' };
  }
  return { kind: 'ok', record };
}

/** The bytes written for a record: pretty JSON (sealed by `cipher` when given), one trailing newline. */
export function encodeRecord(record: CredentialRecord, cipher?: RecordCipher): string {
  if (cipher) return `${cipher.seal(JSON.stringify(record))}\n`;
  return `${JSON.stringify(record, null, 2)}\n`;
}
