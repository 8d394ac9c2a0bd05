import { Command, CommanderError } from 'commander';
import { registerLogin } from './commands/login.js';
import { registerLogout } from './commands/logout.js';
import { registerRefresh } from './commands/refresh.js';
import { registerServers } from './commands/servers/index.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';
import { ExitCode, type ExitCodeValue, exitCodeFor } from './exit-codes.js';
import { reportError } from './report-error.js';
import { packageVersion } from './version.js';

/**
 * The `mcp-oauth` command tree. Usage errors throw (exitOverride) instead of exiting the process.
 *
 * Only commander and the light modules load up front: the manager (and with it the MCP SDK) and
 * the configuration parser are imported when a command needs them, so `--help` and usage errors
 * answer at once.
 */
export function buildProgram(): Command {
  const program = new Command('mcp-oauth')
    .description('Log in to OAuth-protected MCP servers and manage their credentials.')
    .version(packageVersion(), '-V, --version')
    .option('--home <dir>', 'home folder (default: $MCP_OAUTH_HOME, else ~/.mcp-oauth)')
    .option('--json', 'print one JSON object on stdout instead of text')
    .option('--verbose', 'debug logs on stderr (tokens and secrets redacted), stack traces on errors')
    // Set before any subcommand is created: commander copies these settings into subcommands.
    .exitOverride()
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
  registerLogin(program);
  registerLogout(program);
  registerStatus(program);
  registerToken(program);
  registerRefresh(program);
  registerServers(program);
  return program;
}

/** Runs the CLI on `argv` (process.argv form) and returns the exit code; never throws. */
export async function run(argv: string[]): Promise<ExitCodeValue> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (error) {
    // Commander already printed its own message (usage errors) or the help/version text.
    if (!(error instanceof CommanderError)) reportError(error, verboseRequested(program, argv));
    return exitCodeFor(error);
  }
}

function verboseRequested(program: Command, argv: string[]): boolean {
  return program.opts().verbose === true || argv.includes('--verbose');
}
