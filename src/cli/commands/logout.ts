import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { withSession } from '../context.js';
import type { Dispatch } from '../runner.js';

/** The arguments of `mcp-oauth logout <server> [--reset]`. */
export interface LogoutInput {
  server: string;
  /** Also forget the client registration. */
  reset: boolean;
}

/** Defines `logout <server> [--reset]` and hands the server and the `reset` flag to `dispatch`. */
export function registerLogout(program: Command, dispatch: Dispatch): void {
  program
    .command('logout')
    .description('revoke the tokens at the server (best effort) and delete them')
    .argument('<server>', 'server name')
    .option('--reset', 'also forget the client registration (fixes a stale dynamically registered client)')
    .addHelpText(
      'after',
      `
Examples:
  $ mcp-oauth logout notion
  $ mcp-oauth logout notion --reset && mcp-oauth login notion   # register a new client`,
    )
    .action((server: string, options: { reset?: boolean }, command: Command) =>
      dispatch(command, runLogout, { server, reset: options.reset === true }),
    );
}

/**
 * Revokes the tokens where the server offers it (best effort) and deletes them, with `reset` also the client
 * registration; says what happened on stdout. Not logged in is not an error; an unknown server exits 2.
 */
export async function runLogout(ctx: CliContext, { server, reset }: LogoutInput): Promise<void> {
  const outcome = await withSession(ctx, 'never', async ({ manager, use }) => {
    use(server);
    return manager.logout(server, { reset });
  });
  if (ctx.json) {
    ctx.out.json({ server, existed: outcome.existed, revoked: outcome.revoked, reset });
    return;
  }
  if (!outcome.existed) {
    ctx.out.result(`Not logged in to ${server}; nothing to remove.`);
    return;
  }
  const revoked = outcome.revoked
    ? 'revoked at the server'
    : 'deleted here; the server was not asked to revoke them (it offers no revocation, or did not answer)';
  const forgot = reset ? '; client registration forgotten' : '';
  ctx.out.result(ctx.out.success(`Logged out of ${server} (tokens ${revoked}${forgot})`));
}
