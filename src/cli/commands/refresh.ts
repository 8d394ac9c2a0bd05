import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { withSession } from '../context.js';
import type { Dispatch } from '../runner.js';
import { expirySummary, statusJson } from '../status-view.js';

export interface RefreshInput {
  server: string;
}

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
