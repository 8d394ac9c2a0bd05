import { Command, CommanderError } from 'commander';
import { registerLogin } from './commands/login.js';
import { registerLogout } from './commands/logout.js';
import { registerRefresh } from './commands/refresh.js';
import { registerServers } from './commands/servers/index.js';
import { registerStatus } from './commands/status.js';
import { registerStore } from './commands/store/index.js';
import { registerToken } from './commands/token.js';
import { CommandExit, ExitCode, type ExitCodeValue, exitCodeFor } from './exit-codes.js';
import type { CliIO } from './io.js';
import { reportError } from './report-error.js';
import { type Dispatch, dispatchTo } from './runner.js';
import { packageVersion } from './version.js';

/**
 * The `mcp-oauth` command tree: commander parses, and each action hands its parsed inputs to
 * `dispatch` with the command's run function. Usage errors throw (exitOverride) instead of
 * exiting the process; help, version and usage errors are written to `io`.
 *
 * Only commander and the light modules load up front: the manager (and with it the MCP SDK) and
 * the configuration parser are imported when a command needs them, so `--help` and usage errors
 * answer at once.
 */
export function buildProgram(io: CliIO, dispatch: Dispatch = dispatchTo(io)): Command {
  const program = new Command('mcp-oauth')
    .description('Log in to OAuth-protected MCP servers and manage their credentials.')
    .version(packageVersion(), '-V, --version')
    .option('--home <dir>', 'home folder (default: $MCP_OAUTH_HOME, else ~/.mcp-oauth)')
    .option(
      '--account <name>',
      'the account of the credentials (default: $MCP_OAUTH_ACCOUNT, else "default")',
    )
    .option('--json', 'print one JSON object on stdout instead of text')
    .option('--verbose', 'debug logs on stderr (tokens and secrets redacted), stack traces on errors')
    // Set before any subcommand is created: commander copies these settings into subcommands.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      // Commander's own default: the terminal's width, else 80.
      getOutHelpWidth: () => (io.stdout.isTTY && io.stdout.columns) || 80,
      getErrHelpWidth: () => (io.stderr.isTTY && io.stderr.columns) || 80,
      // Help is plain text: no colour decisions to make beyond the ones in style.ts.
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 a new login is needed.

Example:
  $ mcp-oauth servers add notion https://mcp.notion.com/mcp
  $ mcp-oauth login notion
  $ mcp-oauth status`,
    );
  registerLogin(program, dispatch);
  registerLogout(program, dispatch);
  registerStatus(program, dispatch);
  registerToken(program, dispatch);
  registerRefresh(program, dispatch);
  registerServers(program, dispatch);
  registerStore(program, dispatch);
  return program;
}

/** Runs the CLI on `argv` (process.argv form) with `io` and returns the exit code; never throws. */
export async function run(argv: string[], io: CliIO): Promise<ExitCodeValue> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (error) {
    // Commander already printed its own message (usage errors) or the help/version text.
    if (!(error instanceof CommanderError || error instanceof CommandExit))
      reportError(io, error, verboseRequested(program, argv));
    return exitCodeFor(error);
  }
}

function verboseRequested(program: Command, argv: string[]): boolean {
  return program.opts().verbose === true || argv.includes('--verbose');
}
