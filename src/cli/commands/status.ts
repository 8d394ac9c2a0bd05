import type { Command } from 'commander';
import type { OAuthConfig } from '../../config/oauth-config.js';
import type { ServerStatus } from '../../index.js';
import { redactText } from '../../logger.js';
import { type GrantKind, grantKindOf } from '../../manager/grant-kind.js';
import { shellQuote } from '../../shell-quote.js';
import { displayText } from '../../terminal-text.js';
import { DEFAULT_ACCOUNT_NAME } from '../account-name.js';
import type { CliContext, Session } from '../context.js';
import { readConfig, withSession } from '../context.js';
import { expiresInCell } from '../duration.js';
import { CommandExit, ExitCode } from '../exit-codes.js';
import type { Dispatch } from '../runner.js';
import { statusExitCode } from '../status-health.js';
import { statusJson } from '../status-view.js';
import { renderTable } from '../table.js';

/** The arguments of `mcp-oauth status [server] [--all-accounts]`. */
export interface StatusInput {
  /** Only this server; undefined: every configured server and every stored credential. */
  server?: string;
  /** Every account's credentials, not only the context's account. */
  allAccounts?: boolean;
}

/** Records read at once: enough to overlap the file reads, few enough to stay far from EMFILE. */
const PARALLEL_READS = 32;

/** Defines `status [server] [--all-accounts]` and hands its inputs to `dispatch`. */
export function registerStatus(program: Command, dispatch: Dispatch): void {
  program
    .command('status')
    .description('show the credential state of every server (or one); exit 0 only when all are usable')
    .argument('[server]', 'only this server')
    .option('--all-accounts', 'every account, not only the default one (or --account)')
    .addHelpText(
      'after',
      `
States: valid, expiring (refreshed on next use), expired (refreshed on next use), needs_reauth,
logged_out, no_auth (the server needs no credential), error. A stored credential whose server
is not in config.yaml is shown as orphaned (remove it with: mcp-oauth logout NAME).
Never prints a token or a secret, not even with --json.

Exit codes: 0 every server shown is usable, 3 the others only need a login, 1 otherwise.

Examples:
  $ mcp-oauth status
  $ mcp-oauth status --all-accounts
  $ mcp-oauth --account work status notion --json`,
    )
    .action((server: string | undefined, options: { allAccounts?: boolean }, command: Command) =>
      dispatch(command, runStatus, {
        ...(server === undefined ? {} : { server }),
        allAccounts: options.allAccounts === true,
      }),
    );
}

/** One row to show: a server name and the account of its key (undefined: the default account). */
interface Target {
  server: string;
  account: string | undefined;
  configured: boolean;
}

/**
 * Prints the credential state of every configured server and every stored credential (of the
 * context's account, or of all with `allAccounts`; or of one server) as a table on stdout, and
 * what to run for unusable ones on stderr (`--json`: `{servers}`). An unreadable status is an
 * `error` row; an unknown server with no stored credential exits 2. Exits like a health check
 * (see statusExitCode).
 */
export async function runStatus(
  ctx: CliContext,
  { server, allAccounts = false }: StatusInput,
): Promise<void> {
  const config = await readConfig(ctx);
  const statuses = await withSession(
    ctx,
    'never',
    async (session) => {
      const targets = await targetsOf(ctx, session, server, allAccounts);
      if (server !== undefined && targets.length === 0) config.require(server);
      return statusesOf(session, targets);
    },
    config,
  );
  if (ctx.json) {
    ctx.out.json({ servers: statuses.map(statusJson) });
  } else if (statuses.length === 0) {
    ctx.out.note('No servers configured. Add one with: mcp-oauth servers add <name> <url>');
  } else {
    ctx.out.result(
      renderStatusTable(
        ctx,
        statuses,
        allAccounts || statuses.some((s) => s.account !== DEFAULT_ACCOUNT_NAME),
      ),
    );
    const hints = statuses.flatMap((s) => hintFor(s, ctx.loginCommand(s.name, s.account)));
    if (hints.length > 0) ctx.out.note(`\n${hints.join('\n')}`);
  }
  const code = statusExitCode(statuses);
  if (code !== ExitCode.ok) throw new CommandExit(code);
}

/**
 * The rows: configured servers first, in the configuration's order (for the context's account; with
 * `allAccounts`, each account that holds a credential for it, else the context's), then every other
 * stored credential of the accounts shown (orphaned: their server is not configured), in key order.
 */
