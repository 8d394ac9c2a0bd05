import type { Command } from 'commander';
import type { LogoutOutcome } from '../../index.js';
import { displayText } from '../../terminal-text.js';
import { DEFAULT_ACCOUNT_NAME } from '../account-name.js';
import type { CliContext, Session } from '../context.js';
import { withSession } from '../context.js';
import type { Dispatch } from '../runner.js';

/** The arguments of `mcp-oauth logout [server] [--all] [--all-accounts] [--reset]`. */
export interface LogoutInput {
  /** One server; undefined with `all`. */
  server?: string;
  /** Every stored credential of the account (of every account with `allAccounts`). */
  all?: boolean;
  allAccounts?: boolean;
  /** Also forget the client registration. */
  reset: boolean;
}

/** Defines `logout [server] [--all] [--reset]` and hands its inputs to `dispatch`. */
export function registerLogout(program: Command, dispatch: Dispatch): void {
  program
    .command('logout')
    .description('revoke the tokens at the server (where it offers revocation) and delete them')
    .argument('[server]', 'server name (configured, or a stored credential whose server was removed)')
    .option('--all', 'every stored credential of the account, configured or not')
    .option(
      '--all-accounts',
      'with --all or a server: every account, not only the default one (or --account)',
    )
    .option('--reset', 'also forget the client registration (fixes a stale dynamically registered client)')
    .addHelpText(
      'after',
      `
Says what happened: nothing to do, tokens revoked at the server, or deleted here but NOT revoked
(and why: no revocation endpoint, server down, refused), when a refresh token may still be live.

Examples:
  $ mcp-oauth logout notion
  $ mcp-oauth logout --all
  $ mcp-oauth logout notion --reset && mcp-oauth login notion   # register a new client`,
    )
    .action(
      (
        server: string | undefined,
        options: { all?: boolean; allAccounts?: boolean; reset?: boolean },
        command: Command,
      ) => {
        if ((server === undefined) === (options.all !== true)) {
          command.error('error: name one server, or give --all (not both)', {
            exitCode: 2,
            code: 'commander.invalidArgument',
          });
        }
        return dispatch(command, runLogout, {
          ...(server === undefined ? {} : { server }),
          all: options.all === true,
          allAccounts: options.allAccounts === true,
          reset: options.reset === true,
        });
      },
    );
}

/** One logout's result, as printed and in `--json`. */
interface LoggedOut {
  server: string;
  account: string | undefined;
  outcome: LogoutOutcome;
}

/**
 * Revokes the tokens where the server offers it and deletes them (with `reset` also the client
 * registration) for one server or, with `all`, every stored credential (configured or not); says
 * exactly what happened on stdout. Not logged in is not an error; an unknown server with nothing
 * stored exits 2.
 */
export async function runLogout(ctx: CliContext, input: LogoutInput): Promise<void> {
  const { reset } = input;
  const results = await withSession(ctx, 'never', (session) => logOutAll(ctx, session, input));
  if (ctx.json) {
    const rows = results.map((r) => logoutJson(r, reset));
    ctx.out.json(input.all ? { logouts: rows } : rows[0]);
    return;
  }
  if (results.length === 0) {
    ctx.out.result('No stored credentials; nothing to do.');
    return;
  }
  ctx.out.result(results.map((r) => logoutLine(ctx, r, reset)).join('\n'));
}

async function logOutAll(ctx: CliContext, session: Session, input: LogoutInput): Promise<LoggedOut[]> {
  const { manager, config } = session;
  const inAccount = (account: string | undefined) => input.allAccounts || account === ctx.account;
  const stored = (await manager.store.list()).filter((key) => inAccount(key.account));
  const targets =
    input.server === undefined
      ? stored.map((key) => ({ server: key.server, account: key.account }))
      : input.allAccounts
        ? stored.filter((key) => key.server === input.server)
        : [{ server: input.server, account: ctx.account }];
  if (input.server !== undefined && targets.length === 0)
    targets.push({ server: input.server, account: ctx.account });
  const out: LoggedOut[] = [];
  for (const { server, account } of targets) {
    // A configured server is built from config.yaml (not require(): an unset client_secret_env
    // does not stop a logout); anything else is a stored credential the manager finds by its key.
    const configured = config.servers.get(server);
    if (configured)
      manager.getOrBuildProvider(configured.name, configured.url, configured.oauth, { account });
    else if (!stored.some((key) => key.server === server && key.account === account)) config.require(server);
    const outcome = await manager.logout(server, { reset: input.reset, account });
    out.push({ server, account, outcome });
  }
  return out;
}

function logoutJson({ server, account, outcome }: LoggedOut, reset: boolean) {
  return {
    server,
    account: account ?? DEFAULT_ACCOUNT_NAME,
    existed: outcome.existed,
    tokensDeleted: outcome.tokensDeleted,
    revoked: outcome.revoked,
    revocation: outcome.revocation,
    revocationError: outcome.revocationError,
    reset,
  };
}

/** Exactly what happened, in one line: what a person needs to know about a token still live. */
function logoutLine(ctx: CliContext, { server, account, outcome }: LoggedOut, reset: boolean): string {
  const who = `${displayText(server)}${account === undefined ? '' : ` (account ${displayText(account)})`}`;
  const forgot = reset && outcome.recordDeleted ? '; client registration forgotten' : '';
  if (!outcome.tokensDeleted) {
    return outcome.existed && reset
      ? ctx.out.success(`No tokens stored for ${who}${forgot}.`)
      : `Not logged in to ${who}; nothing to do.`;
  }
  if (outcome.revoked)
    return ctx.out.success(`Logged out of ${who}: tokens revoked at the server and deleted here${forgot}.`);
  const why = displayText(outcome.revocationError ?? 'not revoked');
  const live = 'the refresh token may still be live at the server until it expires';
  return ctx.out.success(
    `Logged out of ${who}: tokens deleted here but NOT revoked (${why}); ${live}${forgot}.`,
  );
}
