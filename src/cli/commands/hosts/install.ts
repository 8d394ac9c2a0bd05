import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../../atomic-file.js';
import { ConfigError } from '../../../errors.js';
import { DEFAULT_HOME_FOLDER_NAME } from '../../../home-folder.js';
import { type CliContext, readConfig } from '../../context.js';
import type { Dispatch } from '../../runner.js';
import { hostFileDiff } from './diff-view.js';
import { filesToScan, hostConfigs, requireHost, shown } from './host-files.js';

/** The arguments of `mcp-oauth hosts install <host> [server...]`. */
export interface HostsInstallInput {
  host: string;
  servers: string[];
  file?: string;
  project?: string;
  dryRun: boolean;
  global: boolean;
}

/** Defines `hosts install <host> [server...] [--file PATH] [--dry-run] [--global]`. */
export function registerHostsInstall(hosts: Command, dispatch: Dispatch): void {
  hosts
    .command('install')
    .description("run a host's remote servers through `mcp-oauth proxy` (edits its configuration in place)")
    .argument('<host>', 'claude-desktop, claude-code, cursor, vscode, windsurf, codex, gemini or hermes')
    .argument('[server...]', "entry names in the host's file (default: all its remote servers)")
    .option('--file <path>', "edit this file instead of the host's usual ones")
    .option(
      '--project <dir>',
      'the project folder whose project files are edited (default: the current folder)',
    )
    .option('--dry-run', 'show the diff; write nothing')
    .option(
      '--global',
      'launch the proxy as `mcp-oauth` (installed with npm i -g) instead of `npx -y mcp-oauth-manager`',
    )
    .addHelpText(
      'after',
      `
Each chosen entry becomes a local (stdio) entry running \`npx -y mcp-oauth-manager proxy NAME\`;
servers not yet in config.yaml are imported first. Comments and formatting are kept, a backup is
written to <home>/hosts/backups first, and the change is shown as a diff. Running it again changes
nothing; \`mcp-oauth hosts uninstall <host>\` puts the entries back.

Examples:
  $ mcp-oauth hosts install cursor --dry-run
  $ mcp-oauth hosts install claude-code notion linear`,
    )
    .action(
      (
        host: string,
        servers: string[],
        options: { file?: string; project?: string; dryRun?: boolean; global?: boolean },
        command: Command,
      ) =>
        dispatch(command, runHostsInstall, {
          host,
          servers,
          ...(options.file !== undefined ? { file: options.file } : {}),
          ...(options.project !== undefined ? { project: options.project } : {}),
          dryRun: options.dryRun === true,
          global: options.global === true,
        }),
    );
}

/** The home argument the proxy entry carries: none for the default home, else `--home DIR`. */
function homeArgument(ctx: CliContext): string | undefined {
  return ctx.home === resolve(homedir(), DEFAULT_HOME_FOLDER_NAME) ? undefined : ctx.home;
}

/**
 * Imports the chosen remote servers that config.yaml lacks (one write), then edits each host file:
 * backup, in-place edit, state in <home>/hosts/installed.json; prints the diff (`--json`: files,
 * changes, diffs). Entries that cannot be proxied are reported with their reason.
 */
