import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../../atomic-file.js';
import type { CliContext } from '../../context.js';
import type { Dispatch } from '../../runner.js';
import { hostFileDiff } from './diff-view.js';
import { hostConfigs, requireHost, shown } from './host-files.js';

/** The arguments of `mcp-oauth hosts uninstall <host>`. */
export interface HostsUninstallInput {
  host: string;
  file?: string;
  dryRun: boolean;
}

/** Defines `hosts uninstall <host> [--file PATH] [--dry-run]`. */
export function registerHostsUninstall(hosts: Command, dispatch: Dispatch): void {
  hosts
    .command('uninstall')
    .description('put back the entries `hosts install` replaced')
    .argument('<host>', 'the host given to hosts install')
    .option('--file <path>', 'only this file of the host')
    .option('--dry-run', 'show the diff; write nothing')
    .addHelpText(
      'after',
      `
When the file is exactly as the install left it, it is restored byte for byte from the backup;
otherwise only the replaced entries that nobody edited since get their original text back, and
every other change is kept.

Example:
  $ mcp-oauth hosts uninstall cursor`,
    )
    .action((host: string, options: { file?: string; dryRun?: boolean }, command: Command) =>
      dispatch(command, runHostsUninstall, {
        host,
        ...(options.file !== undefined ? { file: options.file } : {}),
        dryRun: options.dryRun === true,
      }),
    );
}

/** Restores what install changed in each file of the host; prints the diff (`--json`: per file). */
export async function runHostsUninstall(ctx: CliContext, input: HostsUninstallInput): Promise<void> {
  const configs = await hostConfigs();
  const host = requireHost(configs, input.host);
  const { resolve } = await import('node:path');
  const onlyFile = input.file !== undefined ? resolve(input.file) : undefined;
  const results = await configs.withHostsLock(ctx.home, async () => {
    const state = await configs.readInstallState(ctx.home);
    const records = state.files.filter(
      (record) => record.host === host.id && (onlyFile === undefined || record.file === onlyFile),
    );
    const out: Array<{
      file: string;
      whole: boolean;
      restored: string[];
      kept: Array<{ name: string; reason: string }>;
      problem?: string;
      diff: string;
    }> = [];
    for (const record of records) {
      const read = await configs.readHostFile(record.file);
      if (!read.ok) {
        out.push({ file: record.file, whole: false, restored: [], kept: [], problem: read.reason, diff: '' });
        continue;
      }
      const backup = await readFile(record.backup, 'utf8').catch(() => undefined);
      const plan = configs.planFileUninstall(host, record, read.text, backup);
      const diff = await hostFileDiff(record.file, read.text, plan.after);
      if (!input.dryRun) {
        if (plan.after !== read.text) {
          await configs.writeBackup(ctx.home, host.id, read.text, read.sha256);
          await writeFileAtomic(record.file, plan.after);
        }
        state.files.splice(state.files.indexOf(record), 1);
      }
      out.push({ file: record.file, whole: plan.whole, restored: plan.restored, kept: plan.kept, diff });
    }
    if (!input.dryRun && records.length > 0) await configs.writeInstallState(ctx.home, state);
    return out;
  });

  if (ctx.json) {
    ctx.out.json({ host: host.id, dryRun: input.dryRun, files: results });
    return;
  }
  if (results.length === 0) {
    ctx.out.result(`Nothing installed in ${host.label} by mcp-oauth.`);
    return;
  }
  for (const result of results) {
    if (result.problem) {
      ctx.out.result(`! ${result.file} not restored: ${shown(result.problem)}`);
      continue;
    }
    if (result.diff) ctx.out.result(result.diff);
    const how = result.whole ? 'restored byte for byte from the backup' : 'entries restored';
    ctx.out.result(
      `${input.dryRun ? '~' : '✓'} ${result.file}: ${how} (${result.restored.map(shown).join(', ') || 'none'})`,
    );
    for (const { name, reason } of result.kept)
      ctx.out.result(`  - ${shown(name)} not restored: ${shown(reason)}`);
  }
  if (input.dryRun) ctx.out.result('Dry run: nothing written.');
}
