import type { CliIO } from './io.js';
import { type Style, styleFor } from './style.js';

/**
 * Where each kind of output goes. stdout carries the result (a line for people, one JSON object
 * for programs, or just the token for `token`), so it can be piped; everything meant only for a
 * person watching (prompts, the spinner, errors, hints) goes to stderr.
 */
export class Output {
  /** Colours for stdout and stderr, each decided by its own stream (one may be a pipe). */
  readonly outStyle: Style;
  readonly errStyle: Style;

  constructor(private readonly io: CliIO) {
    this.outStyle = styleFor(io.stdout, io.env);
    this.errStyle = styleFor(io.stderr, io.env);
  }

  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  result(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  note(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** `✓ message` for a completed action, green on a colour terminal. */
  success(text: string): string {
    return `${this.outStyle.green('✓')} ${text}`;
  }
}

/** Writes what is still buffered in stdout and stderr, so exiting right after loses nothing. */
export async function flushOutput(): Promise<void> {
  await Promise.all(
    [process.stdout, process.stderr].map(
      (stream) =>
        new Promise<void>((resolve) =>
          stream.writableLength === 0 ? resolve() : stream.write('', () => resolve()),
        ),
    ),
  );
}
