/**
 * The schema of `config.yaml` (zod, strict: an unknown key is an error) and the mapping from a
 * validated `servers.<name>.oauth` block to an OAuthConfig. The error text of each schema is the
 * rule a person must follow ("must be ..."); `config-problems.ts` puts the location and the
 * value found around it.
 */
// zod/mini: the same validation core with a tree-shakable API, so the CLI bundle carries ~20 KB
// of zod instead of ~450 KB (parsed at every start of `mcp-oauth status` and `token`).
import * as z from 'zod/mini';
import { registerSecret } from '../logger.js';
import { isSecureOrLoopback } from '../loopback.js';
import {
  DEFAULT_LOGIN_TIMEOUT_SECONDS,
  DEFAULT_REFRESH_SKEW_SECONDS,
  type IdentityProviderConfig,
  type OAuthConfig,
} from './oauth-config.js';
import { withRedactedSecret } from './redacted-secret.js';

/** Longest server name, in characters (names are command-line arguments and appear in messages). */
export const MAX_SERVER_NAME_LENGTH = 100;

/** The largest `timeout` and `refresh_skew`: one day (also keeps timers far from the 2^31 ms limit). */
export const MAX_SECONDS = 86_400;

/**
 * 1 to 100 characters; no whitespace, control, format (zero-width, bidi) or separator
 * characters, no lone surrogates; not starting with `-` (it would read as a command-line option).
 */
const SERVER_NAME = new RegExp(`^(?!-)[^\\s\\p{Cc}\\p{Cf}\\p{Cs}\\p{Z}]{1,${MAX_SERVER_NAME_LENGTH}}$`, 'u');

