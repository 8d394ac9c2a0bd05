import type { Command } from 'commander';
import { ConfigError } from '../../../errors.js';
import type { CliContext } from '../../context.js';
import type { Dispatch } from '../../runner.js';
import { openSpec, selectedSpec } from './selected-spec.js';

/** The options of `mcp-oauth store migrate`. */
export interface StoreMigrateInput {
  to: string;
  from?: string;
}

/** Defines `store migrate --to URL [--from URL]` and hands it to `dispatch`. */
export function registerStoreMigrate(store: Command, dispatch: Dispatch): void {
  store
    .command('migrate')
    .description('copy every credential to another store and mark this one as moved')
    .requiredOption('--to <url>', 'the new store: file, or redis://... / rediss://...')
    .option(
      '--from <url>',
      'the store to move from (default: the selected one, MCP_OAUTH_STORE or config.yaml)',
    )
    .addHelpText(
      'after',
      `
Compare-and-set per credential, under its lock in both stores; running it again copies nothing new.
The old store keeps its records and is marked as moved: running processes switch to the new store
(or refuse to refresh from the old one), so none spends a refresh token the new store holds.
Then set MCP_OAUTH_STORE (or store.url) to the new store everywhere.

Examples:
  $ MCP_OAUTH_ENCRYPTION_KEY=... mcp-oauth store migrate --to rediss://user:pass@redis.example.com:6380/0
  $ mcp-oauth store migrate --from rediss://user:pass@redis.example.com:6380/0 --to file`,
    )
    .action((options: StoreMigrateInput, command: Command) =>
      dispatch(command, runStoreMigrate, { to: options.to, ...(options.from ? { from: options.from } : {}) }),
    );
}

/** Copies every record from the selected (or `--from`) store to `--to`, then marks the source moved. */
export async function runStoreMigrate(ctx: CliContext, input: StoreMigrateInput): Promise<void> {
  const sourceSpec = await selectedSpec(ctx, input.from);
  const targetSpec = await selectedSpec(ctx, input.to);
  if (sourceSpec.url === targetSpec.url) {
    throw new ConfigError(
      `The store to move to is the store in use (${input.to === 'file' ? 'file' : 'the same URL'}); name another with --to.`,
    );
  }
  const { migrateStore } = await import('../../../store/store-migration.js');
  const source = await openSpec(ctx, sourceSpec);
  try {
    const target = await openSpec(ctx, targetSpec);
    try {
      // The full URL goes into the old store's marker only where it is as safe as the tokens there.
      const safeToKeep =
        targetSpec.backend === 'file' || source.cipher !== undefined || target.displayUrl === targetSpec.url;
      const started = performance.now();
      const report = await migrateStore(source.store, {
        store: target.store,
        displayUrl: target.displayUrl,
        ...(safeToKeep ? { followUrl: target.url } : {}),
        ...(target.prefix !== undefined ? { prefix: target.prefix } : {}),
        ...(target.backend === 'file' ? { home: ctx.home } : {}),
      });
      const seconds = (performance.now() - started) / 1000;
      if (ctx.json) {
        ctx.out.json({
          from: source.displayUrl,
          to: target.displayUrl,
          ...report,
          seconds,
          followable: safeToKeep,
        });
        return;
      }
      ctx.out.result(
        `Copied ${report.copied} of ${report.total} credentials from ${source.displayUrl} to ${target.displayUrl}` +
          ` (${report.unchanged} already there, ${report.keptNewer} newer there kept) in ${seconds.toFixed(2)} s.`,
      );
      ctx.out.note(
        safeToKeep
          ? `${source.displayUrl} is marked as moved: running processes switch to ${target.displayUrl}. Set MCP_OAUTH_STORE=${target.displayUrl === target.url ? target.url : '<the new URL>'} (or store.url) for new ones.`
          : `${source.displayUrl} is marked as moved: running processes refuse to refresh from it until restarted with MCP_OAUTH_STORE set to the new store (its password is not kept in the old store, whose records are not encrypted).`,
      );
    } finally {
      await target.store.close();
    }
  } finally {
    await source.store.close();
  }
}
