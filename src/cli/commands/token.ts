import type { Command } from 'commander';
import { ConfigError, TransientAuthError } from '../../errors.js';
import type { OAuthManager } from '../../index.js';
import type { CliContext } from '../context.js';
import { withSession } from '../context.js';
import type { Dispatch } from '../runner.js';

/** The arguments of `mcp-oauth token <server>`. */
export interface TokenInput {
  server: string;
}

/** Defines `token <server>` and hands the server name to `dispatch`. */
export function registerToken(program: Command, dispatch: Dispatch): void {
  program
    .command('token')
    .description('print a valid access token (refreshed if needed) for scripts; nothing else on stdout')
    .argument('<server>', 'server name')
    .addHelpText(
      'after',
      `
Exits with 3, and prints nothing on stdout, when the server needs a new login; the command to
run is on stderr.

Examples:
  $ curl -H "Authorization: Bearer $(mcp-oauth token notion)" https://mcp.notion.com/mcp
  $ mcp-oauth --json token notion     # {"server","accessToken","expiresAt","expiresIn"}`,
    )
    .action((server: string, _options: unknown, command: Command) => dispatch(command, runToken, { server }));
}

/** The only command that prints a token: on stdout, alone (or in `--json`), never on stderr. */
export async function runToken(ctx: CliContext, { server }: TokenInput): Promise<void> {
  const { token, status } = await withSession(ctx, 'never', async ({ manager, use }) => {
    use(server);
    const token = await freshToken(ctx, manager, server);
    return { token, status: await manager.status(server) };
  });
  if (ctx.json) {
    ctx.out.json({ server, accessToken: token, expiresAt: status.expiresAt, expiresIn: status.expiresIn });
    return;
  }
  ctx.out.result(token);
}

/**
 * A token a script can use for a while: inside the skew window the refresh is run (and awaited)
 * first, rather than printing a token about to expire. If that refresh fails for a transient
 * reason, the current token is still valid and is printed, with a warning.
 */
async function freshToken(ctx: CliContext, manager: OAuthManager, server: string): Promise<string> {
  const before = await manager.status(server);
  if (before.state === 'no_auth') {
    // Usage, not failure (exit 2): there is no token to print, and none is needed.
    throw new ConfigError(
      `MCP server '${server}' needs no token: it answered requests sent without authentication (state no_auth). Send its requests without an Authorization header.`,
      { server },
    );
  }
  if (before.state === 'expiring') {
    try {
      await manager.refreshNow(server);
    } catch (error) {
      if (!(error instanceof TransientAuthError)) throw error;
      ctx.out.note(`warning: ${error.message} The current token is still valid.`);
    }
  }
  return manager.accessToken(server);
}
