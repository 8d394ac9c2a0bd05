import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { DEFAULT_HOME_FOLDER_NAME, ensureHome, HOME_ENV_VAR, resolveHome } from '../home-folder.js';
import type { Interactive, ManagedProvider, OAuthConfig, OAuthManager } from '../index.js';
import { type Logger, redactingLogger, silentLogger } from '../logger.js';
import { shellQuote } from '../shell-quote.js';
import { displayText } from '../terminal-text.js';
import { DEFAULT_ACCOUNT_NAME } from './account-name.js';
import type { CliIO, OutputStream } from './io.js';
import { Output, terminalSafeJson } from './output.js';

/** The global options every command sees (`optsWithGlobals()`). */
export interface GlobalOptions {
  home?: string;
  account?: string;
  json?: boolean;
  verbose?: boolean;
}

/** What a command needs before it touches any credential. */
export interface CliContext {
  io: CliIO;
  out: Output;
  /** Absolute home folder: `--home` > MCP_OAUTH_HOME > ~/.mcp-oauth. */
  home: string;
  /**
   * The account of every key: `--account` > MCP_OAUTH_ACCOUNT; undefined is the default account
   * (the unset key, today's file names), which `--account default` names too.
   */
  account: string | undefined;
  json: boolean;
  verbose: boolean;
  logger: Logger;
  /**
   * The exact command that logs in to `server` from any shell and any folder, for `account` (as
   * shown: `default` for the default account; unset: the context's account).
   */
  loginCommand(server: string, account?: string): string;
}

/** A server of config.yaml as commands use it (the shape of config-file's ServerConfig). */
export interface ConfiguredServer {
  name: string;
  url: string;
  oauth: OAuthConfig;
  /** Set when the server cannot be used as configured (an unset client_secret_env): require() throws it. */
  error?: ConfigError;
}

/**
 * Builds a command's context: home from `--home` > MCP_OAUTH_HOME > ~/.mcp-oauth (read from io.env), a
 * redacting debug logger on stderr with `--verbose`, and login commands that carry a non-default `--home`.
 */
export function createContext(options: GlobalOptions, io: CliIO): CliContext {
  // The default is spelled out here rather than left to resolveHome, which would read
  // process.env: the command's environment is io.env.
  const defaultHome = join(homedir(), DEFAULT_HOME_FOLDER_NAME);
  // `--home ""` (an unset variable in a script, `--home "$DIR"`) is a mistake, not the default.
  if (options.home === '')
    throw new ConfigError('--home is empty: give a folder (--home DIR), or leave it out for ~/.mcp-oauth.');
  const home = resolveHome(options.home || io.env[HOME_ENV_VAR] || defaultHome);
  // `--home` is part of the command whenever the home is not the default one: a command copied
  // into another shell (without MCP_OAUTH_HOME) must still reach the same credentials.
  const homeArg = home === defaultHome ? '' : ` --home ${shellQuote(home)}`;
  const account = accountOf(options.account ?? io.env[ACCOUNT_ENV_VAR]);
  // `--account` whenever the command is not for the default account of a shell without
  // MCP_OAUTH_ACCOUNT, so the command is right wherever it is pasted.
  const accountArg = (shown: string) =>
    shown === DEFAULT_ACCOUNT_NAME && account === undefined ? '' : ` --account ${shellQuote(shown)}`;
  return {
    io,
    out: new Output(io),
    home,
    account,
    json: options.json === true,
    verbose: options.verbose === true,
    logger: options.verbose ? debugLogger(io.stderr) : silentLogger,
    loginCommand: (server, forAccount) =>
      `mcp-oauth${homeArg}${accountArg(forAccount ?? account ?? DEFAULT_ACCOUNT_NAME)} login ${shellQuote(server)}`,
  };
}

/** The environment variable that names the account when `--account` is not given. */
export const ACCOUNT_ENV_VAR = 'MCP_OAUTH_ACCOUNT';

/**
 * The store key's account for a name given by a person: unset or `default` is the default account
 * (the unset key); an empty name is a usage error.
 */
export function accountOf(name: string | undefined): string | undefined {
  if (name === undefined || name === DEFAULT_ACCOUNT_NAME) return undefined;
  if (name.trim().length === 0)
    throw new ConfigError(
      `An account name cannot be empty: give --account NAME (or ${ACCOUNT_ENV_VAR}), or leave both unset for the default account.`,
    );
  return name;
}

