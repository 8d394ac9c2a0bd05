import type { Command } from 'commander';
import type { LogoutOutcome } from '../../../index.js';
import { displayText } from '../../../terminal-text.js';
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
 * Revokes and deletes the tokens and client registration (of every account; the lock files
 * too, where no one holds them), then drops the config.yaml entry, and says so on stdout. A stored
 * credential whose server is no longer configured (orphaned) is removed the same way. Credentials
 * go first, so a failure leaves the entry for a retry; a name neither configured nor stored exits 2.
 */
export async function runServersRemove(ctx: CliContext, { name }: ServersRemoveInput): Promise<void> {
  // Credentials first: if that fails (a lock held elsewhere), the configuration is still there,
  // so running the same command again finishes the job.
  const { configured, outcome } = await withSession(ctx, 'never', async ({ manager, config }) => {
    // Not require(): a server whose client_secret_env is unset can still be removed.
    const server = config.servers.get(name);
    // Every account's credential of the server goes: the configuration it depends on goes too.
    const accounts = (await manager.store.list())
      .filter((key) => key.server === name)
      .map((key) => key.account);
    if (!server && accounts.length === 0) config.require(name);
    if (server && !accounts.includes(ctx.account)) accounts.unshift(ctx.account);
    let outcome: LogoutOutcome | undefined;
    for (const account of accounts) {
      if (server) manager.getOrBuildProvider(server.name, server.url, server.oauth, { account });
      const one = await manager.remove(name, { account });
      // The context's account is the one reported; the others are removed alike.
      if (account === ctx.account) outcome = one;
    }
    return { configured: server !== undefined, outcome: outcome ?? NOTHING_REMOVED };
  });
  let removed = false;
  if (configured) {
    const { removeServer } = await import('../../../config/index.js');
    removed = await removeServer(ctx.home, name);
  }
  if (ctx.json) {
    ctx.out.json({
      name,
      removed,
      tokensDeleted: outcome.tokensDeleted,
      revoked: outcome.revoked,
      revocation: outcome.revocation,
      revocationError: outcome.revocationError,
    });
    return;
  }
  const what = configured
    ? 'configuration, tokens and client registration'
    : 'stored credential; it was not in config.yaml';
  const revocation = !outcome.tokensDeleted
    ? ''
    : outcome.revoked
      ? '; tokens revoked at the server'
      : `; tokens NOT revoked (${displayText(outcome.revocationError ?? 'not revoked')}): the refresh token may still be live at the server until it expires`;
  ctx.out.result(ctx.out.success(`Removed ${displayText(name)} (${what})${revocation}`));
}

/** The outcome shown when only other accounts held a credential of the server. */
const NOTHING_REMOVED: LogoutOutcome = {
  existed: false,
  tokensDeleted: false,
  revoked: false,
  revocation: 'not_needed',
  revocationError: null,
  recordDeleted: false,
};
