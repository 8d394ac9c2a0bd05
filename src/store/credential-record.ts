// zod/mini: the tree-shakable API over the same core, so a process that only reads a record
// (`mcp-oauth token`) parses ~20 KB of zod instead of ~450 KB at start.
import * as z from 'zod/mini';

/** The schema version this build writes. A record with a higher version is never overwritten. */
export const CREDENTIAL_SCHEMA_VERSION = 1;

/** The largest epoch ms a Date can represent (ECMA-262 §21.4.1.22). */
const MAX_DATE_MS = 8.64e15;

/** How the OAuth client identity was obtained. */
export type ClientKind = 'preregistered' | 'cimd' | 'dcr';

const tokensSchema = z.looseObject({
  accessToken: z.string().check(z.minLength(1)),
  tokenType: z._default(z.string(), 'Bearer'),
  refreshToken: z.optional(z.string().check(z.minLength(1))),
  /** Granted scope (space-delimited), as last reported by the authorization server. */
  scope: z.optional(z.string()),
  /**
   * Absolute expiry, epoch ms; null when unknown (no usable `expires_in`). A stored value beyond
   * what a Date can hold (older builds wrote `expires_in: 1e20` as is) reads as unknown, so
   * nothing that formats it can throw a RangeError.
   */
  expiresAt: z.pipe(
    z.nullable(z.int()),
    z.transform((value: number | null) => (value !== null && Math.abs(value) > MAX_DATE_MS ? null : value)),
  ),
  /** When this access token was obtained, epoch ms (to bound the refresh skew to half the lifetime). */
  obtainedAt: z.int(),
});

const clientSchema = z.looseObject({
  kind: z.enum(['preregistered', 'cimd', 'dcr']),
  /** The client information as the SDK uses it (RFC 7591 response or configured values). */
  information: z.looseObject({ client_id: z.string().check(z.minLength(1)) }),
  /** The redirect URI registered for this client (a DCR client keeps its port). */
  redirectUri: z.optional(z.string()),
  /** When the authorization server rejected this client (invalid_client): the next login registers again. */
  rejectedAt: z.optional(z.int()),
});

const discoverySchema = z.looseObject({
  authorizationServerUrl: z.string(),
  resourceMetadataUrl: z.optional(z.string()),
  resourceMetadata: z.optional(z.looseObject({})),
  authorizationServerMetadata: z.optional(z.looseObject({})),
});

/**
 * Scopes the authorization server did not grant when a step-up asked for them: no new step-up for
 * them before `until` (epoch ms), in any process. Malformed, it reads as absent (a note is
 * advisory; it never makes the record unreadable).
 */
const refusedScopesSchema = z.catch(
  z.optional(
    z.looseObject({
      scopes: z.array(z.string()),
      /** When the authorization server last left them out of a grant, epoch ms. */
      at: z.int(),
      until: z.int(),
    }),
  ),
  undefined,
);

/** The schema of a stored credential record (what a record file holds, and what `put` accepts). */
export const credentialRecordSchema = z.looseObject({
  schemaVersion: z.literal(CREDENTIAL_SCHEMA_VERSION),
  /** Never repeats: a new id at every login. Compare-and-set keys on (recordId, generation). */
  recordId: z.string().check(z.minLength(1)),
  /** Incremented on every write of this record. */
  generation: z.int().check(z.nonnegative()),
  server: z.string(),
  account: z.optional(z.string()),
  /** A token is never sent to a server whose URL, resource or issuer differs from this. */
  binding: z.looseObject({
    serverUrl: z.string(),
    resource: z.optional(z.string()),
    issuer: z.optional(z.string()),
    clientId: z.optional(z.string()),
  }),
  client: z.optional(clientSchema),
  tokens: z.optional(tokensSchema),
  discovery: z.optional(discoverySchema),
  state: z.enum(['valid', 'needs_reauth']),
  /** Why the record needs a new login (no secrets). */
  reauthReason: z.optional(z.string()),
  /** Added without a schema bump: older builds keep it (loose object) and ignore it. */
  refusedScopes: refusedScopesSchema,
  updatedAt: z.int(),
});

/** One stored credential: tokens, the client that obtained them, and what they are bound to. */
export type CredentialRecord = z.infer<typeof credentialRecordSchema>;
/** The tokens of a record, with absolute times. */
export type StoredTokens = z.infer<typeof tokensSchema>;
/** The OAuth client identity a record's tokens were issued to. */
export type StoredClient = z.infer<typeof clientSchema>;
/** The discovery results kept with a record, so a refresh needs no discovery round trip. */
export type StoredDiscovery = z.infer<typeof discoverySchema>;

/** The identity of one version of a record: what compare-and-set compares. */
export interface RecordVersion {
  recordId: string;
  generation: number;
}

/** The version of `record`, to pass as the expectation of the next compare-and-set. */
export function versionOf(record: CredentialRecord): RecordVersion {
  return { recordId: record.recordId, generation: record.generation };
}

/** True when `a` and `b` are the same version of the same login (two undefined are equal). */
export function sameVersion(a: RecordVersion | undefined, b: RecordVersion | undefined): boolean {
  if (!a || !b) return a === b;
  return a.recordId === b.recordId && a.generation === b.generation;
}
