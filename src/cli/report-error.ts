import { McpOAuthError } from '../errors.js';
import { redact } from '../logger.js';
import type { CliIO } from './io.js';
import { styleFor } from './style.js';

/**
 * Prints an error the way every command does: `error: <message>` on stderr. The typed errors'
 * messages already say what to do next, so they are printed as they are; a stack trace only with
 * `--verbose` (people do not need one, bug reports do). Every message goes through the library's
 * redaction, in case an unexpected error carried a token or a secret.
 */
export function reportError(io: CliIO, error: unknown, verbose: boolean): void {
  const style = styleFor(io.stderr, io.env);
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`${style.red('error:')} ${redact(message) as string}\n`);
  if (!verbose) return;
  if (error instanceof McpOAuthError) io.stderr.write(`  code: ${error.code}\n`);
  // The stack, then the chain of causes (a LoginError's cause is often the real network error).
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const text =
      current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current);
    io.stderr.write(`${depth > 0 ? 'caused by: ' : ''}${redact(text) as string}\n`);
    current = current instanceof Error ? current.cause : undefined;
  }
}
