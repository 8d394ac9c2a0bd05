import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { KoaContextWithOIDC, default as Provider } from 'oidc-provider';

/** RFC 7523 §2.1: the JWT bearer authorization grant. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The JWT `typ` of an Identity Assertion JWT Authorization Grant (ID-JAG). */
export const ID_JAG_TYP = 'oauth-id-jag+jwt';

/** An issuer of assertions and the public keys its signatures verify with. */
export interface TrustedIssuer {
  issuer: string;
  jwks: JSONWebKeySet;
}

/** One JWT bearer grant request's assertion, decoded, and what the server made of it. */
export interface JwtBearerAssertionRecord {
  /** 'id-jag' when `typ` is oauth-id-jag+jwt, 'workload' otherwise. */
  kind: 'id-jag' | 'workload';
  iss?: string;
  sub?: string;
  jti?: string;
  /** The ID-JAG's `client_id` claim. */
  clientId?: string;
  /** The ID-JAG's `resource` claim. */
  resource?: string;
  /** The client that authenticated the request. */
  requestingClient: string;
  /** (iss, jti) was presented before. */
  replayed: boolean;
  accepted: boolean;
  /** Why it was refused ('' when accepted). */
  error: string;
}

export interface JwtBearerGrantOptions {
  issuer: string;
  tokenEndpoint: string;
  scopes: string[];
  accessTokenTtl: () => number;
  /** The authorization server's own key (published in its JWKS, so the kit MCP server verifies the token). */
  signingKey: { privateKey: CryptoKey; kid: string };
  identityProviders: TrustedIssuer[];
  workloadIssuers: TrustedIssuer[];
  rejectReplays: boolean;
  record(entry: JwtBearerAssertionRecord): void;
}

type Errors = typeof import('oidc-provider')['errors'];

/**
 * Teaches an oidc-provider the RFC 7523 JWT bearer grant: an ID-JAG from a trusted identity
 * provider (SEP-990: `typ` oauth-id-jag+jwt, `aud` this issuer, `client_id` the authenticated
 * client, `resource` the MCP server) or a workload JWT from a trusted issuer (SEP-1933, as the
 * conformance `wif-jwt-bearer` scenario: `aud` this issuer), and answers with a JWT access token
 * for the resource, signed with the server's own key. Client authentication is oidc-provider's
 * (the client's `token_endpoint_auth_method`, `none` included).
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.1
 */
export function registerJwtBearerGrant(
  provider: Provider,
  errors: Errors,
  options: JwtBearerGrantOptions,
): { trust(kind: 'id-jag' | 'workload', issuer: TrustedIssuer): void } {
  const trusted = { 'id-jag': new Map<string, TrustedIssuer>(), workload: new Map<string, TrustedIssuer>() };
  for (const idp of options.identityProviders) trusted['id-jag'].set(idp.issuer, idp);
  for (const workload of options.workloadIssuers) trusted.workload.set(workload.issuer, workload);
  const seen = new Set<string>();

  const invalidGrant = (description: string) => {
    const error = new errors.InvalidGrant();
    error.error_description = description;
    return error;
  };

  const handler = async (ctx: KoaContextWithOIDC): Promise<void> => {
    const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
    const client = ctx.oidc.client;
    if (!client) throw new errors.InvalidClient('client authentication failed');
    const assertion = typeof params.assertion === 'string' ? params.assertion : undefined;
    if (!assertion) throw new errors.InvalidRequest("missing required parameter 'assertion'");

    let claims: JWTPayload;
    let typ: string | undefined;
    try {
      claims = decodeJwt(assertion);
      typ = decodeProtectedHeader(assertion).typ;
    } catch {
      throw invalidGrant('the assertion is not a JWT');
    }
    const kind = typ === ID_JAG_TYP ? 'id-jag' : 'workload';
    const entry: JwtBearerAssertionRecord = {
      kind,
      iss: claims.iss,
      sub: claims.sub,
      jti: claims.jti,
      clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined,
      resource: typeof claims.resource === 'string' ? claims.resource : undefined,
      requestingClient: client.clientId,
      replayed: claims.jti !== undefined && seen.has(`${claims.iss} ${claims.jti}`),
      accepted: false,
      error: '',
    };
    if (claims.jti !== undefined) seen.add(`${claims.iss} ${claims.jti}`);
    options.record(entry);
    const refuse = (description: string) => {
      entry.error = description;
      return invalidGrant(description);
    };

    const issuer = claims.iss === undefined ? undefined : trusted[kind].get(claims.iss);
    if (!issuer) throw refuse(`the ${kind} assertion's issuer ${claims.iss ?? '(none)'} is not trusted`);
    try {
      await jwtVerify(assertion, createLocalJWKSet(issuer.jwks), {
        issuer: issuer.issuer,
        // RFC 7523 §3: the authorization server's issuer (or its token endpoint) identifies it.
        audience: [options.issuer, `${options.issuer}/`, options.tokenEndpoint],
        ...(kind === 'id-jag' ? { typ: ID_JAG_TYP } : {}),
        requiredClaims: kind === 'id-jag' ? ['sub', 'exp', 'jti', 'client_id'] : ['sub', 'exp'],
      });
    } catch (error) {
      throw refuse(
        `the ${kind} assertion does not verify: ${error instanceof Error ? error.message : error}`,
      );
    }
    if (entry.replayed && options.rejectReplays) throw refuse('the assertion was presented before');
    if (kind === 'id-jag' && entry.clientId !== client.clientId) {
      throw refuse(`the ID-JAG was issued to client ${entry.clientId}, not to ${client.clientId}`);
    }

    const requested = Array.isArray(params.resource) ? params.resource[0] : params.resource;
    const resource = typeof requested === 'string' ? requested : entry.resource;
    if (resource === undefined || URL.parse(resource) === null) {
      throw new errors.InvalidTarget('a resource (RFC 8707) is required');
    }
    if (kind === 'id-jag' && entry.resource !== undefined && entry.resource !== resource) {
      throw refuse(`the ID-JAG is for ${entry.resource}, not for ${resource}`);
    }

    const asked = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : undefined;
    const unknown = asked?.filter((scope) => !options.scopes.includes(scope)) ?? [];
    if (unknown.length > 0) {
      entry.error = `unknown scope ${unknown.join(' ')}`;
      throw new errors.InvalidScope('requested scope is not allowed', unknown.join(' '));
    }
    const fromAssertion = typeof claims.scope === 'string' ? claims.scope.split(' ') : undefined;
    const scope = (asked ?? fromAssertion?.filter((s) => options.scopes.includes(s)) ?? options.scopes).join(
      ' ',
    );

    const ttl = options.accessTokenTtl();
    const accessToken = await new SignJWT({ client_id: client.clientId, scope })
      .setProtectedHeader({ alg: 'RS256', kid: options.signingKey.kid, typ: 'at+jwt' })
      .setIssuer(options.issuer)
      .setAudience(resource)
      .setSubject(claims.sub ?? client.clientId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
      .setJti(randomUUID())
      .sign(options.signingKey.privateKey);
    entry.accepted = true;
    ctx.body = { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, scope };
  };

  provider.registerGrantType(
    JWT_BEARER_GRANT_TYPE,
    handler,
    ['assertion', 'scope', 'resource'],
    ['resource'],
  );
  return {
    trust(kind, issuer) {
      trusted[kind].set(issuer.issuer, issuer);
    },
  };
}