/** Rules, as they appear in messages after the location of the value. */
export const RULES = {
  root: 'must be a mapping with the key servers, e.g. servers: {notion: {url: "https://mcp.notion.com/mcp"}}',
  servers:
    'must be a mapping from server names to their settings, e.g. servers: {notion: {url: "https://mcp.notion.com/mcp"}}',
  serverName: `names must be 1 to ${MAX_SERVER_NAME_LENGTH} characters without spaces or control characters and must not start with "-" (they are used as command-line arguments)`,
  server: 'must be a mapping with at least a url, e.g. {url: "https://mcp.example.com/mcp"}',
  urlMissing: 'is missing; add the URL of the MCP server, e.g. url: https://mcp.example.com/mcp',
  url: 'must be an absolute http(s) URL, e.g. https://mcp.example.com/mcp',
  urlInsecure: 'must use https (plain http is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1)',
  urlCredentials:
    'must not contain a user name or password; remove the part before "@" (OAuth settings go under oauth)',
  urlFragment: 'must not contain a fragment; remove the "#" and what follows it',
  oauth: 'must be a mapping of OAuth settings, e.g. {client_id: my-client-id, scope: "read write"}',
  clientId: 'must be a non-empty string, e.g. client_id: my-client-id',
  clientSecret:
    'must be a non-empty string; better, keep the secret in an environment variable and write client_secret_env: VARIABLE_NAME instead',
  clientSecretEnv:
    'must be the name of an environment variable (letters, digits and _, not starting with a digit), e.g. client_secret_env: NOTION_CLIENT_SECRET; the value written is not a variable name (if it is the secret itself, move it into an environment variable)',
  bothSecrets:
    'has both client_secret and client_secret_env; keep only one (client_secret_env keeps the secret out of this file)',
  issuer:
    'must be the issuer identifier of the authorization server, an https URL without query or fragment (http only for loopback hosts), exactly as its metadata states it, e.g. issuer: https://auth.example.com',
  clientMetadataUrl:
    'must be an https URL with a path, the address of a Client ID Metadata Document, e.g. https://app.example.com/oauth/client-metadata.json',
  loginHint:
    'must be a non-empty string: who logs in, sent as login_hint ({account} is replaced by the account), e.g. login_hint: "{account}@example.com"',
  scope: 'must be a non-empty string of space-separated scopes, e.g. scope: "read write"',
  redirectPort: 'must be an integer from 0 to 65535 (0 picks a free port)',
  clientName: 'must be a non-empty string, e.g. client_name: "My Agent"',
  timeout: `must be a whole number of seconds from 1 to ${MAX_SECONDS} (the time allowed for a whole interactive login; default ${DEFAULT_LOGIN_TIMEOUT_SECONDS})`,
  refreshSkew: `must be a whole number of seconds from 0 to ${MAX_SECONDS} (how long before expiry a token is refreshed; default ${DEFAULT_REFRESH_SKEW_SECONDS})`,
  grant: 'must be one of authorization_code, client_credentials, jwt_bearer',
  authMethod: 'must be one of client_secret_basic, client_secret_post, private_key_jwt, none',
  filePath: 'must be a non-empty file path, e.g. /etc/mcp/client-key.pem',
  keyId: 'must be a non-empty string, the kid the authorization server knows the key by',
  idpName: 'must name an entry of idps:, e.g. idp: corp',
  envName: 'must be the name of an environment variable (letters, digits and _, not starting with a digit)',
  privateKeyJwtNeedsKey:
    'is private_key_jwt, which needs private_key_file (the PEM or JWK file of the client key)',
  keyNeedsPrivateKeyJwt: 'is set but token_endpoint_auth_method is not private_key_jwt; remove one',
  clientCredentialsNeedsClient:
    'is client_credentials, which needs client_id (the client registered at the authorization server)',
  jwtBearerNeedsAssertion:
    'is jwt_bearer, which needs an assertion: idp (an entry of idps:), workload_token_file or workload_token_env',
  bothWorkloadTokens: 'has both workload_token_file and workload_token_env; keep only one',
  workloadNeedsJwtBearer: 'is set, which needs grant: jwt_bearer',
  idps: 'must be a mapping from identity provider names to {issuer, client_id, client_secret_env, scope}',
  idp: 'must be a mapping with issuer and client_id, e.g. {issuer: "https://idp.example.com", client_id: mcp-client}',
  unknownIdp: (name: string, known: string[]) =>
    `names the identity provider ${JSON.stringify(name)}, which is not under idps:${known.length ? ` (the known ones are ${known.join(', ')})` : '; add it there'}`,
} as const;

/** Custom issues that carry this param print no "found ..." (the value is missing or must not be echoed). */
export const NO_FOUND = { noFound: true } as const;

const nonEmptyString = (rule: string) => z.string({ error: rule }).check(z.minLength(1, { error: rule }));
const integerIn = (min: number, max: number, rule: string) =>
  z.int({ error: rule }).check(z.minimum(min, { error: rule }), z.maximum(max, { error: rule }));

/** Unknown keys keep zod's own issue (`unrecognized_keys`, reported with a suggestion); every other issue gets `rule`. */
const unlessUnknownKey = (rule: string) => (issue: { code: string }) =>
  issue.code === 'unrecognized_keys' ? undefined : rule;

const urlParts = (value: string): URL | undefined => {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
};

/** A server name as `config.yaml` and the command line accept it (see RULES.serverName). */
export const serverNameSchema = z.string().check(z.regex(SERVER_NAME, { error: RULES.serverName }));

const serverUrlSchema = z
  .url({
    protocol: /^https?$/,
    error: (issue) => (issue.input === undefined ? RULES.urlMissing : RULES.url),
  })
  .check(
    z.trim(),
    z.superRefine((value: string, ctx) => {
      const url = urlParts(value);
      if (!url) return;
      if (url.username || url.password)
        ctx.addIssue({ code: 'custom', message: RULES.urlCredentials, params: NO_FOUND });
      else if (!isSecureOrLoopback(url)) ctx.addIssue({ code: 'custom', message: RULES.urlInsecure });
      else if (url.hash || value.includes('#')) ctx.addIssue({ code: 'custom', message: RULES.urlFragment });
    }),
  );

