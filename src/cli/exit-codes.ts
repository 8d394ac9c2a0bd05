import { CommanderError } from 'commander';
import { ConfigError, InsecureHomeError, NeedsReauthError } from '../errors.js';
import { type InterruptSignal, SIGNAL_EXIT } from './io.js';

/** The exit codes of every command: scripts branch on these, so they never change meaning. */
export const ExitCode = {
  ok: 0,
  /** Anything that failed at run time: a login that did not complete, a network error, ... */
  failure: 1,
  /** The command line or the configuration is wrong: retrying the same thing cannot help. */
  usage: 2,
  /** Only a new interactive login can help: the message names the exact command. */
  needsReauth: 3,
} as const;

/** A command's exit code: one of ExitCode, or 130 / 143 for a command the person interrupted. */
export type ExitCodeValue =
  | (typeof ExitCode)[keyof typeof ExitCode]
  | (typeof SIGNAL_EXIT)[keyof typeof SIGNAL_EXIT];

/**
 * A command stopped cleanly because of Ctrl-C or SIGTERM, after it undid what it had started
 * (a login released its lock and committed nothing). The message says what was cancelled and
 * what state it left; the exit code is the signal's (130, 143), as a shell reports it.
 */
export class InterruptedError extends Error {
  readonly signal: InterruptSignal;
  constructor(signal: InterruptSignal, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InterruptedError';
    this.signal = signal;
  }
}

/**
 * A failure whose result the command already printed on stdout (doctor's report, with --json its
 * one JSON object): the message still goes to stderr, but no `{"error"}` object follows on stdout,
 * so a program reads exactly one JSON object. `cause` decides the exit code (default 1).
 */
export class ReportedFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportedFailure';
  }
}

/**
 * A command that printed its whole answer and exits with a code other than 0 (`status` as a
 * health check): nothing more is printed, on stderr or stdout.
 */
export class CommandExit extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(exitCode: ExitCodeValue) {
    super(`exit ${exitCode}`);
    this.name = 'CommandExit';
    this.exitCode = exitCode;
  }
}

/**
 * The exit code for an error that ended a command. An insecure home folder counts as a
 * configuration error: the person has to fix their setup (chmod), not retry.
 */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  if (error instanceof ReportedFailure)
    return error.cause === undefined ? ExitCode.failure : exitCodeFor(error.cause);
  if (error instanceof InterruptedError) return SIGNAL_EXIT[error.signal];
  if (error instanceof CommandExit) return error.exitCode;
  if (error instanceof NeedsReauthError) return ExitCode.needsReauth;
  if (error instanceof ConfigError || error instanceof InsecureHomeError) return ExitCode.usage;
  return ExitCode.failure;
}
