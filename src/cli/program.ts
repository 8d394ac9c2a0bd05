import { Command, CommanderError } from 'commander';
import { answerCompletion, registerCompletion } from './commands/completion.js';
import { registerDoctor } from './commands/doctor.js';
import { registerHosts } from './commands/hosts/index.js';
import { registerLogin } from './commands/login.js';
import { registerLogout } from './commands/logout.js';
import { registerProxy } from './commands/proxy.js';
import { registerRefresh } from './commands/refresh.js';
import { registerServers } from './commands/servers/index.js';
import { registerStatus } from './commands/status.js';
import { registerStore } from './commands/store/index.js';
import { registerToken } from './commands/token.js';
import { COMPLETE_COMMAND } from './completion.js';
import { errorJson } from './error-hint.js';
import { CommandExit, ExitCode, type ExitCodeValue, exitCodeFor } from './exit-codes.js';
import type { CliIO } from './io.js';
import { terminalSafeJson } from './output.js';
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
  registerHosts(program, dispatch);
  registerProxy(program, dispatch);
  registerStore(program, dispatch);
  registerCompletion(program, dispatch);
  registerDoctor(program, dispatch);
  return program;
}

/** Runs the CLI on `argv` (process.argv form) with `io` and returns the exit code; never throws. */
export async function run(argv: string[], io: CliIO): Promise<ExitCodeValue> {
  const program = buildProgram(io);
  // The completion scripts' call back: its words are a partial command line, not one to parse.
  if (argv[2] === COMPLETE_COMMAND) {
    await answerCompletion(program, argv.slice(3), io);
    return ExitCode.ok;
  }
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (error) {
    const json = flagRequested(program, argv, 'json');
    // Commander already printed its own message (usage errors) or the help/version text; with
    // --json a usage error is also one JSON object on stdout. A CommandExit printed its answer.
    if (error instanceof CommandExit) return exitCodeFor(error);
    if (!(error instanceof CommanderError))
      reportError(io, error, flagRequested(program, argv, 'verbose'), json);
    else if (json && error.exitCode !== 0) writeUsageErrorJson(io, error);
    return exitCodeFor(error);
  }
}

/** Whether `--NAME` was given: parsed when commander got that far, else found in argv. */
function flagRequested(program: Command, argv: string[], name: 'json' | 'verbose'): boolean {
  return program.opts()[name] === true || argv.includes(`--${name}`);
}

function writeUsageErrorJson(io: CliIO, error: CommanderError): void {
  const message = error.message.replace(/^error: /, '');
  io.stdout.write(`${terminalSafeJson({ error: errorJson(error, message) }, 2)}\n`);
}