// RFC 8414 §2: an https URL with no query or fragment; compared as a string with the metadata's.
const issuerSchema = z.url({ protocol: /^https?$/, error: RULES.issuer }).check(
  z.refine(
    (value: string) => {
      const url = urlParts(value);
      return (
        !!url &&
        isSecureOrLoopback(url) &&
        !url.search &&
        !url.hash &&
        !value.includes('?') &&
        !value.includes('#') &&
        !url.username &&
        !url.password &&
        value.trim() === value
      );
    },
    { error: RULES.issuer },
  ),
);

const clientMetadataUrlSchema = z.url({ protocol: /^https$/, error: RULES.clientMetadataUrl }).check(
  z.trim(),
  z.refine(
    (value: string) => {
      const url = urlParts(value);
      return (
        !!url && url.pathname !== '/' && !url.hash && !value.includes('#') && !url.username && !url.password
      );
    },
    { error: RULES.clientMetadataUrl },
  ),
);

/** `servers.<name>.oauth`, snake_case as in the file; the key order is the order `addServer` writes. */
export const oauthSettingsSchema = z
  .strictObject(
    {
      client_id: z.optional(nonEmptyString(RULES.clientId)),
      client_secret_env: z.optional(
        z
          .string({ error: RULES.clientSecretEnv })
          .check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: RULES.clientSecretEnv })),
      ),
      client_secret: z.optional(nonEmptyString(RULES.clientSecret)),
      issuer: z.optional(issuerSchema),
      client_metadata_url: z.optional(clientMetadataUrlSchema),
      scope: z.optional(nonEmptyString(RULES.scope)),
      redirect_port: z.optional(integerIn(0, 65_535, RULES.redirectPort)),
      client_name: z.optional(nonEmptyString(RULES.clientName)),
      timeout: z.optional(integerIn(1, MAX_SECONDS, RULES.timeout)),
      refresh_skew: z.optional(integerIn(0, MAX_SECONDS, RULES.refreshSkew)),
      grant: z.optional(
        z.enum(['authorization_code', 'client_credentials', 'jwt_bearer'], { error: RULES.grant }),
      ),
      token_endpoint_auth_method: z.optional(
        z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'], {
          error: RULES.authMethod,
        }),
      ),
      private_key_file: z.optional(nonEmptyString(RULES.filePath)),
      key_id: z.optional(nonEmptyString(RULES.keyId)),
      idp: z.optional(nonEmptyString(RULES.idpName)),
      workload_token_file: z.optional(nonEmptyString(RULES.filePath)),
      workload_token_env: z.optional(
        z
          .string({ error: RULES.envName })
          .check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: RULES.envName })),
      ),
      login_hint: z.optional(nonEmptyString(RULES.loginHint)),
    },
    { error: unlessUnknownKey(RULES.oauth) },
  )
  .check(
    z.superRefine((settings: MachineSettings, ctx) => {
      for (const [key, message] of machineProblems(settings))
        ctx.addIssue({ code: 'custom', message, path: [key], params: NO_FOUND });
    }),
    z.refine(
      (settings: { client_secret?: string; client_secret_env?: string }) =>
        settings.client_secret === undefined || settings.client_secret_env === undefined,
      {
        error: RULES.bothSecrets,
        params: NO_FOUND,
        // Report it alongside the other problems of the block, not only once they are fixed.
        when: (payload) => typeof payload.value === 'object' && payload.value !== null,
      },
    ),
  );

/** The keys of an `oauth` block the machine grants combine (see machineProblems). */
interface MachineSettings {
  client_id?: string | undefined;
  grant?: string | undefined;
  token_endpoint_auth_method?: string | undefined;
  private_key_file?: string | undefined;
  idp?: string | undefined;
  workload_token_file?: string | undefined;
  workload_token_env?: string | undefined;
}

