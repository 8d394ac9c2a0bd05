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
    this.io.stdout.write(`${terminalSafeJson(value, 2)}\n`);
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

// JSON.stringify escapes C0 controls (ESC, BEL, CR, LF) but writes DEL, the C1 controls (CSI
// U+009B starts a sequence on some terminals), the bidi controls and the line separators as they
// are; they are escaped too, which leaves the same JSON value.
const LEFT_RAW_BY_JSON = /[\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

/**
 * `JSON.stringify(value, null, indent)` that is also safe on a terminal: no character of a string
 * (a server's scope, issuer or error) can act as a control sequence or reorder the text shown.
 * Parsed back, it is the same value.
 */
export function terminalSafeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    LEFT_RAW_BY_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
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
