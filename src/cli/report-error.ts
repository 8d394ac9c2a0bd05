import { ConfigError, InsecureHomeError, McpOAuthError } from '../errors.js';
import { redactText } from '../logger.js';
import { displayLines, displayText } from '../terminal-text.js';
import { errorJson } from './error-hint.js';
import { InterruptedError, ReportedFailure } from './exit-codes.js';
import type { CliIO } from './io.js';
import { terminalSafeJson } from './output.js';
import { styleFor } from './style.js';

/**
 * Longest error message printed (characters). A message can carry a server's error body (the
 * SDK quotes the raw body of an answer it cannot parse); a longer one keeps its start (what
 * failed) and its end (what to do next) and loses its middle.
 */
const MAX_MESSAGE_LENGTH = 600;
/** With --verbose, each line of the stack and the causes is cut at this length. */
const MAX_VERBOSE_LINE_LENGTH = 2000;

/**
 * Prints an error the way every command does: `error: <message>` on stderr. The typed errors'
 * messages already say what to do next, so they are printed as they are; a stack trace only with
 * `--verbose` (people do not need one, bug reports do). Every message goes through the library's
 * redaction (by value and by pattern), in case it carries a token or a secret, and through the
 * terminal filter: text a server sent (an error code, an echoed body) reaches the terminal on one
 * line, without control characters and cut to a readable length. A command the person
 * interrupted prints what it cancelled, without `error:`. With `--json`, the same error is also
 * written on stdout as `{"error": {"code", "message", "hint"}}` (the exit code is unchanged).
 */
export function reportError(io: CliIO, error: unknown, verbose: boolean, json = false): void {
  const style = styleFor(io.stderr, io.env);
  const message = error instanceof Error ? error.message : String(error);
  const shown = safeMessage(error, message);
  io.stderr.write(error instanceof InterruptedError ? `${shown}\n` : `${style.red('error:')} ${shown}\n`);
  // A program reading --json gets the error on stdout too, where it reads the result.
  if (json && !(error instanceof ReportedFailure))
    io.stdout.write(`${terminalSafeJson({ error: errorJson(error, shown) }, 2)}\n`);
  if (!verbose) return;
  if (error instanceof McpOAuthError) io.stderr.write(`  code: ${error.code}\n`);
  // The stack, then the chain of causes (a LoginError's cause is often the real network error).
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    io.stderr.write(`${depth > 0 ? 'caused by: ' : ''}${stackOf(current)}\n`);
    current = current instanceof Error ? current.cause : undefined;
  }
}

/**
 * `Name: message` on one line (the message may quote a server, line breaks included), then the
 * stack frames, each line redacted, without control characters and cut at a readable length.
 */
function stackOf(error: unknown): string {
  const headline = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  // The stack starts with the headline; what follows it is the frames (written by V8, not a server).
  const frames = stack.startsWith(headline)
    ? stack.slice(headline.length)
    : stack
        .split('\n')
        .filter((line) => /^\s+at /.test(line))
        .map((line) => `\n${line}`)
        .join('');
  const oneLine = elide(displayText(redactText(headline), Number.POSITIVE_INFINITY), MAX_VERBOSE_LINE_LENGTH);
  const frameLines = displayLines(redactText(frames))
    .split('\n')
    .map((line) => elide(line, MAX_VERBOSE_LINE_LENGTH));
  return `${oneLine}${frameLines.join('\n')}`;
}

/**
 * The message, redacted and fit for a terminal. Configuration errors are this program's own text
 * about a local file, laid out on several lines: their lines are kept. Any other message may hold
 * what a server sent, so it is put on one line and cut to {@link MAX_MESSAGE_LENGTH}.
 */
function safeMessage(error: unknown, message: string): string {
  const redacted = redactText(message);
  if (error instanceof ConfigError || error instanceof InsecureHomeError) return displayLines(redacted);
  return elide(displayText(redacted, Number.POSITIVE_INFINITY), MAX_MESSAGE_LENGTH);
}

/** `text` cut to `max` characters by removing its middle: its start and its end stay readable. */
function elide(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const tail = Math.floor(max / 3);
  const head = max - tail - 1;
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - tail).join('')}`;
}