/** The cross-key rules of the machine grants, as (key, rule) pairs; empty when the block is coherent. */
function machineProblems(s: MachineSettings): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (s.token_endpoint_auth_method === 'private_key_jwt' && s.private_key_file === undefined)
    out.push(['token_endpoint_auth_method', RULES.privateKeyJwtNeedsKey]);
  if (
    s.private_key_file !== undefined &&
    s.token_endpoint_auth_method !== undefined &&
    s.token_endpoint_auth_method !== 'private_key_jwt'
  )
    out.push(['private_key_file', RULES.keyNeedsPrivateKeyJwt]);
  if (s.grant === 'client_credentials' && s.client_id === undefined)
    out.push(['grant', RULES.clientCredentialsNeedsClient]);
  const workload = s.workload_token_file !== undefined || s.workload_token_env !== undefined;
  if (s.grant === 'jwt_bearer' && s.idp === undefined && !workload)
    out.push(['grant', RULES.jwtBearerNeedsAssertion]);
  if (s.workload_token_file !== undefined && s.workload_token_env !== undefined)
    out.push(['workload_token_env', RULES.bothWorkloadTokens]);
  else if (workload && s.grant !== 'jwt_bearer')
    out.push([
      s.workload_token_file !== undefined ? 'workload_token_file' : 'workload_token_env',
      RULES.workloadNeedsJwtBearer,
    ]);
  return out;
}

/** `idps.<name>`: an enterprise identity provider (SEP-990). */
export const idpSettingsSchema = z.strictObject(
  {
    issuer: issuerSchema,
    client_id: nonEmptyString(RULES.clientId),
    client_secret_env: z.optional(
      z
        .string({ error: RULES.clientSecretEnv })
        .check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: RULES.clientSecretEnv })),
    ),
    scope: z.optional(nonEmptyString(RULES.scope)),
  },
  { error: unlessUnknownKey(RULES.idp) },
);

/** `servers.<name>`. An empty `oauth:` (null) means no OAuth settings. */
export const serverSettingsSchema = z.strictObject(
  {
    url: serverUrlSchema,
    oauth: z.nullish(oauthSettingsSchema),
  },
  { error: unlessUnknownKey(RULES.server) },
);

// ---- store: (where credentials live; see src/store/store-selection.ts)
const STORE_RULES = {
  store:
    'must be a mapping, e.g. store: {url: "rediss://user:password@redis.example.com:6380/0", prefix: "mcp-oauth:"}',
  url: 'must be file or a redis:// or rediss:// URL, e.g. url: "rediss://user:password@redis.example.com:6380/0"',
  prefix: 'must be a non-empty string, e.g. prefix: "team-a:mcp-oauth:"',
  encryption:
    'must be none or a mapping with key_file (and, during a rotation, previous_key_files), e.g. encryption: {key_file: /etc/mcp-oauth/key}',
  keyFile:
    'must be the path of a file holding the base64 of 32 random bytes, e.g. key_file: /etc/mcp-oauth/key',
  previousKeyFiles: 'must be a list of key file paths, e.g. previous_key_files: [/etc/mcp-oauth/old-key]',
} as const;

/** `store.encryption` as a mapping (the other form is the word `none`). */
export const encryptionSettingsSchema = z.strictObject(
  {
    key_file: z.optional(nonEmptyString(STORE_RULES.keyFile)),
    previous_key_files: z.optional(
      z.array(nonEmptyString(STORE_RULES.keyFile), { error: STORE_RULES.previousKeyFiles }),
    ),
  },
  { error: unlessUnknownKey(STORE_RULES.encryption) },
);

