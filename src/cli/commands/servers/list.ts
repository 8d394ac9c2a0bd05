import type { Command } from 'commander';
import { type ConfiguredServer, readConfig } from '../../context.js';
import { printJson, printNote, printResult } from '../../output.js';
import { runCommand } from '../../runner.js';
import { styleFor } from '../../style.js';
import { renderTable } from '../../table.js';

export function registerServersList(servers: Command): void {
  servers
    .command('list')
    .description('list the configured servers (configuration only; see `status` for credentials)')
    .addHelpText(
      'after',
      `
Examples:
  $ mcp-oauth servers list
  $ mcp-oauth servers list --json`,
    )
    .action((_options: unknown, command: Command) =>
      runCommand(command, async (ctx) => {
        // Configuration only: no manager, no credential is read.
        const config = await readConfig(ctx);
        const list = [...config.servers.values()];
        if (ctx.json) {
          printJson({ servers: list.map(serverJson) });
          return;
        }
        if (list.length === 0) {
          printNote(`No servers in ${config.file}. Add one with: mcp-oauth servers add <name> <url>`);
          return;
        }
        const style = styleFor(process.stdout);
        printResult(
          renderTable(
            ['NAME', 'URL', 'CLIENT'],
            list.map((s) => [s.name, s.url, clientCell(s)]),
            { header: style.bold },
          ),
        );
      }),
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
