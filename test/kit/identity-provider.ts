import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { ClientMetadata, Configuration, KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import { loadOidcProvider } from './authorization-server.js';
import { autoApprove } from './auto-approve.js';
import { ID_JAG_TYP, type TrustedIssuer } from './jwt-bearer-grant.js';
import { closeHttpServer, listenOnLoopback } from './loopback-server.js';
import { OidcMemoryStore } from './oidc-memory-store.js';

/** RFC 8693 §2.1. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3: the subject token is an OpenID Connect ID token. */
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
/** The requested and issued token type of an Identity Assertion JWT Authorization Grant. */
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';

/** The account every login at the kit IdP signs in as (the ID token's and the ID-JAG's `sub`). */
export const IDP_ACCOUNT_ID = 'enterprise-user';

/** A client of the IdP (the MCP client's registration there, e.g. `idps.NAME.client_id`). */
export interface IdentityProviderClient {
  clientId: string;
  /** With a secret: `client_secret_basic` unless authMethod says otherwise; without: `none`. */
  clientSecret?: string;
  authMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
}

export interface IdentityProviderOptions {
  /** ID token lifetime (the enterprise assertion); default 3600. Changeable with setIdTokenTtl. */
  idTokenTtlSeconds?: number;
  /** ID-JAG lifetime; default 300. */
  idJagTtlSeconds?: number;
  /** Default: one client `kit-idp-client` with secret `kit-idp-secret` (client_secret_basic). */
  clients?: IdentityProviderClient[];
  /**
   * The MCP client's `client_id` at each authorization server (by its issuer, the exchange's
   * `audience`), written into the ID-JAG's `client_id` claim (the IdP must know it, SEP-990 §6.1).
   * Default: the client id the exchange authenticated with. More with setClientIdAt.
   */
  clientIdAt?: Record<string, string>;
  /** Audiences (authorization server issuers) the IdP refuses to issue ID-JAGs for (invalid_grant). */
  refuseAudiences?: string[];
}

/** One ID-JAG the IdP issued, as claims. */
export interface IssuedIdJag {
  jti: string;
  sub: string;
  aud: string;
  client_id: string;
  resource?: string;
  scope?: string;
  exp: number;
}

export interface IdentityProviderStats {
  /** Authorization responses that carried a code to the client (logins). */
  authorizations: number;
  /** Token responses that carried an `id_token` (code exchanges and refreshes). */
  idTokensIssued: number;
  /** Every POST to the token endpoint, by grant_type. */
  grantRequests: Record<string, number>;
  /** Every token exchange request, successful or not. */
  exchangeRequests: number;
  /** ID-JAGs issued, in total and by `audience` and by `resource` ('' when absent). */
  exchanges: number;
  exchangesByAudience: Record<string, number>;
  exchangesByResource: Record<string, number>;
  /** Refused exchanges' error descriptions, in order. */
  exchangeFailures: string[];
  /** sha256 (base64url, 16 chars) of every subject token presented, in order: which assertion was reused. */
  subjectTokenDigests: string[];
  idJags: IssuedIdJag[];
}

export interface TestIdentityProvider {
  issuer: string;
  listenUrl: string;
  tokenEndpoint: string;
  /** The public keys of its ID tokens and ID-JAGs. */
  jwks: JSONWebKeySet;
  /** What an authorization server trusting this IdP needs: `{ issuer, jwks }`. */
  trustedIssuer: TrustedIssuer;
  /** The first client's id and secret. */
  clientId: string;
  clientSecret: string | undefined;
  stats: IdentityProviderStats;
  resetStats(): void;
  setIdTokenTtl(seconds: number): void;
  setClientIdAt(audience: string, clientId: string): void;
  /**
   * An ID token as the IdP would issue at a login (what a platform or the conformance suite hands
   * a workload), without the browser: `aud` the client, `sub` IDP_ACCOUNT_ID. Negative
   * ttlSeconds gives an expired one.
   */
  issueIdToken(options?: { clientId?: string; sub?: string; ttlSeconds?: number }): Promise<string>;
  /** sha256 digest (as in stats.subjectTokenDigests) of a token. */
  digest(token: string): string;
  close(): Promise<void>;
}

function emptyStats(): IdentityProviderStats {
  return {
    authorizations: 0,
    idTokensIssued: 0,
    grantRequests: {},
    exchangeRequests: 0,
    exchanges: 0,
    exchangesByAudience: {},
    exchangesByResource: {},
    exchangeFailures: [],
    subjectTokenDigests: [],
    idJags: [],
  };
}

const TOKEN_PATH = '/token';
const FOURTEEN_DAYS = 14 * 24 * 60 * 60;

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 16);
}

