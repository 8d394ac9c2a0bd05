/**
 * `<home>/config.yaml`: reading it into ServerConfigs, and adding servers or removing one while
 * keeping everything else (comments, order, formatting) as written. Edits take the home's
 * `locks/config.yaml.lock` and replace the file atomically (mode 0600).
 */
import { join } from 'node:path';
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { writeFileAtomic } from '../atomic-file.js';
import { ConfigError } from '../errors.js';
import { acquireFileLock } from '../file-lock.js';
import { readSafeFile, UnsafeFileError } from '../file-safety.js';
import { toStoreError } from '../fs-errors.js';
import { ensureHome, homeFolders } from '../home-folder.js';
import { silentLogger } from '../logger.js';
import {
  type ConfigProblem,
  describeProblem,
  missingSecretDetail,
  problemsFromIssues,
  quoted,
  suggestServerName,
} from './config-problems.js';
import {
  type ConfigFileContent,
  configFileSchema,
  INTEGER_KEYS,
  OAUTH_KEYS,
  RULES,
  resolveClientSecret,
  type ServerSettings,
  type StoreSettings,
  serverNameSchema,
  serverSettingsSchema,
  toIdentityProvider,
  toOAuthConfig,
} from './config-schema.js';
import type { IdentityProviderConfig, OAuthConfig } from './oauth-config.js';

/** A configured server: its MCP endpoint and OAuth settings, the client secret resolved when available. */
export interface ServerConfig {
  name: string;
  url: string;
  oauth: OAuthConfig;
  /**
   * Set when the entry is valid but cannot be used as it stands (its `client_secret_env` names an
   * unset variable): anything that uses the server throws it; listing or removing it still works.
   */
  error?: ConfigError;
}

/** What `loadConfig` returns: the absolute path of the file, its servers and identity providers by name. */
export interface LoadedConfig {
  file: string;
  servers: Map<string, ServerConfig>;
  /** `idps:`; an entry whose `client_secret_env` is unset carries the error instead. */
  idps: Map<string, IdentityProviderConfig | ConfigError>;
  /** The `store:` block (where credentials live), when the file has one. */
  store?: StoreSettings;
}

/** The configuration file's name in the home folder (its edit lock is this name plus `.lock`). */
export const CONFIG_FILE_NAME = 'config.yaml';

/** How long an edit waits for another process editing the same file. */
const EDIT_LOCK_WAIT_MS = 10_000;

/** The absolute path of `config.yaml` in `home` (no I/O). */
export function configPath(home: string): string {
  return join(homeFolders(home).home, CONFIG_FILE_NAME);
}

function errorFrom(lead: string, problems: ConfigProblem[], file: string, base: string[] = []): ConfigError {
  const message = problems.map((problem) => `${lead}${describeProblem(problem, base)}`).join('\n');
  const first = problems[0]!;
  return new ConfigError(message, { file, server: first.server, key: first.key });
}

/**
 * The text of the file, or undefined when it does not exist. Read like a credential record: not
 * through a symbolic link, never a FIFO, and only a file of this user that others cannot write
 * (it names the servers tokens are sent to); a refusal is a ConfigError with the fix.
 */
async function readConfigText(file: string): Promise<string | undefined> {
  try {
    const read = await readSafeFile(file, 'the configuration file');
    return read?.bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UnsafeFileError) throw new ConfigError(error.message, { file });
    throw new ConfigError(toStoreError('read the configuration file', file, error).message, { file });
  }
}

/**
 * Reads `<home>/config.yaml`. A missing file means no servers. Every problem in the file (YAML
 * syntax, an unknown or invalid key, ...) → ConfigError naming the file, the server and the key,
 * and saying what to write instead; when there are several, the message has one line per problem
 * and `server`/`key` name the first. A `client_secret_env` naming an unset variable concerns that
 * server only: it is listed with `error` set, and using it throws that error.
 */
