import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { withSession } from '../../context.js';
import type { Dispatch } from '../../runner.js';

/** The arguments of `mcp-oauth servers remove <name>`. */
export interface ServersRemoveInput {
  name: string;
}

/** Defines `servers remove <name>` and hands the name to `dispatch`. */
export function registerServersRemove(servers: Command, dispatch: Dispatch): void {
  servers
    .command('remove')
    .alias('rm')
    .description('remove a server: revoke and delete its tokens, forget its client, drop its configuration')
    .argument('<name>', 'server name')
    .addHelpText(
      'after',
      `
Everything \`logout --reset\` removes goes too, so nothing of the server is left in the home folder.

Example:
  $ mcp-oauth servers remove notion`,
    )
    .action((name: string, _options: unknown, command: Command) =>
      dispatch(command, runServersRemove, { name }),
    );
}

/**
 * Revokes and deletes the tokens and client registration, then drops the config.yaml entry, and says so on
 * stdout. Credentials go first, so a failure leaves the entry for a retry; an unknown server exits 2.
 */
export async function runServersRemove(ctx: CliContext, { name }: ServersRemoveInput): Promise<void> {
  // Credentials first: if that fails (a lock held elsewhere), the configuration is still there,
  // so running the same command again finishes the job.
  await withSession(ctx, 'never', async ({ manager, config }) => {
    // Not require(): a server whose client_secret_env is unset can still be removed.
    const server = config.servers.get(name) ?? config.require(name);
    manager.getOrBuildProvider(server.name, server.url, server.oauth);
    await manager.remove(name);
  });
  const { removeServer } = await import('../../../config/index.js');
  const removed = await removeServer(ctx.home, name);
  if (ctx.json) {
    ctx.out.json({ name, removed });
    return;
  }
  ctx.out.result(ctx.out.success(`Removed ${name} (configuration, tokens and client registration)`));
}
