import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { ensureHome, resolveHome } from '../home-folder.js';
import type { Interactive, ManagedProvider, OAuthConfig, OAuthManager } from '../index.js';
import { consoleLogger, type Logger, silentLogger } from '../logger.js';
import { shellQuote } from '../shell-quote.js';

/** The global options every command sees (`optsWithGlobals()`). */
export interface GlobalOptions {
  home?: string;
  json?: boolean;
  verbose?: boolean;
}

/** What a command needs before it touches any credential. */
export interface CliContext {
  /** Absolute home folder: `--home` > MCP_OAUTH_HOME > ~/.mcp-oauth. */
  home: string;
  json: boolean;
  verbose: boolean;
  logger: Logger;
  /** The exact command that logs in to `server` from any shell and any folder. */
  loginCommand(server: string): string;
}

export interface ConfiguredServer {
  name: string;
  url: string;
  oauth: OAuthConfig;
  /** Set when the server cannot be used as configured (an unset client_secret_env): require() throws it. */
  error?: ConfigError;
}

export function createContext(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CliContext {
  // resolveHome also reads MCP_OAUTH_HOME and expands `~/`; the result is absolute, so the
  // commands printed below work from any folder.
  const home = resolveHome(options.home || env.MCP_OAUTH_HOME || undefined);
  const defaultHome = join(homedir(), '.mcp-oauth');
  // `--home` is part of the command whenever the home is not the default one: a command copied
  // into another shell (without MCP_OAUTH_HOME) must still reach the same credentials.
  const homeArg = home === defaultHome ? '' : ` --home ${shellQuote(home)}`;
  return {
    home,
    json: options.json === true,
    verbose: options.verbose === true,
    logger: options.verbose ? consoleLogger('debug') : silentLogger,
    loginCommand: (server) => `mcp-oauth${homeArg} login ${shellQuote(server)}`,
  };
}

/** The servers of `config.yaml`, and a lookup that turns an unknown name into a usage error. */
export interface LoadedConfig {
  file: string;
  servers: Map<string, ConfiguredServer>;
  require(name: string): ConfiguredServer;
}

export async function readConfig(ctx: CliContext): Promise<LoadedConfig> {
  // Refuse a home that others can write before reading anything from it (InsecureHomeError, exit
  // 2, "chmod 700 ..."). Left to the manager, such a home shows up as a credential that "needs a
  // new login", which sends the person to the wrong fix. A missing home is created later, 0700,
  // by whatever writes to it first.
  if (existsSync(ctx.home)) await ensureHome(ctx.home);
  const { loadConfig } = await import('../config/index.js');
  const config = await loadConfig(ctx.home, process.env);
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

export interface Session {
  manager: OAuthManager;
  config: LoadedConfig;
  /** Builds the provider of a configured server (an unknown name is a usage error, exit 2). */
  use(name: string): ManagedProvider;
}

/**
 * Runs `fn` with a manager on the context's home, and always closes the manager (watchers,
 * timers, the store) afterwards, whatever happened.
 *
 * `interactive`: 'always' only for `login`, where the person explicitly asked to log in; every
 * other command is 'never', so that `token` or `status` can never open a browser: they fail with
 * exit 3 and the login command instead.
 */
export async function withSession<T>(
  ctx: CliContext,
  interactive: Interactive,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const config = await readConfig(ctx);
  ctx.logger.debug(`home ${ctx.home}, configuration ${config.file} (${config.servers.size} servers)`);
  const { OAuthManager } = await import('../manager/oauth-manager.js');
  const manager = new OAuthManager({
    home: ctx.home,
    interactive,
    logger: ctx.logger,
    reloginCommand: ctx.loginCommand,
  });
  try {
    return await fn({
      manager,
      config,
      use(name) {
        const server = config.require(name);
        return manager.getOrBuildProvider(server.name, server.url, server.oauth);
      },
    });
  } finally {
    await manager.close();
  }
}
