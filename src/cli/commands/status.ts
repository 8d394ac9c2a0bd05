import type { Command } from 'commander';
import type { ServerStatus } from '../../index.js';
import type { Session } from '../context.js';
import { withSession } from '../context.js';
import { expiresInCell } from '../duration.js';
import { printJson, printNote, printResult } from '../output.js';
import { runCommand } from '../runner.js';
import { statusJson } from '../status-view.js';
import { styleFor } from '../style.js';
import { renderTable } from '../table.js';

export function registerStatus(program: Command): void {
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
      runCommand(command, async (ctx) => {
        const statuses = await withSession(ctx, 'never', async (session) => {
          if (server !== undefined) session.config.require(server);
          const names = server !== undefined ? [server] : [...session.config.servers.keys()];
          const out: ServerStatus[] = [];
          // One at a time: each reads one small file; order is the configuration's order.
          for (const name of names) out.push(await statusOf(session, name));
          return out;
        });
        if (ctx.json) {
          printJson({ servers: statuses.map(statusJson) });
          return;
        }
        if (statuses.length === 0) {
          printNote('No servers configured. Add one with: mcp-oauth servers add <name> <url>');
          return;
        }
        printResult(renderStatusTable(statuses));
        const hints = statuses.flatMap((s) => hintFor(s, ctx.loginCommand(s.name)));
        if (hints.length > 0) printNote(`\n${hints.join('\n')}`);
      }),
    );
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
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

function renderStatusTable(statuses: ServerStatus[]): string {
  const style = styleFor(process.stdout);
  const paintState: Record<string, (text: string) => string> = {
    valid: style.green,
    expiring: style.yellow,
    expired: style.yellow,
    needs_reauth: style.red,
    error: style.red,
    logged_out: style.dim,
  };
  return renderTable(
    ['SERVER', 'STATE', 'EXPIRES IN', 'SCOPES', 'ISSUER', 'CLIENT'],
    statuses.map((s) => [
      s.name,
      s.state,
      expiresInCell(s.state, s.expiresIn),
      s.scopes.length > 0 ? s.scopes.join(' ') : '-',
      s.issuer ?? '-',
      s.clientKind ?? '-',
    ]),
    {
      header: style.bold,
      paint: (text, column, row) =>
        column === 1 ? (paintState[statuses[row]!.state]?.(text) ?? text) : text,
    },
  );
}

/** What to do next, under the table, for every server that cannot be used as it is. */
function hintFor(status: ServerStatus, loginCommand: string): string[] {
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
