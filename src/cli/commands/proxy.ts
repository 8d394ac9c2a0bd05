import { createWriteStream, type WriteStream } from 'node:fs';
import { sep } from 'node:path';
import { type Command, Option } from 'commander';
import { ConfigError } from '../../errors.js';
import { type Logger, redactingLogger, registerSecret } from '../../logger.js';
import { displayText } from '../../terminal-text.js';
import { type CliContext, readConfig } from '../context.js';
import type { Dispatch } from '../runner.js';

/** What `--transport` accepts: ours, and mcp-remote's names for the same choices. */
const TRANSPORTS = {
  auto: 'auto',
  'streamable-http': 'streamable-http',
  sse: 'sse',
  'http-first': 'auto',
  'sse-first': 'auto',
  'http-only': 'streamable-http',
  'sse-only': 'sse',
} as const;

/** The arguments of `mcp-oauth proxy <server> [callback-port]`. */
export interface ProxyInput {
  server: string;
  callbackPort?: string;
  port?: string;
  header: string[];
  transport: keyof typeof TRANSPORTS;
  login: boolean;
  logFile?: string;
  debug?: boolean;
}

/** Defines `proxy <server>` and hands its inputs to `dispatch`. */
export function registerProxy(program: Command, dispatch: Dispatch): void {
  program
    .command('proxy')
    .description('relay MCP between a stdio host and a remote server, with this tool owning the login')
    .argument('<server>', 'a configured server name, or the server URL (added to config.yaml if new)')
    .argument('[callback-port]', 'OAuth callback port (as mcp-remote takes it)')
    .option('--port <port>', 'OAuth callback port (same as the positional callback-port)')
    .option(
      '--header <header>',
      'extra HTTP header "Name: value" on every request to the MCP server (repeatable)',
      collect,
      [],
    )
    .addOption(
      new Option('--transport <mode>', 'transport to the server')
        .choices(Object.keys(TRANSPORTS))
        .default('auto'),
    )
    .option('--no-login', 'never open a browser: answer requests with the login command instead')
    .option('--log-file <path>', 'also append the logs to this file (they always go to stderr)')
    .option(
      '--allow-http',
      'accepted for mcp-remote compatibility: plain HTTP is allowed only for loopback servers',
    )
    .option('--debug', 'debug logs (same as --verbose)')
    .addOption(new Option('--silent', 'accepted for mcp-remote compatibility (no effect)').hideHelp())
    .addHelpText(
      'after',
      `
stdout carries only the MCP protocol; logs go to stderr (and --log-file). The proxy exits 0 when
the host closes stdin, 143 on SIGTERM, and at once when the host process dies.

When the server needs a login, the proxy opens the browser (one login per server, shared with
every other proxy and process using the same home) and holds requests until it completes. With
--no-login, or when no browser can be opened (no $BROWSER and no display), requests are answered
with a JSON-RPC error that names the login command to run; after that login the next request
succeeds, without restarting the proxy.

mcp-remote flags: --header, a callback port (positional or --port), --transport
(http-first, sse-first: auto; http-only: streamable-http; sse-only: sse), --allow-http (plain
HTTP stays loopback-only), --debug. Logs go to stderr, not ~/.mcp-auth.

Host configuration (Claude Desktop, Cursor, ...):
  "command": "npx", "args": ["-y", "mcp-oauth-manager", "proxy", "https://mcp.example.com/mcp"]`,
    )
    .action(
      (
        server: string,
        callbackPort: string | undefined,
        options: Omit<ProxyInput, 'server'>,
        command: Command,
      ) => dispatch(command, runProxy, { ...options, server, ...(callbackPort ? { callbackPort } : {}) }),
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Runs the proxy until the host closes stdin; every failure before that is thrown (exit 1 or 2). */
export async function runProxy(ctx: CliContext, input: ProxyInput): Promise<void> {
  const headers = parseHeaders(input.header, ctx.io.env);
  const port = parsePort(input.port ?? input.callbackPort);
  const verbose = ctx.verbose || input.debug === true;
  const logFile = input.logFile ? createWriteStream(input.logFile, { flags: 'a', mode: 0o600 }) : undefined;
  const logger = proxyLogger(ctx, logFile, verbose);
  try {
    await readConfig(ctx); // refuses a home others can write, before anything is added to it
    const { resolveProxyTarget } = await import('../../host/stdio-proxy-target.js');
    const { server, added } = await resolveProxyTarget(ctx.home, input.server);
    if (added) logger.info(`added server '${server.name}' (${server.url}) to the configuration`);
    const loginCommand = loginCommandFor(ctx, server.name);
    const browser = Boolean(ctx.io.openBrowser) || browserAvailable(ctx.io.env);
    const interactive = input.login && browser ? 'always' : 'never';
    if (input.login && !browser)
      logger.info(
        'no browser can be opened here: requests that need a login are answered with the login command',
      );
    const { OAuthManager } = await import('../../manager/oauth-manager.js');
    const manager = new OAuthManager({
      home: ctx.home,
      interactive,
      logger,
      reloginCommand: (name) => loginCommandFor(ctx, name),
      // The global --account (or MCP_OAUTH_ACCOUNT): the credential of that account.
      ...(ctx.account !== undefined ? { account: ctx.account } : {}),
      ...(ctx.io.openBrowser ? { openBrowser: ctx.io.openBrowser } : {}),
    });
    try {
      const { runStdioProxy } = await import('../../host/stdio-proxy.js');
      logger.info(`relaying stdio to '${server.name}' (${server.url})`);
      await runStdioProxy({
        manager,
        server: server.name,
        url: new URL(server.url),
        oauth: port === undefined ? server.oauth : { ...server.oauth, redirectPort: port },
        transport: TRANSPORTS[input.transport],
        headers,
        logger,
        stdin: ctx.io.stdin,
        stdout: ctx.io.stdout as unknown as NodeJS.WritableStream,
        loginCommand,
      });
      logger.info('the host closed stdin; exiting');
    } finally {
      await manager.close();
    }
  } finally {
    await new Promise<void>((resolve) => (logFile ? logFile.end(resolve) : resolve()));
  }
}

/**
 * The login command in the form the proxy was started with: `npx -y mcp-oauth-manager ...` when
 * npm's `npx` (npm exec) started it, else `mcp-oauth ...`; with `--home` when the home is not the
 * default one, and `--account` when the account is not the default one.
 */
export function loginCommandFor(ctx: CliContext, server: string): string {
  const command = ctx.loginCommand(server);
  return launchedThroughNpx(ctx.io.env, process.argv[1])
    ? command.replace(/^mcp-oauth\b/, 'npx -y mcp-oauth-manager')
    : command;
}

/**
 * Whether npm's `npx` (`npm exec`) started this process: npm sets `npm_command=exec` in the
 * environment of what it runs, and `npx -y PKG` installs PKG in npm's cache under `_npx/`, where
 * the binary's path then lies.
 */
export function launchedThroughNpx(env: NodeJS.ProcessEnv, script: string | undefined): boolean {
  if (env.npm_command === 'exec') return true;
  return script?.includes(`${sep}_npx${sep}`) === true;
}

/** Whether a browser can be opened: `$BROWSER`, a desktop OS, or a display on Linux and BSD. */
function browserAvailable(env: NodeJS.ProcessEnv): boolean {
  if (env.BROWSER?.trim()) return true;
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * `--header "Name: value"` (mcp-remote's form, also `Name:value`), where `${VAR}` is replaced by the
 * environment variable VAR as mcp-remote does (so a host config can keep the secret in its `env`
 * block). Values are secrets to the logs.
 */
function parseHeaders(lines: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new ConfigError(
        `--header must be "Name: value" (e.g. --header "X-Api-Key: ..."); got a header without a valid name.`,
      );
    }
    const value = line
      .slice(colon + 1)
      .trim()
      .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
        const found = env[variable];
        if (found === undefined) {
          throw new ConfigError(
            `--header ${name} uses \${${variable}}, which is not set in the environment; set it (e.g. in the host's "env" block).`,
          );
        }
        return found;
      });
    registerSecret(value);
    headers[name] = value;
  }
  return headers;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new ConfigError(
      `The callback port must be a number from 1 to 65535; got ${displayText(value, 20)}.`,
    );
  }
  return port;
}

/** Info and above (debug with --verbose/--debug) on stderr and in the log file, redacted, one line each. */
function proxyLogger(ctx: CliContext, file: WriteStream | undefined, verbose: boolean): Logger {
  const write =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (level === 'debug' && !verbose) return;
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      const line = `[mcp-oauth proxy] ${level} ${displayText(message, Number.POSITIVE_INFINITY)}${extra}\n`;
      ctx.io.stderr.write(line);
      file?.write(`${new Date().toISOString()} ${line}`);
    };
  return redactingLogger({
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  });
}
