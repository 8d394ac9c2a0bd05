import { promises as fs } from 'node:fs';
import type { FetchLike } from '@modelcontextprotocol/client';
import type { OAuthConfig } from '../../config/oauth-config.js';
import { ConfigError, McpOAuthError } from '../../errors.js';
import { homeFolders } from '../../home-folder.js';
import type { Logger } from '../../logger.js';
import { browserOpener } from '../../oauth/browser-opener.js';
import { discover, insecureEndpoint, issuerOf } from '../../oauth/discovery.js';
import { observedFetch } from '../../oauth/network-error.js';
import { explainMissingMetadata, probeMcpEndpoint } from '../../oauth/server-probe.js';
import { withTimeout } from '../../oauth/timeout-fetch.js';
import { FileCredentialStore } from '../../store/file-credential-store.js';
import { NoAuthObservations } from '../no-auth-observation.js';
import type { CheckResult } from './check-result.js';

/** Each network request of `doctor` ends after this long (a server that never answers is a finding). */
export const DOCTOR_REQUEST_TIMEOUT_MS = 10_000;
/** A clock further off than this from a server's `Date` makes tokens look expired or not yet valid. */
export const MAX_CLOCK_SKEW_SECONDS = 60;

/** What `doctor` looks at. */
export interface DoctorInput {
  home: string;
  env: NodeJS.ProcessEnv;
  /** Only this server (its name in config.yaml); default all. */
  server?: string;
  fetchFn?: FetchLike;
  logger: Logger;
  now?: () => number;
  platform?: string;
}

/** Every check's result, and the configuration error that stopped the server checks, if any. */
export interface DoctorReport {
  checks: CheckResult[];
  configError: ConfigError | undefined;
}

/**
 * Runs the checks of `mcp-oauth doctor`: the home folder and its permissions, config.yaml, the
 * credential store and its lock, the browser opener, then for each configured server (or the
 * one named): reachability and how it answers an unauthenticated MCP request, its metadata
 * (protected resource, authorization server), PKCE S256, how this client can register, the
 * device flow, and the clock against the server's `Date`. Nothing is changed, except that a
 * server found answering without authentication is recorded as `no_auth`, as `connect()` does.
 */
export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  checks.push(await checkHome(input.home));
  const { loadConfig, configPath } = await import('../../config/config-file.js');
  let servers: Array<{ name: string; url: string; oauth: OAuthConfig; error?: ConfigError }> = [];
  let configError: ConfigError | undefined;
  const file = configPath(input.home);
  const exists = await fs.stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) {
    checks.push({
      id: 'config',
      status: 'fail',
      detail: `no ${file}: no server is configured`,
      fix: 'add one: mcp-oauth servers add NAME URL',
    });
  } else {
    try {
      servers = [...(await loadConfig(input.home, input.env)).servers.values()];
      checks.push({ id: 'config', status: 'pass', detail: `${file}: ${servers.length} server(s)` });
    } catch (error) {
      if (!(error instanceof McpOAuthError)) throw error;
      configError = error instanceof ConfigError ? error : new ConfigError(error.message, { file });
      checks.push({ id: 'config', status: 'fail', detail: error.message, fix: `edit ${file}` });
    }
  }
  if (input.server !== undefined && !configError) {
    const chosen = servers.filter((s) => s.name === input.server);
    if (chosen.length === 0) {
      configError = new ConfigError(`Unknown server '${input.server}': it is not in ${file}.`, {
        file,
        server: input.server,
      });
      checks.push({
        id: 'config',
        status: 'fail',
        detail: configError.message,
        fix: 'mcp-oauth servers list',
      });
    }
    servers = chosen;
  }
  checks.push(...(await checkStore(input.home, servers[0]?.name)));
  const opener = await browserOpener(input.env, input.platform);
  checks.push(
    opener.usable
      ? { id: 'browser', status: 'pass', detail: `logins open the browser with ${opener.how}` }
      : {
          id: 'browser',
          status: 'warn',
          detail: opener.why,
          fix: 'log in with --no-browser (paste the redirected URL) or --device, or set BROWSER',
        },
  );
  if (configError) return { checks, configError };
  const fetchFn = withTimeout(
    observedFetch(input.fetchFn ?? ((url, init) => fetch(url, init)), input.logger),
    DOCTOR_REQUEST_TIMEOUT_MS,
  );
  const observations = new NoAuthObservations(input.home, input.logger);
  const now = input.now ?? Date.now;
  const perServer = await Promise.all(
    servers.map((server) => checkServer(server, { fetchFn, now, observations })),
  );
  for (const list of perServer) checks.push(...list);
  return { checks, configError };
}

