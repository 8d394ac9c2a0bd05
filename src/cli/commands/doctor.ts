import type { Command } from 'commander';
import { displayText } from '../../terminal-text.js';
import type { CliContext } from '../context.js';
import { ReportedFailure } from '../exit-codes.js';
import type { Dispatch } from '../runner.js';

/** The arguments of `mcp-oauth doctor [server]`. */
export interface DoctorCommandInput {
  server?: string;
}

/** Defines `doctor [server]`. */
export function registerDoctor(program: Command, dispatch: Dispatch): void {
  program
    .command('doctor')
    .description(
      'check the setup: home folder, config.yaml, store, browser, and each server (reachable, metadata, PKCE, registration, device flow, clock)',
    )
    .argument('[server]', 'check only this server (default: all in config.yaml)')
    .addHelpText(
      'after',
      `
One line per check, with the fix when it fails. Exit 0: every check passed (warnings allowed);
1: a check failed; 2: config.yaml is invalid or the server is unknown.

Examples:
  $ mcp-oauth doctor
  $ mcp-oauth doctor notion --json`,
    )
    .action((server: string | undefined, _options: unknown, command: Command) =>
      dispatch(command, runDoctorCommand, server === undefined ? {} : { server }),
    );
}

/** Runs the checks, prints one line per check (`--json`: `{checks, ok}`), then fails with 1 or 2. */
export async function runDoctorCommand(ctx: CliContext, input: DoctorCommandInput): Promise<void> {
  const { runDoctor } = await import('../../manager/diagnostics/doctor.js');
  const report = await runDoctor({
    home: ctx.home,
    env: ctx.io.env,
    logger: ctx.logger,
    ...(input.server !== undefined ? { server: input.server } : {}),
  });
  const failed = report.checks.filter((check) => check.status === 'fail');
  if (ctx.json) {
    ctx.out.json({ ok: failed.length === 0 && !report.configError, checks: report.checks });
  } else {
    const style = ctx.out.outStyle;
    const lines = report.checks.map((check) => {
      const mark =
        check.status === 'pass'
          ? style.green('✓')
          : check.status === 'warn'
            ? style.yellow('!')
            : style.red('✗');
      const where = check.server ? `${displayText(check.server)} ` : '';
      const fix = check.fix && check.status !== 'pass' ? `\n    fix: ${displayText(check.fix, 600)}` : '';
      return `${mark} ${where}${check.id}: ${displayText(check.detail, 600)}${fix}`;
    });
    ctx.out.result(lines.join('\n'));
  }
  // The report is the result (one JSON object with --json): the failure adds no second object.
  if (report.configError)
    throw new ReportedFailure(report.configError.message, { cause: report.configError });
  if (failed.length > 0) {
    throw new ReportedFailure(
      `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed
        .map((check) => (check.server ? `${check.server} ${check.id}` : check.id))
        .join(', ')}`,
    );
  }
}