async function targetsOf(
  ctx: CliContext,
  session: Session,
  only: string | undefined,
  allAccounts: boolean,
): Promise<Target[]> {
  const stored = (await session.manager.store.list()).filter(
    (key) => (allAccounts || key.account === ctx.account) && (only === undefined || key.server === only),
  );
  const storedByServer = new Map<string, Array<string | undefined>>();
  for (const key of stored) {
    const accounts = storedByServer.get(key.server) ?? [];
    accounts.push(key.account);
    storedByServer.set(key.server, accounts);
  }
  const targets: Target[] = [];
  for (const name of session.config.servers.keys()) {
    if (only !== undefined && name !== only) continue;
    const accounts = allAccounts ? (storedByServer.get(name) ?? [ctx.account]) : [ctx.account];
    for (const account of accounts) targets.push({ server: name, account, configured: true });
  }
  for (const key of stored) {
    if (!session.config.servers.has(key.server))
      targets.push({ server: key.server, account: key.account, configured: false });
  }
  return targets;
}

/** In order; each status reads one small record, a few reads at a time. */
async function statusesOf(session: Session, targets: Target[]): Promise<ServerStatus[]> {
  const out: ServerStatus[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      out[index] = await statusOf(session, targets[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, targets.length) }, worker));
  return out;
}

/** A server whose status cannot be read is a row in state `error`, not the end of the listing. */
async function statusOf(session: Session, target: Target): Promise<ServerStatus> {
  const { server: name, account } = target;
  try {
    if (target.configured) {
      const server = session.config.require(name);
      session.manager.getOrBuildProvider(server.name, server.url, server.oauth, { account });
    }
    return await session.manager.status(name, { account });
  } catch (error) {
    return {
      name,
      url: session.config.servers.get(name)?.url ?? '',
      state: 'error',
      expiresAt: null,
      expiresIn: null,
      scopes: [],
      issuer: null,
      clientKind: null,
      error: error instanceof Error ? error.message : String(error),
      account: account ?? DEFAULT_ACCOUNT_NAME,
      grant: grantOf(session.config.servers.get(name)?.oauth),
      orphaned: !target.configured,
    };
  }
}

/** A row's grant from the configuration alone (never throws: an unusable server still has one). */
function grantOf(oauth: OAuthConfig | undefined): GrantKind {
  return oauth ? grantKindOf(oauth) : 'authorization_code';
}

function renderStatusTable(ctx: CliContext, statuses: ServerStatus[], withAccount: boolean): string {
  const style = ctx.out.outStyle;
  const paintState: Record<string, (text: string) => string> = {
    valid: style.green,
    expiring: style.yellow,
    expired: style.yellow,
    no_auth: style.green,
    needs_reauth: style.red,
    error: style.red,
    logged_out: style.dim,
  };
  const stateColumn = withAccount ? 2 : 1;
  return renderTable(
    [
      ...(withAccount ? ['ACCOUNT'] : []),
      'SERVER',
      'STATE',
      'EXPIRES IN',
      'SCOPES',
      'ISSUER',
      'CLIENT',
      'GRANT',
    ],
    // Scopes, issuer and client kind come from servers (and a name from a file someone may
    // share): each cell on one line, without control characters.
    statuses.map((s) => [
      ...(withAccount ? [displayText(s.account)] : []),
      s.orphaned ? `${displayText(s.name)} (orphaned)` : displayText(s.name),
      s.state,
      expiresInCell(s.state, s.expiresIn),
      s.scopes.length > 0 ? displayText(s.scopes.join(' ')) : '-',
      s.issuer !== null ? displayText(s.issuer) : '-',
      s.clientKind !== null ? displayText(s.clientKind) : '-',
      s.grant,
    ]),
    {
      header: style.bold,
      paint: (text, column, row) =>
        column === stateColumn ? (paintState[statuses[row]!.state]?.(text) ?? text) : text,
    },
  );
}

/**
 * What to do next, under the table, for every server that cannot be used as it is. The error can
 * quote a server (an OAuth error code, an issuer): shown on one line without control characters.
 */
function hintFor(raw: ServerStatus, loginCommand: string): string[] {
  const orphan = raw.orphaned
    ? [
        `${displayText(raw.name)}: not in config.yaml (orphaned). Remove it with: mcp-oauth logout ${shellQuote(raw.name)}`,
      ]
    : [];
  return [...orphan, ...loginHint(raw, loginCommand)];
}

function loginHint(raw: ServerStatus, loginCommand: string): string[] {
  const status = {
    ...raw,
    name: displayText(raw.name),
    error: raw.error === null ? null : displayText(redactText(raw.error), 600),
  };
  switch (status.state) {
    case 'logged_out':
      return [`${status.name}: not logged in. Run: ${loginCommand}`];
    case 'needs_reauth':
      return [
        `${status.name}: needs a new login${status.error ? ` (${status.error})` : ''}. Run: ${loginCommand}`,
      ];
    case 'expired':
      // Not refreshable (no refresh token, no client): only a login helps.
      return status.error ? [`${status.name}: expired, ${status.error}. Run: ${loginCommand}`] : [];
    case 'error':
      return [`${status.name}: ${status.error ?? 'unknown error'}`];
    default:
      return [];
  }
}