async function checkHome(home: string): Promise<CheckResult> {
  let stats: Awaited<ReturnType<typeof fs.stat>>;
  try {
    stats = await fs.stat(home);
  } catch {
    return {
      id: 'home',
      status: 'warn',
      detail: `${home} does not exist yet`,
      fix: 'it is created (0700) by the first `mcp-oauth servers add` or login',
    };
  }
  if (!stats.isDirectory())
    return {
      id: 'home',
      status: 'fail',
      detail: `${home} is not a folder`,
      fix: `choose a folder: --home DIR or MCP_OAUTH_HOME`,
    };
  const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
  if (process.platform !== 'win32' && (stats.mode & 0o022) !== 0)
    return {
      id: 'home',
      status: 'fail',
      detail: `${home} is writable by ${stats.mode & 0o020 ? 'its group' : 'other users'} (mode ${mode}); it is refused`,
      fix: `chmod 700 ${home}`,
    };
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && stats.uid !== uid)
    return {
      id: 'home',
      status: 'fail',
      detail: `${home} belongs to uid ${stats.uid}, not to you (uid ${uid})`,
      fix: `use a home of your own (--home DIR)`,
    };
  return { id: 'home', status: 'pass', detail: `${home} (mode ${mode})` };
}

async function checkStore(home: string, lockServer: string | undefined): Promise<CheckResult[]> {
  const { credentialsDir } = homeFolders(home);
  const store = new FileCredentialStore({ home });
  const results: CheckResult[] = [];
  try {
    const keys = await store.list();
    const unreadable: string[] = [];
    for (const key of keys) {
      try {
        await store.get(key);
      } catch (error) {
        unreadable.push(`${key.server}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    results.push(
      unreadable.length === 0
        ? {
            id: 'store',
            status: 'pass',
            detail: `${credentialsDir}: ${keys.length} credential(s), all readable`,
          }
        : {
            id: 'store',
            status: 'fail',
            detail: `unreadable credential(s): ${unreadable.join('; ')}`,
            fix: 'log in again to those servers (an unreadable record is kept aside, never deleted)',
          },
    );
    if (lockServer !== undefined) {
      try {
        await store.withLock({ server: lockServer }, async () => {}, { waitMs: 2_000 });
        results.push({ id: 'lock', status: 'pass', detail: 'the credential lock can be taken and released' });
      } catch (error) {
        results.push({
          id: 'lock',
          status: 'warn',
          detail: `the lock of ${lockServer} is held (${error instanceof Error ? error.message : String(error)})`,
          fix: 'another mcp-oauth process (a login or a refresh) holds it; if none runs, the lock is freed when it exits',
        });
      }
    }
  } catch (error) {
    results.push({
      id: 'store',
      status: 'fail',
      detail: error instanceof Error ? error.message : String(error),
      fix: `check the permissions of ${credentialsDir} (0700, yours)`,
    });
  } finally {
    await store.close();
  }
  return results;
}

async function checkServer(
  server: { name: string; url: string; oauth: OAuthConfig; error?: ConfigError },
  ctx: { fetchFn: FetchLike; now: () => number; observations: NoAuthObservations },
): Promise<CheckResult[]> {
  const at = (id: string, result: Omit<CheckResult, 'id' | 'server'>): CheckResult => ({
    id,
    server: server.name,
    ...result,
  });
  const results: CheckResult[] = [];
  if (server.error)
    results.push(
      at('config', {
        status: 'fail',
        detail: server.error.message,
        fix: 'set the variable, or edit config.yaml',
      }),
    );
  let answer: Awaited<ReturnType<typeof probeMcpEndpoint>>;
  try {
    answer = await probeMcpEndpoint(server.url, ctx.fetchFn);
  } catch (error) {
    return [
      ...results,
      at('reachable', {
        status: 'fail',
        detail: error instanceof Error ? error.message : String(error),
        fix: `check that ${server.url} is right and the server is running`,
      }),
    ];
  }
  if (answer.date) results.push(clockCheck(server.name, answer.date, ctx.now()));
  if (answer.kind === 'open') {
    await ctx.observations.note({ server: server.name }, server.url, true, ctx.now());
    results.unshift(
      at('reachable', {
        status: 'pass',
        detail: `${server.url} answers MCP without authentication (no_auth): no login needed`,
      }),
    );
    return results;
  }
  if (answer.kind === 'other') {
    const explained = await explainMissingMetadata({
      server: server.name,
      serverUrl: server.url,
      fetchFn: ctx.fetchFn,
      fallback: undefined,
    });
    results.unshift(
      at('reachable', {
        status: 'fail',
        detail: explained.message
          .replace(/^Login to MCP server '[^']*' failed: /, '')
          .replace(/\. The previous credential.*$/, ''),
        fix: 'correct url in config.yaml',
      }),
    );
    return results;
  }
  results.unshift(
    at('reachable', {
      status: 'pass',
      detail: `${server.url} answers HTTP ${answer.status}: it needs a login (OAuth)`,
    }),
  );
  let discovery: Awaited<ReturnType<typeof discover>>;
  try {
    discovery = await discover(server.url, { fetchFn: ctx.fetchFn });
  } catch (error) {
    results.push(
      at('metadata', {
        status: 'fail',
        detail: error instanceof Error ? error.message : String(error),
        fix: "the server's OAuth metadata is unusable: tell its operator",
      }),
    );
    return results;
  }
  const as = discovery.authorizationServerMetadata;
  if (!as) {
    results.push(
      at('metadata', {
        status: 'fail',
        detail: 'no authorization-server metadata found',
        fix: "ask the server's operator which authorization server to use",
      }),
    );
    return results;
  }
  const prm = discovery.resourceMetadataUrl
    ? `protected-resource metadata at ${discovery.resourceMetadataUrl}`
    : 'no protected-resource metadata (RFC 9728; the 2025-03-26 fallback to the origin was used)';
  const insecure = insecureEndpoint(discovery);
  results.push(
    at(
      'metadata',
      insecure
        ? {
            status: 'fail',
            detail: `authorization server ${issuerOf(discovery)}: its ${insecure} is not https`,
            fix: 'a login is refused: tell the operator',
          }
        : {
            status: discovery.resourceMetadataUrl ? 'pass' : 'warn',
            detail: `${prm}; authorization server ${issuerOf(discovery)}`,
            ...(discovery.resourceMetadataUrl
              ? {}
              : { fix: 'works, but the server should publish /.well-known/oauth-protected-resource' }),
          },
    ),
  );
  const methods = (as.code_challenge_methods_supported as string[] | undefined) ?? [];
  results.push(
    at(
      'pkce',
      methods.includes('S256')
        ? { status: 'pass', detail: 'PKCE S256 supported' }
        : {
            status: 'fail',
            detail: `PKCE S256 not advertised (code_challenge_methods_supported: ${JSON.stringify(methods)})`,
            fix: 'logins are refused without S256: tell the operator',
          },
    ),
  );
  const cimd =
    (as as { client_id_metadata_document_supported?: unknown }).client_id_metadata_document_supported ===
    true;
  results.push(
    at(
      'registration',
      server.oauth.clientId
        ? { status: 'pass', detail: `pre-registered client ${server.oauth.clientId} (oauth.client_id)` }
        : cimd && server.oauth.clientMetadataUrl
          ? { status: 'pass', detail: `Client ID Metadata Document ${server.oauth.clientMetadataUrl}` }
          : as.registration_endpoint
            ? { status: 'pass', detail: `dynamic client registration at ${as.registration_endpoint}` }
            : {
                status: 'fail',
                detail: 'no way to register this client (no registration_endpoint, no configured client)',
                fix: "ask the server's administrator for a client, then set oauth.client_id and oauth.client_secret_env in config.yaml",
              },
    ),
  );
  results.push(
    at(
      'device-flow',
      as.device_authorization_endpoint
        ? { status: 'pass', detail: 'device flow offered (login --device)' }
        : {
            status: 'warn',
            detail: 'no device flow: login --device will not work',
            fix: 'log in with the browser, or --no-browser (paste) where none can open',
          },
    ),
  );
  return results;
}

function clockCheck(server: string, date: string, now: number): CheckResult {
  const theirs = Date.parse(date);
  if (Number.isNaN(theirs))
    return {
      id: 'clock',
      server,
      status: 'warn',
      detail: `unreadable Date header ${JSON.stringify(date.slice(0, 60))}`,
    };
  // Date has a resolution of one second.
  const skew = Math.round((now - theirs) / 1000);
  if (Math.abs(skew) <= MAX_CLOCK_SKEW_SECONDS)
    return {
      id: 'clock',
      server,
      status: 'pass',
      detail: `clock within ${Math.max(1, Math.abs(skew))} s of the server's`,
    };
  return {
    id: 'clock',
    server,
    status: 'fail',
    detail: `this clock is ${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} the server's Date: tokens look expired or not yet valid`,
    fix: 'set the system clock (NTP: timedatectl set-ntp true)',
  };
}
