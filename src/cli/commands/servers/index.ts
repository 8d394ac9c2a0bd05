import type { Command } from 'commander';
import type { Dispatch } from '../../runner.js';
import { registerServersAdd } from './add.js';
import { registerServersImport } from './import.js';
import { registerServersList } from './list.js';
import { registerServersRemove } from './remove.js';

export function registerServers(program: Command, dispatch: Dispatch): void {
  const servers = program
    .command('servers')
    .description('add, remove and list the configured MCP servers (config.yaml in the home folder)')
    .addHelpText(
      'after',
      `
Examples:
  $ mcp-oauth servers add notion https://mcp.notion.com/mcp
  $ mcp-oauth servers list
  $ mcp-oauth servers import --dry-run
  $ mcp-oauth servers remove notion`,
    );
  registerServersAdd(servers, dispatch);
  registerServersRemove(servers, dispatch);
  registerServersList(servers, dispatch);
  registerServersImport(servers, dispatch);
}
