import type { Command } from 'commander';
import { type CliContext, readConfig } from '../../context.js';
import type { Dispatch } from '../../runner.js';
import { filesToScan, hostConfigs, shown } from '../hosts/host-files.js';

/** The options of `mcp-oauth servers import`. */
export interface ServersImportInput {
  from?: string;
  file?: string;
  project?: string;
  dryRun: boolean;
}

/** Defines `servers import [--from HOST] [--file PATH] [--project DIR] [--dry-run]`. */
export function registerServersImport(servers: Command, dispatch: Dispatch): void {
  servers
    .command('import')
    .description("add the remote servers of other hosts' MCP configurations (Claude, Cursor, VS Code, ...)")
    .option(
      '--from <host>',
      'read only this host (claude-desktop, claude-code, cursor, vscode, windsurf, codex, gemini, hermes)',
    )
    .option('--file <path>', 'read this file (its host from --from, else from its name)')
    .option(
      '--project <dir>',
      'the project folder whose project files are read (default: the current folder)',
    )
    .option('--dry-run', 'show what would be added; write nothing')
    .addHelpText(
      'after',
      `
Remote servers are entries with a URL (http, sse or streamable-http) and \`mcp-remote URL\`
commands; they are added to config.yaml in one write. Local (stdio) servers, URLs that use
variables not set here, names that are taken by another URL and entries already running through
\`mcp-oauth proxy\` are skipped, each with its reason. Headers (Authorization...) are not imported:
mcp-oauth sends its own token. Nothing in those files is ever run.

Examples:
  $ mcp-oauth servers import --dry-run
  $ mcp-oauth servers import --from cursor
  $ mcp-oauth servers import --file ~/work/app/.vscode/mcp.json`,
    )
    .action(
      (options: { from?: string; file?: string; project?: string; dryRun?: boolean }, command: Command) =>
        dispatch(command, runServersImport, {
          ...(options.from !== undefined ? { from: options.from } : {}),
          ...(options.file !== undefined ? { file: options.file } : {}),
          ...(options.project !== undefined ? { project: options.project } : {}),
          dryRun: options.dryRun === true,
        }),
    );
}

/**
 * Reads the host files, adds every importable remote server to config.yaml in ONE write (addServers),
 * and reports per file what was added and what was skipped and why (`--json`: the same as data).
 */
export async function runServersImport(ctx: CliContext, input: ServersImportInput): Promise<void> {
  const configs = await hostConfigs();
  const { files, looked } = await filesToScan(configs, ctx, {
    ...(input.from !== undefined ? { host: input.from } : {}),
    ...(input.file !== undefined ? { file: input.file } : {}),
    ...(input.project !== undefined ? { project: input.project } : {}),
  });
  const config = await readConfig(ctx);
  const existing = new Map([...config.servers].map(([name, server]) => [name, server.url]));
  const plan = configs.planImport(files, existing, ctx.io.env);
  if (!input.dryRun && plan.toAdd.length > 0) {
    const { addServers } = await import('../../../config/index.js');
    await addServers(ctx.home, plan.toAdd);
  }

  if (ctx.json) {
    ctx.out.json({ dryRun: input.dryRun, file: config.file, added: plan.toAdd.length, hosts: plan.files });
    return;
  }
  if (files.length === 0) {
    ctx.out.note(`No host configuration found. Looked in:\n${looked.map((file) => `  ${file}`).join('\n')}`);
    return;
  }
  const lines: string[] = [];
  for (const report of plan.files) {
    const host = configs.hostById(report.host)!;
    lines.push(`${ctx.out.outStyle.bold(host.label)}  ${report.file}`);
    if (report.problem) lines.push(`  ! not read: ${shown(report.problem)}`);
    for (const added of report.added) {
      const notes = added.notes.length > 0 ? `  (${added.notes.map(shown).join('; ')})` : '';
      lines.push(`  + ${shown(added.name)}  ${shown(added.url)}${notes}`);
    }
    for (const skipped of report.skipped) {
      lines.push(`  - ${shown(skipped.name)}  skipped: ${shown(skipped.reason)}`);
      if (skipped.suggestion) lines.push(`      to add it: ${shown(skipped.suggestion)}`);
    }
    if (!report.problem && report.added.length === 0 && report.skipped.length === 0)
      lines.push('  (no servers)');
  }
  ctx.out.result(lines.join('\n'));
  const count = `${plan.toAdd.length} server${plan.toAdd.length === 1 ? '' : 's'}`;
  if (input.dryRun) ctx.out.result(`Would add ${count} to ${config.file} (dry run: nothing written)`);
  else if (plan.toAdd.length === 0) ctx.out.result(`Nothing to add to ${config.file}`);
  else {
    ctx.out.result(ctx.out.success(`Added ${count} to ${config.file}`));
    ctx.out.note(
      `Next: ${ctx.loginCommand(plan.toAdd[0]!.name)} (and the others), or mcp-oauth hosts install <host>`,
    );
  }
}
