import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { decodeJwt, exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose';
import type { ClientMetadata, Configuration, KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import { autoApprove } from './auto-approve.js';
import {
  type JwtBearerAssertionRecord,
  registerJwtBearerGrant,
  type TrustedIssuer,
} from './jwt-bearer-grant.js';
import { closeHttpServer, listenOnLoopback } from './loopback-server.js';
import { OidcMemoryStore } from './oidc-memory-store.js';

export interface AuthorizationServerOptions {
  /** Access token lifetime; default 3600. Changeable later with setAccessTokenTtl. */
  accessTokenTtlSeconds?: number;
  /** Refresh token lifetime; default 14 days. */
  refreshTokenTtlSeconds?: number;
  /** Public issuer URL when served behind the fault proxy; default http://127.0.0.1:<port>. */
  issuer?: string;
  /** Resource scopes; default ['mcp:read', 'mcp:write']. */
  scopes?: string[];
  /** RFC 7009 revocation endpoint; default true. */
  revocation?: boolean;
  /** RFC 8628 device authorization grant; default true. */
  deviceFlow?: boolean;
  /** List (and accept) `offline_access` in `scopes_supported`; default true. */
  offlineAccess?: boolean;
  /**
   * RFC 7591 dynamic client registration: 'enabled' (default); 'absent': the metadata has no
   * `registration_endpoint`; 'not-found': it is advertised but answers 404.
   */
  registration?: 'enabled' | 'absent' | 'not-found';
  /**
   * A registration policy on redirect URIs: a registration with a redirect URI for which this
   * returns a text is refused with 400 `invalid_redirect_uri` and that text as
   * `error_description` (RFC 7591 §3.2.2). oidc-provider may check it again when it loads
   * a client registered earlier (it caches loaded ones), so a policy changed mid-test can refuse
   * that client too. Default: every URI oidc-provider accepts.
   */
  refuseRedirectUri?: (redirectUri: string) => string | undefined;
  /**
   * Enables OAuth Client ID Metadata Documents (the metadata then says
   * `client_id_metadata_document_supported`): an https `client_id` is resolved by this, in
   * memory (undefined answers 404), so no request leaves the machine. Default: no CIMD.
   */
  clientIdMetadataDocument?: (clientId: string) => Record<string, unknown> | undefined;
  /**
   * Pre-registered clients (oidc-provider client metadata), e.g. from {@link machineClient}: a
   * `client_credentials` client authenticating with a secret or `private_key_jwt` (its `jwks`).
   */
  clients?: ClientMetadata[];
  /**
   * Issuers whose ID-JAGs (`typ: oauth-id-jag+jwt`) the RFC 7523 JWT bearer grant accepts, e.g.
   * a kit identity provider's `{ issuer, jwks }`. More with trustIdentityProvider().
   */
  trustedIdentityProviders?: TrustedIssuer[];
  /** Issuers whose workload JWTs (any other `typ`) the JWT bearer grant accepts. */
  trustedWorkloadIssuers?: TrustedIssuer[];
  /** 'reject': a JWT bearer assertion whose (iss, jti) was presented before gets invalid_grant. Default 'allow' (a platform's workload token is presented until it rotates). */
  assertionReplay?: 'allow' | 'reject';
}

/** The claims of a `private_key_jwt` client assertion (RFC 7523 §3), as the token endpoint received it. */
export interface ClientAssertionRecord {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  jti?: string;
  /** The response's status: 200, or 401 when oidc-provider refused it (bad key, replayed jti...). */
  status: number;
  /** The error oidc-provider answered with ('' when accepted). */
  error: string;
}

export interface AuthorizationServerStats {
  /** Every POST to the token endpoint. */
  tokenRequests: number;
  /** Successful authorization_code exchanges. */
  authorizationCodeGrants: number;
  /** Every token request with grant_type=refresh_token, successful or not. */
  refreshRequests: number;
  refreshSuccesses: number;
  /** Every token endpoint response with error=invalid_grant. */
  invalidGrant: number;
  /** Successful dynamic client registrations. */
  registrations: number;
  /** Successful revocation requests. */
  revocations: number;
  /** Authorization responses that carried a code to the client. */
  authorizations: number;
  /** Every refresh_token value presented to the token endpoint, in order. */
  refreshTokensSeen: string[];
  /** The RFC 8707 `resource` of every refresh request ('' when absent), in order. */
  refreshResources: string[];
  /** Every token request by `grant_type` (successful or not). */
  grantRequests: Record<string, number>;
  /** Successful token responses by `grant_type`. */
  grantSuccesses: Record<string, number>;
  /** Every `client_assertion` presented (private_key_jwt), decoded, in order. */
  clientAssertions: ClientAssertionRecord[];
  /** Client assertions whose (iss, jti) had been presented before (oidc-provider refuses them). */
  replayedClientAssertions: number;
  /** Every JWT bearer grant assertion (ID-JAG or workload JWT), in order. */
  jwtBearerAssertions: JwtBearerAssertionRecord[];
}

export interface TestAuthorizationServer {
  /** The issuer identifier (what the metadata says). */
  issuer: string;
  /** Its token endpoint (under the issuer). */
  tokenEndpoint: string;
  /** Trusts one more issuer of ID-JAGs for the JWT bearer grant (e.g. an IdP started later). */
  trustIdentityProvider(idp: TrustedIssuer): void;
  /** Trusts one more issuer of workload JWTs for the JWT bearer grant. */
  trustWorkloadIssuer(issuer: TrustedIssuer): void;
  /** Where it actually listens (differs from issuer behind a proxy). */
  listenUrl: string;
  stats: AuthorizationServerStats;
  resetStats(): void;
  setAccessTokenTtl(seconds: number): void;
  /** Revoke every grant: every refresh token then gets invalid_grant. */
  revokeAllGrants(): Promise<void>;
  /** Forgets a registered client (a dead DCR registration): its requests then fail with invalid_client. */
  deleteClient(clientId: string): void;
  /**
   * Grants `count` refresh tokens to the registered client `clientId` for `resource` (and its
   * scopes) as a login by TEST_ACCOUNT_ID would, through oidc-provider's own Grant and
   * RefreshToken models, without the browser round trips: for tests that need many logged-in
   * accounts. Each is a separate grant, refreshed (and rotated) like any other.
   */
  issueRefreshTokens(clientId: string, resource: string, count: number): Promise<string[]>;
  close(): Promise<void>;
}

/** The account every auto-approved login signs in as (the JWT `sub`). */
export const TEST_ACCOUNT_ID = 'test-user';

/** The token endpoint's path under the issuer (fixed, so tests can name it). */
export const TOKEN_PATH = '/token';

/** oidc-provider's registration endpoint path under the issuer. */
const REGISTRATION_PATH = '/reg';

const DEFAULT_SCOPES = ['mcp:read', 'mcp:write'];
const FOURTEEN_DAYS = 14 * 24 * 60 * 60;

function emptyStats(): AuthorizationServerStats {
  return {
    tokenRequests: 0,
    authorizationCodeGrants: 0,
    refreshRequests: 0,
    refreshSuccesses: 0,
    invalidGrant: 0,
    registrations: 0,
    revocations: 0,
    authorizations: 0,
    refreshTokensSeen: [],
    refreshResources: [],
    grantRequests: {},
    grantSuccesses: {},
    clientAssertions: [],
    replayedClientAssertions: 0,
    jwtBearerAssertions: [],
  };
}

/**
 * Metadata of a pre-registered machine client (no redirect URIs): the `client_credentials` grant
 * (and the JWT bearer grant where `grantTypes` says so), authenticating with `client_secret_basic`,
 * `client_secret_post` (a `secret`), `private_key_jwt` (the public `jwks`) or `none`.
 */
export function machineClient(options: {
  clientId: string;
  authMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  secret?: string;
  jwks?: JSONWebKeySet;
  /** Default ['client_credentials']. */
  grantTypes?: string[];
}): ClientMetadata {
  return {
    client_id: options.clientId,
    ...(options.secret !== undefined ? { client_secret: options.secret } : {}),
    ...(options.jwks ? { jwks: options.jwks } : {}),
    token_endpoint_auth_method: options.authMethod,
    grant_types: options.grantTypes ?? ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
}

type OidcProviderModule = typeof import('oidc-provider');
let oidcProviderModule: Promise<OidcProviderModule> | undefined;

// oidc-provider 9 prints "Unsupported runtime" on Node 20 when its module is
// first evaluated; the kit runs on Node 20 on purpose, so drop that one line.
export function loadOidcProvider(): Promise<OidcProviderModule> {
  oidcProviderModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
      warn(...args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return oidcProviderModule;
}

function isHttpUrl(value: string): boolean {
  const url = URL.parse(value);
  return url !== null && (url.protocol === 'http:' || url.protocol === 'https:');
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export async function startAuthorizationServer(
  options: AuthorizationServerOptions = {},
): Promise<TestAuthorizationServer> {
  const { default: ProviderClass, errors } = await loadOidcProvider();
  const scopes = options.scopes ?? DEFAULT_SCOPES;
  const refreshTtl = options.refreshTokenTtlSeconds ?? FOURTEEN_DAYS;
  let accessTtl = options.accessTokenTtlSeconds ?? 3600;
  let stats = emptyStats();
  const store = new OidcMemoryStore();

  // Static keys: oidc-provider otherwise signs with development keys and warns.
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'kit-rs256', alg: 'RS256', use: 'sig' };

  let provider: Provider | undefined;
  let handle: ((req: IncomingMessage, res: ServerResponse) => unknown) | undefined;
  let issuerHost = '';
  const server = createServer((req, res) => {
    if (!provider || !handle) {
      res.writeHead(503).end();
      return;
    }
    // Behind the fault proxy the request arrives with the proxy's Host; make
    // oidc-provider build every URL from the public issuer, not the listen port.
    req.headers.host = issuerHost;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === REGISTRATION_PATH && options.registration === 'not-found') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    if (path.startsWith('/interaction/')) {
      autoApprove(provider, req, res, TEST_ACCOUNT_ID).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${error instanceof Error ? error.message : String(error)}`);
      });
      return;
    }
    handle(req, res);
  });
  const listenUrl = await listenOnLoopback(server);
  const issuer = options.issuer ?? listenUrl;
  issuerHost = new URL(issuer).host;

  const configuration: Configuration = {
    adapter: (model: string) => store.adapterFor(model),
    ...(options.clients ? { clients: options.clients } : {}),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    // MCP clients do not need OIDC; `offline_access` is listed but not needed
    // for a refresh token, and the resource scopes are listed so that a client
    // registering with `scope` passes DCR validation.
    scopes: ['openid', ...(options.offlineAccess === false ? [] : ['offline_access']), ...scopes],
    claims: { openid: ['sub'] },
    routes: { token: TOKEN_PATH },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Every client allowed the refresh_token grant gets one, always rotated;
    // oidc-provider's reuse detection then revokes the grant on a replay.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    // Refresh tokens outlive the browser session (they would otherwise die
    // with the `_session` cookie's session for non-offline_access grants).
    expiresWithSession: async () => false,
    pkce: { required: () => true },
    clientBasedCORS: () => true,
    renderError: (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
    ttl: {
      AccessToken: () => accessTtl,
      ClientCredentials: () => accessTtl,
      AuthorizationCode: 120,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 600,
      Session: FOURTEEN_DAYS,
      Grant: refreshTtl,
      RefreshToken: () => refreshTtl,
    },
    ...(options.refuseRedirectUri
      ? { extraClientMetadata: redirectUriPolicy(options.refuseRedirectUri, errors) }
      : {}),
    ...(options.clientIdMetadataDocument
      ? { fetch: metadataDocumentFetch(options.clientIdMetadataDocument) }
      : {}),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      registration: { enabled: options.registration !== 'absent' },
      ...(options.clientIdMetadataDocument
        ? { clientIdMetadataDocument: { enabled: true, ack: 'draft-02' } }
        : {}),
      // RFC 8628, for `mcp-oauth login --device`; approved by scriptedDeviceApproval().
      deviceFlow: {
        enabled: options.deviceFlow ?? true,
        // Plain pages (the defaults work too, but announce themselves on stdout).
        userCodeInputSource: async (ctx, form) => {
          ctx.body = `<!doctype html><title>Enter code</title>${form}<button type="submit" form="op.deviceInputForm">Continue</button>`;
        },
        userCodeConfirmSource: async (ctx, form) => {
          ctx.body = `<!doctype html><title>Confirm</title>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button>`;
        },
        successSource: async (ctx) => {
          ctx.body =
            '<!doctype html><title>Signed in</title><p>You are signed in; return to your device.</p>';
        },
      },
      revocation: { enabled: options.revocation ?? true, allowedPolicy: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (!isHttpUrl(resource)) throw new errors.InvalidTarget();
          return {
            scope: scopes.join(' '),
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: accessTtl,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  };

  const created = new ProviderClass(issuer, configuration);
  provider = created;
  countEndpoints(created, () => stats);
  const jwtBearer = registerJwtBearerGrant(created, errors, {
    issuer,
    tokenEndpoint: `${issuer}${TOKEN_PATH}`,
    scopes,
    accessTokenTtl: () => accessTtl,
    signingKey: { privateKey, kid: signingKey.kid },
    identityProviders: options.trustedIdentityProviders ?? [],
    workloadIssuers: options.trustedWorkloadIssuers ?? [],
    rejectReplays: options.assertionReplay === 'reject',
    record: (entry) => stats.jwtBearerAssertions.push(entry),
  });
  created.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = str(ctx.oidc.params?.grant_type);
    if (grantType === 'authorization_code') stats.authorizationCodeGrants += 1;
    if (grantType === 'refresh_token') stats.refreshSuccesses += 1;
  });
  created.on('registration_create.success', () => {
    stats.registrations += 1;
  });
  created.on('authorization.success', () => {
    stats.authorizations += 1;
  });
  // oidc-provider also emits 'server_error' for bugs in the kit's own
  // configuration; make those loud instead of a bare 500.
  created.on('server_error', (_ctx: unknown, error: Error) => {
    console.error('[test authorization server] server_error:', error);
  });
  // Koa composes the middleware when callback() is called: once, after use().
  handle = created.callback();

  return {
    issuer,
    tokenEndpoint: `${issuer}${TOKEN_PATH}`,
    trustIdentityProvider: (idp) => jwtBearer.trust('id-jag', idp),
    trustWorkloadIssuer: (workload) => jwtBearer.trust('workload', workload),
    listenUrl,
    get stats() {
      return stats;
    },
    resetStats() {
      stats = emptyStats();
    },
    setAccessTokenTtl(seconds: number) {
      accessTtl = seconds;
    },
    async revokeAllGrants() {
      const grantIds = store.grantIds();
      for (const key of store.keysWhere(
        (model, payload) =>
          model === 'Grant' || (typeof payload.grantId === 'string' && grantIds.has(payload.grantId)),
      )) {
        store.delete(key);
      }
    },
    deleteClient(clientId: string) {
      for (const key of store.keysWhere(
        (model, payload) => model === 'Client' && payload.client_id === clientId,
      )) {
        store.delete(key);
      }
    },
    async issueRefreshTokens(clientId: string, resource: string, count: number) {
      const client = await created.Client.find(clientId);
      if (!client) throw new Error(`issueRefreshTokens: no client ${clientId}`);
      const scope = scopes.join(' ');
      const tokens: string[] = [];
      for (let i = 0; i < count; i++) {
        const grant = new created.Grant({ accountId: TEST_ACCOUNT_ID, clientId });
        grant.addResourceScope(resource, scope);
        const grantId = await grant.save();
        const refreshToken = new created.RefreshToken({
          client,
          accountId: TEST_ACCOUNT_ID,
          grantId,
          gty: 'authorization_code',
          scope,
          resource,
          expiresWithSession: false,
          iiat: Math.floor(Date.now() / 1000),
          rotations: 0,
        });
        tokens.push(await refreshToken.save());
      }
      return tokens;
    },
    close: () => closeHttpServer(server),
  };
}

// oidc-provider calls the validator of extra client metadata with the whole registration (before
// its own checks): the one place a policy can look at every redirect URI. The property named is a
// placeholder; it is never sent.
function redirectUriPolicy(
  refuse: (redirectUri: string) => string | undefined,
  errors: OidcProviderModule['errors'],
): NonNullable<Configuration['extraClientMetadata']> {
  return {
    properties: ['kit_redirect_uri_policy'],
    validator: (_ctx, key, _value, metadata) => {
      if (key !== 'kit_redirect_uri_policy') return;
      for (const uri of (metadata.redirect_uris as string[] | undefined) ?? []) {
        const reason = refuse(uri);
        if (reason === undefined) continue;
        const error = new errors.InvalidRedirectUri();
        error.error_description = reason;
        throw error;
      }
    },
  };
}

// What oidc-provider fetches a Client ID Metadata Document with: answered from memory.
function metadataDocumentFetch(
  resolve: (clientId: string) => Record<string, unknown> | undefined,
): NonNullable<Configuration['fetch']> {
  return async (url) => {
    const document = resolve(String(url));
    return document === undefined
      ? new Response('Not Found', { status: 404 })
      : Response.json(document, { headers: { 'cache-control': 'no-store' } });
  };
}

// The token endpoint is counted by a middleware rather than events so that
// every request is seen, including the ones rejected before a grant handler
// runs (unknown client, missing parameters). Revocation has no success event.
//
// Token requests are also handled one at a time. oidc-provider checks
// "already consumed" and then consumes a refresh token across several awaits,
// so two refreshes racing with one token could both win; a strict server
// (and this oracle) lets exactly one win and treats the other as reuse.
function countEndpoints(provider: Provider, getStats: () => AuthorizationServerStats): void {
  let tokenQueue: Promise<unknown> = Promise.resolve();
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === TOKEN_PATH) {
      const turn = tokenQueue.then(next);
      tokenQueue = turn.catch(() => undefined);
      await turn;
    } else {
      await next();
    }
    const oidcCtx = ctx as KoaContextWithOIDC;
    const stats = getStats();
    if (oidcCtx.oidc?.route === 'revocation' && ctx.status === 200) stats.revocations += 1;
    if (oidcCtx.oidc?.route !== 'token') return;
    const body = oidcCtx.oidc.body ?? {};
    stats.tokenRequests += 1;
    const grantType = str(body.grant_type) ?? '';
    stats.grantRequests[grantType] = (stats.grantRequests[grantType] ?? 0) + 1;
    if (ctx.status === 200) stats.grantSuccesses[grantType] = (stats.grantSuccesses[grantType] ?? 0) + 1;
    const assertion = str(body.client_assertion);
    if (assertion !== undefined) recordClientAssertion(stats, assertion, ctx.status, ctx.body);
    if (body.grant_type === 'refresh_token') {
      stats.refreshRequests += 1;
      const presented = str(body.refresh_token);
      if (presented !== undefined) stats.refreshTokensSeen.push(presented);
      stats.refreshResources.push(str(body.resource) ?? '');
    }
    const responseBody = ctx.body as { error?: unknown } | undefined;
    if (ctx.status >= 400 && responseBody?.error === 'invalid_grant') stats.invalidGrant += 1;
  });
}

function recordClientAssertion(
  stats: AuthorizationServerStats,
  assertion: string,
  status: number,
  responseBody: unknown,
): void {
  let claims: Record<string, unknown> = {};
  try {
    claims = decodeJwt(assertion);
  } catch {
    // Recorded with no claims: the test sees that something unreadable was sent.
  }
  const record: ClientAssertionRecord = {
    iss: str(claims.iss),
    sub: str(claims.sub),
    aud:
      typeof claims.aud === 'string' || Array.isArray(claims.aud)
        ? (claims.aud as string | string[])
        : undefined,
    exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    iat: typeof claims.iat === 'number' ? claims.iat : undefined,
    jti: str(claims.jti),
    status,
    error: str((responseBody as { error?: unknown } | undefined)?.error) ?? '',
  };
  if (
    record.jti !== undefined &&
    stats.clientAssertions.some((a) => a.iss === record.iss && a.jti === record.jti)
  ) {
    stats.replayedClientAssertions += 1;
  }
  stats.clientAssertions.push(record);
}
