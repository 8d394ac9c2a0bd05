import type { Command } from 'commander';
import type { Dispatch } from '../../runner.js';
import { registerHostsInstall } from './install.js';
import { registerHostsList } from './list.js';
import { registerHostsUninstall } from './uninstall.js';

/** `mcp-oauth hosts install|uninstall|list`: other hosts' configurations and the proxy. */
export function registerHosts(program: Command, dispatch: Dispatch): void {
  const hosts = program
    .command('hosts')
    .description('run the remote servers of Claude, Cursor, VS Code, Codex... through mcp-oauth proxy')
    .addHelpText(
      'after',
      `
Examples:
  $ mcp-oauth hosts list
  $ mcp-oauth hosts install cursor --dry-run
  $ mcp-oauth hosts uninstall cursor`,
    );
  registerHostsInstall(hosts, dispatch);
  registerHostsUninstall(hosts, dispatch);
  registerHostsList(hosts, dispatch);
}