/**
 * consoleLogger's lines (`[mcp-oauth] debug ...`, redacted), on the command's stderr. A message
 * can quote a server (an error code, an issuer): one line each, without control characters.
 */
function debugLogger(stream: OutputStream): Logger {
  const write =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      const extra = fields && Object.keys(fields).length > 0 ? ` ${terminalSafeJson(fields)}` : '';
      stream.write(`[mcp-oauth] ${level} ${displayText(message, Number.POSITIVE_INFINITY)}${extra}\n`);
    };
  return redactingLogger({
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  });
}

/** The servers of `config.yaml`, and a lookup that turns an unknown name into a usage error. */
export interface LoadedConfig {
  file: string;
  servers: Map<string, ConfiguredServer>;
  require(name: string): ConfiguredServer;
}

/**
 * `config.yaml` in the home (CONFIG_FILE_NAME of src/config/config-file.ts, spelled out because
 * importing that module loads the YAML parser and the schemas).
 */
export function configFileOf(home: string): string {
  return join(home, 'config.yaml');
}

/**
 * Reads the home's config.yaml, first refusing a home others can write (InsecureHomeError); no file means
 * no servers, without loading the parser. `require` throws ConfigError (exit 2) for an unknown or unusable
 * server.
 */
export async function readConfig(ctx: CliContext): Promise<LoadedConfig> {
  // Refuse a home that others can write before reading anything from it (InsecureHomeError, exit
  // 2, "chmod 700 ..."). Left to the manager, such a home shows up as a credential that "needs a
  // new login", which sends the person to the wrong fix. A missing home is created later, 0700,
  // by whatever writes to it first.
  if (existsSync(ctx.home)) await ensureHome(ctx.home);
  const file = configFileOf(ctx.home);
  // No file, no servers: not loading the parser and the schemas keeps such a command fast.
  const config = existsSync(file)
    ? await (await import('../config/index.js')).loadConfig(ctx.home, ctx.io.env)
    : { file, servers: new Map<string, ConfiguredServer>() };
  return {
    file: config.file,
    servers: config.servers,
    require(name) {
      const server = config.servers.get(name);
      if (server?.error) throw server.error;
      if (server) return server;
      const known = [...config.servers.keys()];
      throw new ConfigError(
        `Unknown server '${name}': it is not in ${config.file}. ${
          known.length > 0 ? `Configured: ${known.join(', ')}. ` : ''
        }Add it with: mcp-oauth servers add ${shellQuote(name)} <url>`,
        { file: config.file, server: name },
      );
    },
  };
}

/** What `withSession` hands its callback: the manager, the configuration read, and a provider lookup. */
export interface Session {
  manager: OAuthManager;
  config: LoadedConfig;
  /** Builds the provider of a configured server (an unknown name is a usage error, exit 2). */
  use(name: string): ManagedProvider;
}

/**
 * Runs `fn` with a manager on the context's home, and always closes the manager (watchers,
 * timers, the store) afterwards, whatever happened. `config` when the caller has read it already.
 *
 * `interactive`: 'always' only for `login`, where the person explicitly asked to log in; every
 * other command is 'never', so that `token` or `status` can never open a browser: they fail with
 * exit 3 and the login command instead.
 */
export async function withSession<T>(
  ctx: CliContext,
  interactive: Interactive,
  fn: (session: Session) => Promise<T>,
  config?: LoadedConfig,
): Promise<T> {
  const loaded = config ?? (await readConfig(ctx));
  ctx.logger.debug(`home ${ctx.home}, configuration ${loaded.file} (${loaded.servers.size} servers)`);
  // Loaded only here: the manager brings the OAuth and MCP client code, which no command needs
  // before it touches a credential.
  const { OAuthManager } = await import('../manager/oauth-manager.js');
  // The manager registers every secret of every record it reads with the redactor, so no line
  // this process prints can show them.
  const manager = new OAuthManager({
    home: ctx.home,
    // The command's environment selects the store (MCP_OAUTH_STORE) and its encryption keys.
    env: ctx.io.env,
    ...(ctx.account === undefined ? {} : { account: ctx.account }),
    interactive,
    logger: ctx.logger,
    reloginCommand: ctx.loginCommand,
    ...(ctx.io.openBrowser ? { openBrowser: ctx.io.openBrowser } : {}),
  });
  try {
    return await fn({
      manager,
      config: loaded,
      use(name) {
        const server = loaded.require(name);
        return manager.getOrBuildProvider(server.name, server.url, server.oauth);
      },
    });
  } finally {
    await manager.close();
  }
}
