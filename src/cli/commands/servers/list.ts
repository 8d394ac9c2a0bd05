import type { Command } from 'commander';
import { type CliContext, type ConfiguredServer, readConfig } from '../../context.js';
import type { Dispatch } from '../../runner.js';
import { renderTable } from '../../table.js';

/** Defines `servers list` (no arguments) and hands it to `dispatch`. */
export function registerServersList(servers: Command, dispatch: Dispatch): void {
  servers
    .command('list')
    .alias('ls')
    .description('list the configured servers (configuration only; see `status` for credentials)')
    .addHelpText(
      'after',
      `
Examples:
  $ mcp-oauth servers list
  $ mcp-oauth servers list --json`,
    )
    .action((_options: unknown, command: Command) => dispatch(command, runServersList, {}));
}

/**
 * Prints each configured server with its URL and the client a login will use, as a table on stdout, from
 * config.yaml alone (`--json`: the settings, never the secret). With none configured, a note on stderr.
 */
export async function runServersList(ctx: CliContext, _input: Record<string, never>): Promise<void> {
  // Configuration only: no manager, no credential is read.
  const config = await readConfig(ctx);
  const list = [...config.servers.values()];
  if (ctx.json) {
    ctx.out.json({ servers: list.map(serverJson) });
    return;
  }
  if (list.length === 0) {
    ctx.out.note(`No servers in ${config.file}. Add one with: mcp-oauth servers add <name> <url>`);
    return;
  }
  ctx.out.result(
    renderTable(
      ['NAME', 'URL', 'CLIENT'],
      list.map((s) => [s.name, s.url, clientCell(s)]),
      { header: ctx.out.outStyle.bold },
    ),
  );
}

/** Which client identity a login will use, as far as the configuration decides it. */
function clientCell(server: ConfiguredServer): string {
  if (server.oauth.clientId) return `preregistered: ${server.oauth.clientId}`;
  if (server.oauth.clientMetadataUrl) return `cimd: ${server.oauth.clientMetadataUrl}`;
  return 'dynamic registration';
}

/** Never the client secret: only whether one is configured. */
function serverJson(server: ConfiguredServer) {
  return {
    name: server.name,
    url: server.url,
    clientId: server.oauth.clientId ?? null,
    clientMetadataUrl: server.oauth.clientMetadataUrl ?? null,
    hasClientSecret: server.oauth.clientSecret !== undefined,
    scope: server.oauth.scope ?? null,
    redirectPort: server.oauth.redirectPort ?? null,
  };
}