/**
 * A small enterprise identity provider (a second oidc-provider issuer on its own port): an
 * authorization-code login with PKCE that the kit's scripted browser completes (auto-approved as
 * IDP_ACCOUNT_ID; any loopback redirect URI of a client is accepted, as for a native app), ID
 * tokens of a configurable lifetime, refresh tokens, and the RFC 8693 token exchange of one of its
 * ID tokens for an ID-JAG (SEP-990, draft-ietf-oauth-identity-assertion-authz-grant), which the kit
 * authorization server's JWT bearer grant accepts when it trusts `trustedIssuer`.
 */
export async function startIdentityProvider(
  options: IdentityProviderOptions = {},
): Promise<TestIdentityProvider> {
  const { default: ProviderClass, errors } = await loadOidcProvider();
  let idTokenTtl = options.idTokenTtlSeconds ?? 3600;
  const idJagTtl = options.idJagTtlSeconds ?? 300;
  const clients = options.clients ?? [{ clientId: 'kit-idp-client', clientSecret: 'kit-idp-secret' }];
  const clientIdAt = new Map(Object.entries(options.clientIdAt ?? {}));
  const refused = new Set(options.refuseAudiences ?? []);
  let stats = emptyStats();
  const store = new OidcMemoryStore();

  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'kit-idp-rs256';
  const signingKey = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
  const verifyKeys = createLocalJWKSet(jwks);

  let provider: Provider | undefined;
  let handle:
    | ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => unknown)
    | undefined;
  const server = createServer((req, res) => {
    if (!provider || !handle) {
      res.writeHead(503).end();
      return;
    }
    if ((req.url ?? '/').startsWith('/interaction/')) {
      autoApprove(provider, req, res, IDP_ACCOUNT_ID).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${error instanceof Error ? error.message : String(error)}`);
      });
      return;
    }
    handle(req, res);
  });
  const issuer = await listenOnLoopback(server);

  const clientMetadata = clients.map(
    (client): ClientMetadata => ({
      client_id: client.clientId,
      ...(client.clientSecret !== undefined ? { client_secret: client.clientSecret } : {}),
      token_endpoint_auth_method:
        client.authMethod ?? (client.clientSecret !== undefined ? 'client_secret_basic' : 'none'),
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE_GRANT_TYPE],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    }),
  );

  const configuration: Configuration = {
    adapter: (model: string) => store.adapterFor(model),
    clients: clientMetadata,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, email: `${sub}@example.com` }) }),
    scopes: ['openid', 'email', 'offline_access'],
    claims: { openid: ['sub'], email: ['email'] },
    routes: { token: TOKEN_PATH },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    expiresWithSession: async () => false,
    pkce: { required: () => true },
    renderError: (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 120,
      IdToken: () => idTokenTtl,
      Interaction: 600,
      Session: FOURTEEN_DAYS,
      Grant: FOURTEEN_DAYS,
      RefreshToken: FOURTEEN_DAYS,
    },
    features: { devInteractions: { enabled: false } },
  };

  const created = new ProviderClass(issuer, configuration);
  provider = created;
  // A native client's loopback redirect may be any port and path (the client picks a free port
  // and its own callback path); oidc-provider alone ignores only the port.
  const clientPrototype = created.Client.prototype as { redirectUriAllowed(uri: string): boolean };
  const exactMatch = clientPrototype.redirectUriAllowed;
  clientPrototype.redirectUriAllowed = function (this: unknown, uri: string) {
    const url = URL.parse(uri);
    if (url?.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost'))
      return true;
    return exactMatch.call(this, uri);
  };

  created.use(async (ctx, next) => {
    await next();
    const oidcCtx = ctx as KoaContextWithOIDC;
    if (oidcCtx.oidc?.route !== 'token') return;
    const grantType = str(oidcCtx.oidc.body?.grant_type) ?? '';
    stats.grantRequests[grantType] = (stats.grantRequests[grantType] ?? 0) + 1;
    if (
      ctx.status === 200 &&
      typeof (ctx.body as { id_token?: unknown } | undefined)?.id_token === 'string'
    ) {
      stats.idTokensIssued += 1;
    }
  });
  created.on('authorization.success', () => {
    stats.authorizations += 1;
  });
  created.on('server_error', (_ctx: unknown, error: Error) => {
    console.error('[test identity provider] server_error:', error);
  });

  const invalidGrant = (description: string) => {
    stats.exchangeFailures.push(description);
    const error = new errors.InvalidGrant();
    error.error_description = description;
    return error;
  };
  const invalidRequest = (description: string) => {
    stats.exchangeFailures.push(description);
    return new errors.InvalidRequest(description);
  };

  // RFC 8693 token exchange: an ID token of this IdP (aud = the authenticated client) for an ID-JAG.
  created.registerGrantType(
    TOKEN_EXCHANGE_GRANT_TYPE,
    async (ctx: KoaContextWithOIDC) => {
      stats.exchangeRequests += 1;
      const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
      const client = ctx.oidc.client;
      if (!client) throw new errors.InvalidClient('client authentication failed');
      const subjectToken = str(params.subject_token);
      if (!subjectToken) throw invalidRequest("missing required parameter 'subject_token'");
      stats.subjectTokenDigests.push(digest(subjectToken));
      if (params.subject_token_type !== ID_TOKEN_TYPE) {
        throw invalidRequest(`subject_token_type must be ${ID_TOKEN_TYPE}`);
      }
      if (params.requested_token_type !== ID_JAG_TOKEN_TYPE) {
        throw invalidRequest(`requested_token_type must be ${ID_JAG_TOKEN_TYPE}`);
      }
      const audience = str(params.audience);
      if (!audience) throw invalidRequest("missing required parameter 'audience'");
      const resource = str(Array.isArray(params.resource) ? params.resource[0] : params.resource);
      let subject: JWTPayload;
      try {
        ({ payload: subject } = await jwtVerify(subjectToken, verifyKeys, {
          issuer,
          audience: client.clientId,
        }));
      } catch (error) {
        throw invalidGrant(
          `the subject token is not valid: ${error instanceof Error ? error.message : error}`,
        );
      }
      if (refused.has(audience)) throw invalidGrant(`no ID-JAG for audience ${audience}`);

      const scope = str(params.scope);
      const now = Math.floor(Date.now() / 1000);
      const claims: IssuedIdJag = {
        jti: randomUUID(),
        sub: subject.sub ?? IDP_ACCOUNT_ID,
        aud: audience,
        client_id: clientIdAt.get(audience) ?? client.clientId,
        ...(resource !== undefined ? { resource } : {}),
        ...(scope !== undefined ? { scope } : {}),
        exp: now + idJagTtl,
      };
      const idJag = await new SignJWT({ ...claims, iat: now })
        .setProtectedHeader({ alg: 'RS256', kid, typ: ID_JAG_TYP })
        .setIssuer(issuer)
        .sign(privateKey);
      stats.exchanges += 1;
      stats.exchangesByAudience[audience] = (stats.exchangesByAudience[audience] ?? 0) + 1;
      stats.exchangesByResource[resource ?? ''] = (stats.exchangesByResource[resource ?? ''] ?? 0) + 1;
      stats.idJags.push(claims);
      ctx.body = {
        access_token: idJag,
        issued_token_type: ID_JAG_TOKEN_TYPE,
        token_type: 'N_A',
        expires_in: idJagTtl,
        ...(scope !== undefined ? { scope } : {}),
      };
    },
    ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope'],
    ['resource'],
  );
  handle = created.callback();

  return {
    issuer,
    listenUrl: issuer,
    tokenEndpoint: `${issuer}${TOKEN_PATH}`,
    jwks,
    trustedIssuer: { issuer, jwks },
    clientId: clients[0]?.clientId ?? '',
    clientSecret: clients[0]?.clientSecret,
    get stats() {
      return stats;
    },
    resetStats() {
      stats = emptyStats();
    },
    setIdTokenTtl(seconds: number) {
      idTokenTtl = seconds;
    },
    setClientIdAt(audience: string, clientId: string) {
      clientIdAt.set(audience, clientId);
    },
    async issueIdToken(opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ email: `${opts.sub ?? IDP_ACCOUNT_ID}@example.com` })
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(issuer)
        .setSubject(opts.sub ?? IDP_ACCOUNT_ID)
        .setAudience(opts.clientId ?? clients[0]?.clientId ?? '')
        .setIssuedAt(now)
        .setExpirationTime(now + (opts.ttlSeconds ?? idTokenTtl))
        .sign(privateKey);
    },
    digest,
    close: () => closeHttpServer(server),
  };
}
