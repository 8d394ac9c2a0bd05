import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { withSession } from '../context.js';
import type { Dispatch } from '../runner.js';
import { expirySummary, statusJson } from '../status-view.js';

/** The arguments of `mcp-oauth refresh <server>`. */
export interface RefreshInput {
  server: string;
}

/** Defines `refresh <server>` and hands the server name to `dispatch`. */
export function registerRefresh(program: Command, dispatch: Dispatch): void {
  program
    .command('refresh')
    .description('refresh the access token now, even if it is still valid (never prints a token)')
    .argument('<server>', 'server name')
    .addHelpText(
      'after',
      `
Examples:
  $ mcp-oauth refresh notion
  $ mcp-oauth --json refresh notion   # the new status, as in \`status --json\``,
    )
    .action((server: string, _options: unknown, command: Command) =>
      dispatch(command, runRefresh, { server }),
    );
}

/**
 * Refreshes the token even if still valid; prints the new expiry on stdout (`--json`: the status), never the
 * token. Unknown server: ConfigError (exit 2); a refresh only a new login can fix: NeedsReauthError (exit 3).
 */
export async function runRefresh(ctx: CliContext, { server }: RefreshInput): Promise<void> {
  const status = await withSession(ctx, 'never', async ({ manager, use }) => {
    use(server);
    await manager.refreshNow(server);
    return manager.status(server);
  });
  if (ctx.json) {
    ctx.out.json(statusJson(status));
    return;
  }
  ctx.out.result(ctx.out.success(`Refreshed ${server} (${expirySummary(status, false)})`));
}