export async function loadConfig(home: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const file = configPath(home);
  const text = await readConfigText(file);
  const servers = new Map<string, ServerConfig>();
  const idps = new Map<string, IdentityProviderConfig | ConfigError>();
  if (text === undefined) return { file, servers, idps };
  const validated = quickParse(text) ?? (await parseWithReport(file, text));
  for (const [name, settings] of Object.entries(validated.idps ?? {})) {
    const resolved = toIdentityProvider(name, settings, env);
    idps.set(
      name,
      resolved.ok
        ? resolved.idp
        : errorFrom(
            `${file}: `,
            [
              {
                subject: ['idps', name, 'client_secret_env'],
                detail: missingSecretDetail(resolved.variable, resolved.empty),
              },
            ],
            file,
          ),
    );
  }

  for (const [name, settings] of Object.entries(validated.servers ?? {})) {
    const secret = resolveClientSecret(settings.oauth, env);
    if (!secret.ok) {
      // Only this server is unusable until the variable is set: the others, and `status` or
      // `servers remove` of this one, keep working. Using it throws this error.
      const problem: ConfigProblem = {
        subject: ['servers', name, 'oauth', 'client_secret_env'],
        detail: missingSecretDetail(secret.variable, secret.empty),
        server: name,
        key: 'oauth.client_secret_env',
      };
      servers.set(name, {
        name,
        url: settings.url,
        oauth: toOAuthConfig(settings.oauth),
        error: errorFrom(`${file}: `, [problem], file),
      });
      continue;
    }
    const oauth = toOAuthConfig(settings.oauth, secret.secret);
    const idp = settings.oauth?.idp === undefined ? undefined : idps.get(settings.oauth.idp);
    if (idp instanceof ConfigError) {
      servers.set(name, { name, url: settings.url, oauth, error: idp });
      continue;
    }
    if (idp) oauth.identityProvider = idp;
    servers.set(name, { name, url: settings.url, oauth });
  }
  return validated.store ? { file, servers, idps, store: validated.store } : { file, servers, idps };
}

/**
 * The fast path for a valid file: js-yaml (YAML 1.2 core schema, as the `yaml` library reads it)
 * and the schema. About five times faster than building the comment-keeping document, which is
 * most of what `mcp-oauth status` costs with many servers. Undefined when the text does not parse
 * or validate: the full path then reports the problems with their lines and columns.
 */
function quickParse(text: string): ConfigFileContent | undefined {
  let data: unknown;
  try {
    data = loadYaml(text, { schema: CORE_SCHEMA, json: false });
  } catch {
    return undefined;
  }
  const parsed = configFileSchema.safeParse(data ?? {});
  return parsed.success ? parsed.data : undefined;
}

/** The full path: the `yaml` document, so every problem names its line, column and source text. */
async function parseWithReport(file: string, text: string): Promise<ConfigFileContent> {
  const { parseConfigDocument, sourcesOf, toPlainData } = await import('./config-document.js');
  const doc = parseConfigDocument(file, text);
  const data = toPlainData(file, doc) ?? {};
  const parsed = configFileSchema.safeParse(data);
  if (!parsed.success)
    throw errorFrom(`${file}: `, problemsFromIssues(parsed.error.issues, data, [], sourcesOf(doc)), file);
  return parsed.data;
}

/** Command-line style values: digits for the integer keys become numbers, numbers for text keys become text. */
function normalizeOAuthInput(oauth: Record<string, string | number>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(oauth)) {
    if (INTEGER_KEYS.has(key) && typeof value === 'string' && /^\s*\d+\s*$/.test(value))
      out[key] = Number(value);
    else if (!INTEGER_KEYS.has(key) && OAUTH_KEYS.includes(key) && typeof value === 'number')
      out[key] = String(value);
    else out[key] = value;
  }
  return out;
}

