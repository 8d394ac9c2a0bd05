import type { Command } from 'commander';
import type { ServerStatus } from '../../index.js';
import { redactText } from '../../logger.js';
import { grantKindOf } from '../../manager/grant-kind.js';
import { displayText } from '../../terminal-text.js';
import type { CliContext, Session } from '../context.js';
import { readConfig, withSession } from '../context.js';
import { expiresInCell } from '../duration.js';
import type { Dispatch } from '../runner.js';
import { statusJson } from '../status-view.js';
import { renderTable } from '../table.js';

/** The arguments of `mcp-oauth status [server]`. */
export interface StatusInput {
  /** Only this server; undefined: every configured server. */
  server?: string;
}

/** Records read at once: enough to overlap the file reads, few enough to stay far from EMFILE. */
const PARALLEL_READS = 32;

/** Defines `status [server]` and hands the optional server name to `dispatch`. */
export function registerStatus(program: Command, dispatch: Dispatch): void {
  program
    .command('status')
    .description('show the credential state of every configured server, or of one')
    .argument('[server]', 'only this server')
    .addHelpText(
      'after',
      `
States: valid, expiring (refreshed on next use), expired (refreshable), needs_reauth, logged_out, error.
Never prints a token or a secret, not even with --json.

Examples:
  $ mcp-oauth status
  $ mcp-oauth status notion --json`,
    )
    .action((server: string | undefined, _options: unknown, command: Command) =>
      dispatch(command, runStatus, server === undefined ? {} : { server }),
    );
}

/**
 * Prints the credential state of every configured server (or one) as a table on stdout, and what to run
 * for unusable ones on stderr (`--json`: `{servers}`). An unreadable status is an `error` row; an unknown
 * server exits 2.
 */
export async function runStatus(ctx: CliContext, { server }: StatusInput): Promise<void> {
  const config = await readConfig(ctx);
  if (server !== undefined) config.require(server);
  const names = server !== undefined ? [server] : [...config.servers.keys()];
  // No servers, no credentials to read: the manager is not even loaded.
  const statuses =
    names.length === 0
      ? []
      : await withSession(ctx, 'never', (session) => statusesOf(session, names), config);
  if (ctx.json) {
    ctx.out.json({ servers: statuses.map(statusJson) });
    return;
  }
  if (statuses.length === 0) {
    ctx.out.note('No servers configured. Add one with: mcp-oauth servers add <name> <url>');
    return;
  }
  ctx.out.result(renderStatusTable(ctx, statuses));
  const hints = statuses.flatMap((s) => hintFor(s, ctx.loginCommand(s.name)));
  if (hints.length > 0) ctx.out.note(`\n${hints.join('\n')}`);
}

/** In the configuration's order; each status reads one small file, a few reads at a time. */
async function statusesOf(session: Session, names: string[]): Promise<ServerStatus[]> {
  const out: ServerStatus[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const index = next++;
      out[index] = await statusOf(session, names[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, names.length) }, worker));
  return out;
}

/** A server whose status cannot be read is a row in state `error`, not the end of the listing. */
async function statusOf(session: Session, name: string): Promise<ServerStatus> {
  const configured = session.config.servers.get(name)!;
  try {
    session.use(name);
    return await session.manager.status(name);
  } catch (error) {
    return {
      name,
      url: configured.url,
      state: 'error',
      expiresAt: null,
      expiresIn: null,
      scopes: [],
      issuer: null,
      clientKind: null,
      grant: grantKindOf(configured.oauth),
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

function renderStatusTable(ctx: CliContext, statuses: ServerStatus[]): string {
  const style = ctx.out.outStyle;
  const paintState: Record<string, (text: string) => string> = {
    valid: style.green,
    expiring: style.yellow,
    expired: style.yellow,
    needs_reauth: style.red,
    error: style.red,
    logged_out: style.dim,
  };
  return renderTable(
    ['SERVER', 'STATE', 'EXPIRES IN', 'SCOPES', 'ISSUER', 'CLIENT', 'GRANT'],
    // Scopes, issuer and client kind come from servers (and a name from a file someone may
    // share): each cell on one line, without control characters.
    statuses.map((s) => [
      displayText(s.name),
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
        column === 1 ? (paintState[statuses[row]!.state]?.(text) ?? text) : text,
    },
  );
}

/**
 * What to do next, under the table, for every server that cannot be used as it is. The error can
 * quote a server (an OAuth error code, an issuer): shown on one line without control characters.
 */
function hintFor(raw: ServerStatus, loginCommand: string): string[] {
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
    case 'error':
      return [`${status.name}: ${status.error ?? 'unknown error'}`];
    default:
      return [];
  }
}
