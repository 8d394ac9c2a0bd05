import type { Command } from 'commander';
import { type CliContext, createContext, type GlobalOptions } from './context.js';

/**
 * Runs a command's body with the context built from the global options (`--home`, `--json`,
 * `--verbose`, which commander accepts before or after the command name). Errors propagate to
 * `program.ts`, which prints them and picks the exit code: the commands only throw.
 */
export async function runCommand(command: Command, body: (ctx: CliContext) => Promise<void>): Promise<void> {
  await body(createContext(command.optsWithGlobals<GlobalOptions>()));
}
