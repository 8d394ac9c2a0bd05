import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../../context.js';
import type { Dispatch } from '../../runner.js';

interface AddOptions {
  clientId?: string;
  clientSecretEnv?: string;
  clientMetadataUrl?: string;
  scope?: string;
  redirectPort?: number;
  login?: boolean;
}

/** The arguments of `mcp-oauth servers add <name> <url>`, its options as `oauth:` keys. */
export interface ServersAddInput {
  name: string;
  url: string;
  /** The `oauth:` keys of config.yaml (snake_case, as people write them). */
  oauth: Record<string, string | number>;
  /** `--login`: log in right after adding (the browser flow, as `mcp-oauth login NAME`). */
  login?: boolean;
}

/** Defines `servers add <name> <url>` and its OAuth options; hands them to `dispatch` as config.yaml keys. */
export function registerServersAdd(servers: Command, dispatch: Dispatch): void {
  servers
    .command('add')
    .description('add a server to config.yaml (then log in to it)')
    .argument('<name>', 'a name of your choice, used by every other command')
    .argument('<url>', 'the MCP endpoint (https; plain http only on 127.0.0.1, ::1 or localhost)')
    .option('--client-id <id>', 'a pre-registered OAuth client id (else the client registers itself)')
    // A secret is taken only by environment variable name: a secret typed on a command line
    // ends up in the shell history and in `ps`.
    .option(
      '--client-secret-env <var>',
      "the environment variable holding the pre-registered client's secret",
    )
    .option(
      '--client-metadata-url <url>',
      'a Client ID Metadata Document URL (used where the server supports it)',
    )
    .option('--scope <scopes>', 'the scope to request, space-separated (default: what the server advertises)')
    .option(
      '--redirect-port <port>',
      'a fixed loopback port for the login callback (default: any free port)',
      parsePort,
    )
    .option('--login', 'log in right after adding it (as `mcp-oauth login <name>`)')
    .addHelpText(
      'after',
      `
Examples:
  $ mcp-oauth servers add notion https://mcp.notion.com/mcp
  $ mcp-oauth servers add notion https://mcp.notion.com/mcp --login
  $ mcp-oauth servers add acme https://mcp.acme.dev/mcp --client-id cli-123 \\
      --client-secret-env ACME_SECRET --scope "read write" --redirect-port 8976`,
    )
    .action((name: string, url: string, options: AddOptions, command: Command) =>
      dispatch(command, runServersAdd, {
        name,
        url,
        oauth: oauthKeys(options),
        ...(options.login ? { login: true } : {}),
      }),
    );
}

/**
 * Adds the server to config.yaml (created if needed); prints the file on stdout and the login to run next on
 * stderr (`--json`: name, url, file). A taken name or invalid entry: ConfigError (exit 2), nothing written.
 */
export async function runServersAdd(ctx: CliContext, input: ServersAddInput): Promise<void> {
  const { addServers, configPath } = await import('../../../config/index.js');
  await addServers(ctx.home, [input]);
  const file = configPath(ctx.home);
  warnUnsetSecretVariable(ctx, input);
  if (input.login) {
    // One JSON object on stdout: with --json, the login's (the server is in config.yaml either way).
    if (!ctx.json) ctx.out.note(ctx.out.success(`Added ${input.name} (${input.url}) to ${file}`));
    const { runLogin } = await import('../login.js');
    await runLogin(ctx, { server: input.name, flow: 'browser' });
    return;
  }
  if (ctx.json) {
    ctx.out.json({ name: input.name, url: input.url, file });
    return;
  }
  ctx.out.result(ctx.out.success(`Added ${input.name} (${input.url}) to ${file}`));
  ctx.out.note(`Next: ${ctx.loginCommand(input.name)}`);
}

/**
 * Saved either way (the variable may be set in the shell that logs in), but said at once: a login
 * or refresh would otherwise fail later, far from the command that caused it.
 */
function warnUnsetSecretVariable(ctx: CliContext, input: ServersAddInput): void {
  const variable = input.oauth.client_secret_env;
  if (typeof variable !== 'string' || (ctx.io.env[variable] ?? '') !== '') return;
  ctx.out.note(
    `warning: the environment variable ${variable} is not set here; set it (export ${variable}=...) in the shell that runs mcp-oauth, or the login will fail.`,
  );
}

/** The command line's options as the `oauth:` keys of config.yaml. */
function oauthKeys(options: AddOptions): Record<string, string | number> {
  const keys: Record<string, string | number> = {};
  if (options.clientId !== undefined) keys.client_id = options.clientId;
  if (options.clientSecretEnv !== undefined) keys.client_secret_env = options.clientSecretEnv;
  if (options.clientMetadataUrl !== undefined) keys.client_metadata_url = options.clientMetadataUrl;
  if (options.scope !== undefined) keys.scope = options.scope;
  if (options.redirectPort !== undefined) keys.redirect_port = options.redirectPort;
  return keys;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new InvalidArgumentError('Write a port number from 0 to 65535 (0 picks any free port).');
  }
  return port;
}