/** `store:`: `url` (file, redis://, rediss://), `prefix` (Redis), `encryption`. */
export const storeSettingsSchema = z.strictObject(
  {
    url: z.optional(
      z.string({ error: STORE_RULES.url }).check(
        z.refine((value: string) => value === 'file' || /^rediss?:\/\/./.test(value), {
          error: STORE_RULES.url,
          params: NO_FOUND,
        }),
      ),
    ),
    prefix: z.optional(nonEmptyString(STORE_RULES.prefix)),
    encryption: z.optional(
      z.union([z.literal('none'), encryptionSettingsSchema], {
        error: unlessUnknownKey(STORE_RULES.encryption),
      }),
    ),
  },
  { error: unlessUnknownKey(STORE_RULES.store) },
);

/** A validated `store:` block, snake_case as in the file. */
export type StoreSettings = z.infer<typeof storeSettingsSchema>;
/** The keys allowed in `store:` and in `store.encryption`. */
export const STORE_KEYS: readonly string[] = Object.keys(storeSettingsSchema.shape);
export const ENCRYPTION_KEYS: readonly string[] = Object.keys(encryptionSettingsSchema.shape);

/** The whole file. An empty `servers:` (null) means no servers. */
export const configFileSchema = z
  .strictObject(
    {
      servers: z.nullish(z.record(serverNameSchema, serverSettingsSchema, { error: RULES.servers })),
      idps: z.nullish(z.record(serverNameSchema, idpSettingsSchema, { error: RULES.idps })),
      store: z.nullish(storeSettingsSchema),
    },
    { error: unlessUnknownKey(RULES.root) },
  )
  .check(
    // `oauth.idp` must name an entry of `idps:`.
    z.superRefine(
      (
        file: { servers?: Record<string, ServerSettings> | null; idps?: Record<string, unknown> | null },
        ctx,
      ) => {
        const known = Object.keys(file.idps ?? {});
        for (const [name, server] of Object.entries(file.servers ?? {})) {
          const idp = server.oauth?.idp;
          if (idp !== undefined && !known.includes(idp))
            ctx.addIssue({
              code: 'custom',
              message: RULES.unknownIdp(idp, known),
              path: ['servers', name, 'oauth', 'idp'],
              params: NO_FOUND,
            });
        }
      },
    ),
  );

/** A validated `servers.<name>.oauth` block, snake_case as in the file. */
export type OAuthSettings = z.infer<typeof oauthSettingsSchema>;
/** A validated `servers.<name>` entry. */
export type ServerSettings = z.infer<typeof serverSettingsSchema>;
/** A validated `idps.<name>` entry. */
export type IdpSettings = z.infer<typeof idpSettingsSchema>;
/** A validated `config.yaml`. */
export type ConfigFileContent = z.infer<typeof configFileSchema>;

/** The keys of each level of the file, for "did you mean ...?" and "the known keys are ...". */
export const ROOT_KEYS: readonly string[] = Object.keys(configFileSchema.shape);
/** The keys allowed in a `servers.<name>` entry. */
export const SERVER_KEYS: readonly string[] = Object.keys(serverSettingsSchema.shape);
/** The keys allowed in a `servers.<name>.oauth` block, in the order `addServer` writes them. */
export const OAUTH_KEYS: readonly string[] = Object.keys(oauthSettingsSchema.shape);
/** The keys allowed in an `idps.<name>` entry. */
export const IDP_KEYS: readonly string[] = Object.keys(idpSettingsSchema.shape);

/** Keys that hold or may hold a secret: their values are never echoed in a message. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['client_secret', 'client_secret_env']);

/** Integer keys (`addServer` accepts them as strings of digits, as a command line gives them). */
export const INTEGER_KEYS: ReadonlySet<string> = new Set(['redirect_port', 'timeout', 'refresh_skew']);

/** Other spellings people write for a key (the OAuthConfig field names among them). */
export const KEY_ALIASES: Readonly<Record<string, string>> = {
  timeoutSeconds: 'timeout',
  refreshSkewSeconds: 'refresh_skew',
  secret: 'client_secret',
  secret_env: 'client_secret_env',
  port: 'redirect_port',
  scopes: 'scope',
  server: 'servers',
  auth: 'oauth',
  endpoint: 'url',
};

