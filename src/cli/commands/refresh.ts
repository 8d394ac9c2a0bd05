import type { Command } from 'commander';
import { withSession } from '../context.js';
import { printJson, printResult, success } from '../output.js';
import { runCommand } from '../runner.js';
import { expirySummary, statusJson } from '../status-view.js';

export function registerRefresh(program: Command): void {
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
      runCommand(command, async (ctx) => {
        const status = await withSession(ctx, 'never', async ({ manager, use }) => {
          use(server);
          await manager.refreshNow(server);
          return manager.status(server);
        });
        if (ctx.json) {
          printJson(statusJson(status));
          return;
        }
        printResult(success(`Refreshed ${server} (${expirySummary(status, false)})`));
      }),
    );
}
