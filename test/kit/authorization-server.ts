import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import type { Configuration, KoaContextWithOIDC, default as Provider } from 'oidc-provider';
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
}

export interface TestAuthorizationServer {
  /** The issuer identifier (what the metadata says). */
  issuer: string;
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
  };
}

type OidcProviderModule = typeof import('oidc-provider');
let oidcProviderModule: Promise<OidcProviderModule> | undefined;

// oidc-provider 9 prints "Unsupported runtime" on Node 20 when its module is
// first evaluated; the kit runs on Node 20 on purpose, so drop that one line.
function loadOidcProvider(): Promise<OidcProviderModule> {
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
      autoApprove(provider, req, res).catch((error: unknown) => {
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

// Plays the user: signs in as TEST_ACCOUNT_ID, then grants every scope and
// resource the client asked for. oidc-provider answers each step with a 303
// back to the authorization endpoint, so a browser only follows redirects.
async function autoApprove(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: TEST_ACCOUNT_ID } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (prompt.name !== 'consent') throw new Error(`unexpected prompt ${prompt.name}`);

  const grant =
    (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
    new provider.Grant({ accountId: session?.accountId ?? TEST_ACCOUNT_ID, clientId: str(params.client_id) });
  const missing = prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, resourceScopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, resourceScopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}