export async function runHostsInstall(ctx: CliContext, input: HostsInstallInput): Promise<void> {
  const configs = await hostConfigs();
  const host = requireHost(configs, input.host);
  const { files, looked } = await filesToScan(configs, ctx, {
    host: host.id,
    ...(input.file !== undefined ? { file: input.file } : {}),
    ...(input.project !== undefined ? { project: input.project } : {}),
  });
  const readable = files.filter((file) => !file.problem);
  if (readable.length === 0) {
    const problems = files.map((file) => `  ${file.location.file}: ${shown(file.problem ?? '')}`);
    throw new ConfigError(
      problems.length > 0
        ? `No readable ${host.label} configuration:\n${problems.join('\n')}`
        : `No ${host.label} configuration found. Looked in:\n${looked.map((file) => `  ${file}`).join('\n')}`,
    );
  }

  // The entries to proxy: the remote ones, or those named.
  const wanted = new Set(input.servers);
  const named = (name: string) => wanted.size === 0 || wanted.has(name);
  const known = new Set(readable.flatMap((file) => file.entries.map(({ entry }) => entry.name)));
  const unknown = input.servers.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const remote = readable.flatMap((file) =>
      file.entries.filter(({ kind }) => kind.kind === 'remote').map(({ entry }) => entry.name),
    );
    throw new ConfigError(
      `No entry named ${unknown.map((name) => `'${shown(name)}'`).join(', ')} in the ${host.label} configuration. Remote servers there: ${remote.length > 0 ? remote.map(shown).join(', ') : 'none'}.`,
    );
  }
  const selected = readable.map((file) => ({
    ...file,
    entries: file.entries.filter(({ entry, kind }) => named(entry.name) && kind.kind === 'remote'),
  }));

  // Import what config.yaml lacks (one write), so every proxied entry has its server.
  const config = await readConfig(ctx);
  const existing = new Map([...config.servers].map(([name, server]) => [name, server.url]));
  const plan = configs.planImport(selected, existing, ctx.io.env);
  if (!input.dryRun && plan.toAdd.length > 0) {
    const { addServers } = await import('../../../config/index.js');
    await addServers(ctx.home, plan.toAdd);
  }

  const launcher = configs.proxyLauncher({
    global: input.global,
    home: homeArgument(ctx),
    platform: process.platform,
  });
  const results: Array<{
    file: string;
    changed: boolean;
    installed: Array<{ name: string; server: string }>;
    skipped: Array<{ name: string; reason: string }>;
    backup?: string;
    diff: string;
  }> = [];
  for (const file of selected) {
    const report = plan.files.find((candidate) => candidate.file === file.location.file)!;
    const targets = file.entries.flatMap((scanned) => {
      const server = plan.serverOf.get(scanned);
      return server ? [{ scanned, server }] : [];
    });
    const skipped = report.skipped
      .filter((entry) => !targets.some((target) => target.scanned.entry.name === entry.name))
      .map(({ name, reason }) => ({ name, reason }));
    // Entries named explicitly that are not remote: say why nothing happens to them.
    for (const { entry, kind } of readable.find((f) => f.location.file === file.location.file)!.entries) {
      if (wanted.has(entry.name) && kind.kind !== 'remote') {
        skipped.push({
          name: entry.name,
          reason:
            kind.kind === 'proxied'
              ? 'already runs through mcp-oauth proxy'
              : `not a remote server (${kind.kind})`,
        });
      }
    }
    const edit = configs.planFileInstall(file, targets, launcher);
    skipped.push(...edit.problems);
    const changed = edit.after !== edit.before;
    const diff = await hostFileDiff(file.location.file, edit.before, edit.after);
    let backup: string | undefined;
    if (changed && !input.dryRun) backup = await applyInstall(ctx, configs, file, edit);
    results.push({
      file: file.location.file,
      changed,
      installed: edit.changes.map(({ name, server }) => ({ name, server })),
      skipped,
      ...(backup ? { backup } : {}),
      diff,
    });
  }

  if (ctx.json) {
    ctx.out.json({
      host: host.id,
      dryRun: input.dryRun,
      imported: plan.toAdd.map(({ name }) => name),
      files: results,
    });
    return;
  }
  for (const result of results) {
    if (result.diff) ctx.out.result(result.diff);
    for (const { name, server } of result.installed)
      ctx.out.result(`  ${input.dryRun ? '~' : '✓'} ${shown(name)} → mcp-oauth proxy ${server}`);
    for (const { name, reason } of result.skipped)
      ctx.out.result(`  - ${shown(name)}  not changed: ${shown(reason)}`);
    if (!result.changed) ctx.out.result(`No change to ${result.file}`);
    else if (result.backup) ctx.out.note(`Backup of ${result.file}: ${result.backup}`);
  }
  if (input.dryRun) ctx.out.result('Dry run: nothing written.');
  else if (results.some((result) => result.changed))
    ctx.out.note(`Restart ${host.label} to use the proxy. Undo with: mcp-oauth hosts uninstall ${host.id}`);
}

/**
 * Writes one host file's install under the hosts lock: the file must still be what was read (else
 * ConfigError: run again), a backup goes first, then the file, then the state.
 */
async function applyInstall(
  ctx: CliContext,
  configs: Awaited<ReturnType<typeof hostConfigs>>,
  file: Awaited<ReturnType<typeof filesToScan>>['files'][number],
  edit: ReturnType<Awaited<ReturnType<typeof hostConfigs>>['planFileInstall']>,
): Promise<string> {
  return configs.withHostsLock(ctx.home, async () => {
    const path = file.location.file;
    const now = await configs.readHostFile(path);
    if (!now.ok || now.sha256 !== file.sha256) {
      throw new ConfigError(
        `${path} changed while mcp-oauth was editing it; nothing was written. Run the command again.`,
        {
          file: path,
        },
      );
    }
    const state = await configs.readInstallState(ctx.home);
    const backup = await configs.writeBackup(ctx.home, file.host.id, edit.before, now.sha256);
    await writeFileAtomic(path, edit.after).catch((error: unknown) => {
      throw new ConfigError(
        `Could not write ${path} (${error instanceof Error ? error.message : String(error)}); it is unchanged. The backup is ${backup}.`,
        { file: path },
      );
    });
    const afterSha = configs.sha256(edit.after);
    const record = state.files.find((candidate) => candidate.file === path);
    if (record) {
      // Edited by someone else since the last install: the first backup no longer undoes
      // everything by itself, so uninstall restores entry by entry ('' never matches a hash).
      if (record.installedSha256 !== now.sha256) record.originalSha256 = '';
      record.installedSha256 = afterSha;
      record.entries.push(...edit.changes);
    } else {
      state.files.push({
        host: file.host.id,
        file: path,
        backup,
        originalSha256: now.sha256,
        installedSha256: afterSha,
        entries: edit.changes,
      });
    }
    await configs.writeInstallState(ctx.home, state);
    return backup;
  });
}
