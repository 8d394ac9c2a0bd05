import { createPrivateKey, type KeyObject, randomUUID } from 'node:crypto';
import type { AddClientAuthentication, AuthorizationServerMetadata } from '@modelcontextprotocol/client';
import { readSafeFile } from '../file-safety.js';
import { registerSecret } from '../logger.js';

/** Seconds a client assertion is valid: long enough for one token request, short enough to be useless later. */
export const CLIENT_ASSERTION_LIFETIME_SECONDS = 60;

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A key file that cannot be used: missing, unreadable, unsafe, or not a private key. */
export class PrivateKeyFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`the private key file ${file} ${detail}`, options);
    this.name = 'PrivateKeyFileError';
  }
}

/** A loaded signing key: what jose needs, and what it is known by. */
export interface SigningKey {
  key: KeyObject;
  /** The algorithms this key can sign with, preferred first. */
  algorithms: string[];
  kid: string | undefined;
  file: string;
}

/**
 * Reads a private key from `file`, in PEM (PKCS#8, PKCS#1 or SEC1) or as a JWK (JSON), through the
 * same safety checks as `config.yaml` (a regular file of this user that others cannot write).
 * Read at each mint, so a rotated key is picked up without a restart.
 */
export async function loadSigningKey(file: string, keyId: string | undefined): Promise<SigningKey> {
  let text: string;
  try {
    const read = await readSafeFile(file, 'the private key file');
    if (!read) throw new PrivateKeyFileError(file, 'does not exist; check oauth.private_key_file');
    text = read.bytes.toString('utf8');
  } catch (error) {
    if (error instanceof PrivateKeyFileError) throw error;
    throw new PrivateKeyFileError(file, `cannot be used: ${(error as Error).message}`, { cause: error });
  }
  let key: KeyObject;
  let jwkAlg: string | undefined;
  let jwkKid: string | undefined;
  try {
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as { alg?: unknown; kid?: unknown; d?: unknown };
      if (typeof jwk.d !== 'string') throw new Error('the JWK has no private part (d)');
      jwkAlg = typeof jwk.alg === 'string' ? jwk.alg : undefined;
      jwkKid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
      key = createPrivateKey({ key: jwk as never, format: 'jwk' });
    } else {
      key = createPrivateKey(trimmed);
    }
  } catch (error) {
    throw new PrivateKeyFileError(file, 'does not hold a private key in PEM or JWK form', { cause: error });
  }
  const algorithms = algorithmsFor(key);
  if (algorithms.length === 0)
    throw new PrivateKeyFileError(file, `holds a ${key.asymmetricKeyType} key, which cannot sign JWTs here`);
  const preferred =
    jwkAlg && algorithms.includes(jwkAlg) ? [jwkAlg, ...algorithms.filter((a) => a !== jwkAlg)] : algorithms;
  return { key, algorithms: preferred, kid: keyId ?? jwkKid, file };
}

/** The JWS algorithms a key of this type can sign with, the usual one first. */
function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'PS256', 'RS384', 'RS512', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return ['ES256'];
      if (curve === 'secp384r1') return ['ES384'];
      if (curve === 'secp521r1') return ['ES512'];
      return [];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

/**
 * The algorithm to sign with: the first of the key's algorithms the authorization server lists
 * in `token_endpoint_auth_signing_alg_values_supported`, or the key's usual one when it lists none.
 */
export function chooseAlgorithm(key: SigningKey, metadata: AuthorizationServerMetadata | undefined): string {
  const supported = (metadata as { token_endpoint_auth_signing_alg_values_supported?: unknown } | undefined)
    ?.token_endpoint_auth_signing_alg_values_supported;
  if (!Array.isArray(supported) || supported.length === 0) return key.algorithms[0]!;
  const match = key.algorithms.find((alg) => supported.includes(alg));
  if (!match)
    throw new PrivateKeyFileError(
      key.file,
      `holds a key for ${key.algorithms.join(', ')}, but the authorization server accepts only ${supported.join(', ')}`,
    );
  return match;
}

/**
 * The `private_key_jwt` client authentication of one token request (RFC 7523 §2.2, OIDC Core
 * §9): a JWT signed with the client's key, `iss` = `sub` = the client id, `aud` = the
 * authorization server's issuer (the token endpoint when the metadata names none), a fresh `jti`,
 * a short `exp`, and `kid` in the header when known. An `AddClientAuthentication` for the SDK's
 * token requests; a new assertion at every call, never reused.
 *
 * @see [RFC 7523 §2.2. Using JWTs for Client Authentication](https://www.rfc-editor.org/rfc/rfc7523.html#section-2.2)
 * @see [RFC 7523 §3. JWT Format and Processing Requirements](https://www.rfc-editor.org/rfc/rfc7523.html#section-3)
 */
export function privateKeyJwtAuthentication(input: {
  clientId: string;
  key: SigningKey;
  now: () => number;
}): AddClientAuthentication {
  return async (_headers, params, url, metadata) => {
    const { SignJWT } = await import('jose');
    const alg = chooseAlgorithm(input.key, metadata);
    const audience = metadata?.issuer ?? String(url);
    const issuedAt = Math.floor(input.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg, typ: 'JWT', ...(input.key.kid ? { kid: input.key.kid } : {}) })
      .setIssuer(input.clientId)
      .setSubject(input.clientId)
      .setAudience(audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + CLIENT_ASSERTION_LIFETIME_SECONDS)
      .setJti(randomUUID())
      .sign(input.key.key);
    registerSecret(assertion);
    params.set('client_assertion_type', JWT_BEARER_ASSERTION_TYPE);
    params.set('client_assertion', assertion);
    params.set('client_id', input.clientId);
  };
}