async function withEditLock<T>(home: string, file: string, fn: () => Promise<T>): Promise<T> {
  const { locksDir } = await ensureHome(home);
  const release = await acquireFileLock(join(locksDir, `${CONFIG_FILE_NAME}.lock`), {
    waitMs: EDIT_LOCK_WAIT_MS,
    logger: silentLogger,
    what: `the configuration file ${file}`,
  });
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** A server to add: `oauth` keys are snake_case as in the file; digit strings are accepted for the integer keys. */
export interface NewServerEntry {
  name: string;
  url: string;
  oauth?: Record<string, string | number>;
}

/**
 * Adds a server to `<home>/config.yaml`, validated with the same schema as `loadConfig`.
 * ConfigError, with nothing written, when the name is taken or the entry is invalid. Creates the
 * home (ensureHome) and the file (0600, atomic) when needed; keeps the comments and order of an
 * existing file. A `client_secret_env` variable need not be set yet: the returned OAuthConfig
 * carries the secret only when it is.
 */
export async function addServer(home: string, entry: NewServerEntry): Promise<ServerConfig> {
  const [added] = await addServers(home, [entry]);
  return added!;
}

/**
 * `addServer` for many servers at once: one lock, one read and one write of the file, however
 * many servers (adding them one by one rewrites the whole file each time). All or nothing: every
 * entry is validated, and its name checked against the file and the rest of the batch, before
 * anything is written; the first problem is the ConfigError `addServer` would throw for it.
 * Returns the servers in the order given.
 */
export async function addServers(home: string, entries: readonly NewServerEntry[]): Promise<ServerConfig[]> {
  const file = configPath(home);
  const validated = entries.map((entry) => validateEntry(file, entry));
  if (validated.length === 0) return [];

  const { keyText, newDocument, parseConfigDocument, serializeDocument, serversMapOf } = await import(
    './config-document.js'
  );
  await withEditLock(home, file, async () => {
    const text = await readConfigText(file);
    const doc = text === undefined ? newDocument() : parseConfigDocument(file, text);
    const servers = serversMapOf(file, doc);
    const taken = new Set(servers.items.map((pair) => keyText(pair.key)));
    for (const { name } of validated) {
      if (taken.has(name)) {
        throw new ConfigError(
          `${file}: servers.${name} already exists; choose another name, or remove the existing server first.`,
          { file, server: name },
        );
      }
      taken.add(name);
    }
    if (servers.items.length === 0) servers.flow = false;
    for (const { name, settings } of validated) {
      const written: Record<string, unknown> = { url: settings.url };
      if (settings.oauth && Object.keys(settings.oauth).length > 0) written.oauth = settings.oauth;
      servers.add(doc.createPair(name, written));
    }
    await writeFileAtomic(file, serializeDocument(doc));
  });

  return validated.map(({ name, settings }) => {
    const secret = resolveClientSecret(settings.oauth, process.env);
    return {
      name,
      url: settings.url,
      oauth: toOAuthConfig(settings.oauth, secret.ok ? secret.secret : undefined),
    };
  });
}

/** The entry as it will be written, or the ConfigError that keeps it out of the file. */
function validateEntry(file: string, entry: NewServerEntry): { name: string; settings: ServerSettings } {
  const { name } = entry;
  const lead = `Cannot add MCP server ${quoted(String(name))} to ${file}: `;
  if (!serverNameSchema.safeParse(name).success) {
    throw new ConfigError(
      `${lead}${RULES.serverName}; use e.g. ${suggestServerName(String(name))} instead.`,
      {
        file,
        server: String(name),
      },
    );
  }
  const input: Record<string, unknown> = { url: entry.url };
  if (entry.oauth && Object.keys(entry.oauth).length > 0) input.oauth = normalizeOAuthInput(entry.oauth);
  const parsed = serverSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const base = ['servers', name];
    throw errorFrom(lead, problemsFromIssues(parsed.error.issues, input, base), file, base);
  }
  return { name, settings: parsed.data };
}

/**
 * Removes a server from `<home>/config.yaml`; false when it was not configured (or there is no
 * file). Keeps the comments and order of the rest; comments attached to the removed entry go with
 * it. The rest of the file is not validated, so a broken entry can always be removed.
 */
export async function removeServer(home: string, name: string): Promise<boolean> {
  const file = configPath(home);
  if ((await readConfigText(file)) === undefined) return false;
  const { isMap } = await import('yaml');
  const { keyText, parseConfigDocument, serializeDocument } = await import('./config-document.js');
  return withEditLock(home, file, async () => {
    const text = await readConfigText(file);
    if (text === undefined) return false;
    const doc = parseConfigDocument(file, text);
    const servers = isMap(doc.contents) ? doc.contents.get('servers', true) : undefined;
    if (!isMap(servers)) return false;
    const index = servers.items.findIndex((pair) => keyText(pair.key) === name);
    if (index < 0) return false;
    servers.items.splice(index, 1);
    await writeFileAtomic(file, serializeDocument(doc));
    return true;
  });
}
