import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import type { Dispatch } from '../../runner.js';
import { renderTable } from '../../table.js';
import { hostConfigs, locationContext, shown } from './host-files.js';

/** Defines `hosts list [--project DIR]`. */
export function registerHostsList(hosts: Command, dispatch: Dispatch): void {
  hosts
    .command('list')
    .description('show the hosts found and which of their servers go through the proxy')
    .option(
      '--project <dir>',
      'the project folder whose project files are read (default: the current folder)',
    )
    .action((options: { project?: string }, command: Command) =>
      dispatch(command, runHostsList, options.project !== undefined ? { project: options.project } : {}),
    );
}

/**
 * One row per server entry of every host file found: remote (with its URL), proxied (with its
 * server, and whether `hosts install` put it there), local, or unusable (`--json`: the same).
 */
export async function runHostsList(ctx: CliContext, input: { project?: string }): Promise<void> {
  const configs = await hostConfigs();
  const files = await configs.scanHosts(locationContext(ctx, input.project));
  const state = await configs.readInstallState(ctx.home);
  const installedAt = (file: string, keyPath: string[]) =>
    state.files
      .find((record) => record.file === file)
      ?.entries.some((entry) => entry.keyPath.join('\0') === keyPath.join('\0')) ?? false;
  const rows = files.map((file) => ({
    host: file.host.id,
    file: file.location.file,
    scope: file.location.scope,
    ...(file.problem ? { problem: file.problem } : {}),
    servers: file.entries.map(({ entry, kind }) => ({
      name: entry.name,
      ...(entry.scope ? { scope: entry.scope } : {}),
      kind: kind.kind === 'unusable' ? 'unusable' : kind.kind === 'stdio' ? 'local' : kind.kind,
      ...(kind.kind === 'remote' ? { url: kind.url } : {}),
      ...(kind.kind === 'proxied'
        ? { server: kind.target, installedByMcpOauth: installedAt(file.location.file, entry.keyPath) }
        : {}),
      ...(kind.kind === 'unusable' ? { reason: kind.reason } : {}),
    })),
  }));
  if (ctx.json) {
    ctx.out.json({ hosts: rows });
    return;
  }
  if (rows.length === 0) {
    ctx.out.note('No host configuration found.');
    return;
  }
  const table: string[][] = [];
  for (const row of rows) {
    if (row.problem) table.push([row.host, '', 'not read', shown(row.problem)]);
    for (const server of row.servers) {
      const detail =
        server.kind === 'remote'
          ? `${shown(server.url ?? '')} (not proxied)`
          : server.kind === 'proxied'
            ? `mcp-oauth proxy ${shown(server.server ?? '')}`
            : (server.reason ?? '');
      table.push([row.host, shown(server.name), server.kind, detail]);
    }
  }
  ctx.out.result(renderTable(['HOST', 'SERVER', 'KIND', 'DETAIL'], table, { header: ctx.out.outStyle.bold }));
  ctx.out.note(`Files read: ${rows.map((row) => row.file).join(', ')}`);
}
