import type { Command } from 'commander';
import { withSession } from '../context.js';
import { printJson, printResult, success } from '../output.js';
import { runCommand } from '../runner.js';

export function registerLogout(program: Command): void {
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
      runCommand(command, async (ctx) => {
        const reset = options.reset === true;
        const outcome = await withSession(ctx, 'never', async ({ manager, use }) => {
          use(server);
          return manager.logout(server, { reset });
        });
        if (ctx.json) {
          printJson({ server, existed: outcome.existed, revoked: outcome.revoked, reset });
          return;
        }
        if (!outcome.existed) {
          printResult(`Not logged in to ${server}; nothing to remove.`);
          return;
        }
        const revoked = outcome.revoked
          ? 'revoked at the server'
          : 'deleted here; the server was not asked to revoke them (it offers no revocation, or did not answer)';
        const forgot = reset ? '; client registration forgotten' : '';
        printResult(success(`Logged out of ${server} (tokens ${revoked}${forgot})`));
      }),
    );
}
