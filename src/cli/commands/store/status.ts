import type { Command } from 'commander';
import type { StoreReport } from '../../../store/store-inspection.js';
import type { CliContext } from '../../context.js';
import { CommandExit, ExitCode } from '../../exit-codes.js';
import type { Dispatch } from '../../runner.js';
import { openSpec, selectedSpec } from './selected-spec.js';

/** Defines `store status` and hands it to `dispatch`. */
export function registerStoreStatus(store: Command, dispatch: Dispatch): void {
  store
    .command('status')
    .description('show the credential store in use: backend, reachability, latency, number of records')
    .addHelpText(
      'after',
      `
Never shows a record's content. Exit 0 when the store is reachable, 1 when not.

Examples:
  $ mcp-oauth store status
  $ MCP_OAUTH_STORE=rediss://user:pass@redis.example.com:6380/0 mcp-oauth store status --json`,
    )
    .action((_options: unknown, command: Command) => dispatch(command, runStoreStatus, {}));
}

/**
 * Prints the selected store's backend, URL (without its password), reachability, latency (one
 * round trip), number of records, encryption key id and moved marker; `--json` as one object.
 */
export async function runStoreStatus(ctx: CliContext, _input: Record<string, never>): Promise<void> {
  const spec = await selectedSpec(ctx);
  const { inspectStore } = await import('../../../store/store-inspection.js');
  const { redactStoreUrl } = await import('../../../store/store-url.js');
  let report: StoreReport;
  try {
    const opened = await openSpec(ctx, spec);
    try {
      report = await inspectStore(opened);
    } finally {
      await opened.store.close();
    }
  } catch (error) {
    // A configuration problem (a bad key, a Redis store without one) is an error of its own.
    if ((error as { code?: string }).code === 'CONFIG') throw error;
    report = {
      backend: spec.backend,
      url: spec.backend === 'file' ? 'file' : redactStoreUrl(spec.url),
      prefix: spec.prefix ?? null,
      reachable: false,
      latencyMs: null,
      records: null,
      encryptionKeyId: null,
      moved: null,
      error: (error as Error).message,
    };
  }
  if (ctx.json) ctx.out.json({ store: { ...report, selectedBy: spec.from } });
  else ctx.out.result(renderReport(report, spec.from));
  if (!report.reachable) throw new CommandExit(ExitCode.failure);
}

function renderReport(report: StoreReport, from: string): string {
  const lines = [
    `backend     ${report.backend} (${from === 'environment' ? 'MCP_OAUTH_STORE' : from === 'config' ? 'config.yaml store.url' : 'default'})`,
    `url         ${report.url}${report.prefix ? ` (prefix ${report.prefix})` : ''}`,
    `reachable   ${report.reachable ? 'yes' : `no: ${report.error}`}`,
  ];
  if (report.reachable) {
    lines.push(`latency     ${report.latencyMs} ms`, `records     ${report.records}`);
  }
  lines.push(`encryption  ${report.encryptionKeyId ? `AES-256-GCM, key ${report.encryptionKeyId}` : 'none'}`);
  if (report.moved)
    lines.push(`moved       ${report.moved.phase === 'moved' ? 'to' : 'being moved to'} ${report.moved.to}`);
  return lines.join('\n');
}
