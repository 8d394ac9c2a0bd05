import type { Command } from 'commander';
import { type CliContext, createContext, type GlobalOptions } from './context.js';
import type { CliIO } from './io.js';

/** A command's body: its parsed inputs in, output through `ctx.out`; failures are thrown. */
export type RunFn<I> = (ctx: CliContext, input: I) => Promise<void>;

/**
 * What a commander action hands its parsed inputs to. The program runs them; a test can pass its
 * own to see what a command line parses into without running anything.
 */
export type Dispatch = <I>(command: Command, run: RunFn<I>, input: I) => Promise<void>;

/**
 * Runs a command's body with the context built from the global options (`--home`, `--json`,
 * `--verbose`, which commander accepts before or after the command name). Errors propagate to
 * `program.ts`, which prints them and picks the exit code: the commands only throw.
 */
export function dispatchTo(io: CliIO): Dispatch {
  return (command, run, input) => run(createContext(command.optsWithGlobals<GlobalOptions>(), io), input);
}