/** How `client_secret_env` resolved: the secret (or none configured), or the variable that is missing. */
export type SecretResolution =
  | { ok: true; secret: string | undefined }
  | { ok: false; variable: string; empty: boolean };

/**
 * Reads the secret named by `client_secret_env` from `env` (an empty value counts as missing), or
 * takes `client_secret`; the secret is registered with the redactor (`registerSecret`).
 */
export function resolveClientSecret(
  settings: OAuthSettings | null | undefined,
  env: NodeJS.ProcessEnv,
): SecretResolution {
  if (!settings) return { ok: true, secret: undefined };
  if (settings.client_secret_env !== undefined) {
    const variable = settings.client_secret_env;
    const value = env[variable];
    if (value === undefined || value === '') return { ok: false, variable, empty: value === '' };
    registerSecret(value);
    return { ok: true, secret: value };
  }
  registerSecret(settings.client_secret);
  return { ok: true, secret: settings.client_secret };
}

/**
 * The IdentityProviderConfig of a validated `idps.<name>` entry, its `client_secret_env` read from
 * `env` (registered with the redactor); the missing variable when it is not set.
 */
export function toIdentityProvider(
  name: string,
  settings: IdpSettings,
  env: NodeJS.ProcessEnv,
): { ok: true; idp: IdentityProviderConfig } | { ok: false; variable: string; empty: boolean } {
  const secret = resolveClientSecret({ client_secret_env: settings.client_secret_env }, env);
  if (!secret.ok) return secret;
  const idp: IdentityProviderConfig = { name, issuer: settings.issuer, clientId: settings.client_id };
  if (secret.secret !== undefined) idp.clientSecret = secret.secret;
  if (settings.scope !== undefined) idp.scope = settings.scope;
  // The secret never shows in JSON, `toString` or `util.inspect`.
  return { ok: true, idp: withRedactedSecret(idp) };
}

/**
 * The OAuthConfig of a validated `oauth` block, with the secret resolved by the caller. Its
 * JSON, `toString` and `util.inspect` show `clientSecret` as `[redacted]`.
 */
export function toOAuthConfig(
  settings: OAuthSettings | null | undefined,
  clientSecret?: string,
): OAuthConfig {
  const config: OAuthConfig = {};
  if (settings) {
    if (settings.client_id !== undefined) config.clientId = settings.client_id;
    if (clientSecret !== undefined) config.clientSecret = clientSecret;
    if (settings.issuer !== undefined) config.issuer = settings.issuer;
    if (settings.client_metadata_url !== undefined) config.clientMetadataUrl = settings.client_metadata_url;
    if (settings.scope !== undefined) config.scope = settings.scope;
    if (settings.redirect_port !== undefined) config.redirectPort = settings.redirect_port;
    if (settings.client_name !== undefined) config.clientName = settings.client_name;
    if (settings.timeout !== undefined) config.timeoutSeconds = settings.timeout;
    if (settings.refresh_skew !== undefined) config.refreshSkewSeconds = settings.refresh_skew;
    if (settings.grant !== undefined) config.grant = settings.grant;
    if (settings.token_endpoint_auth_method !== undefined)
      config.tokenEndpointAuthMethod = settings.token_endpoint_auth_method;
    if (settings.private_key_file !== undefined) config.privateKeyFile = settings.private_key_file;
    if (settings.key_id !== undefined) config.keyId = settings.key_id;
    if (settings.workload_token_file !== undefined) config.workloadTokenFile = settings.workload_token_file;
    if (settings.workload_token_env !== undefined) config.workloadTokenEnv = settings.workload_token_env;
    if (settings.login_hint !== undefined) config.loginHint = settings.login_hint;
  }
  return withRedactedSecret(config);
}
