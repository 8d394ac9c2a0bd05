import { styleFor } from './style.js';

/**
 * Where each kind of output goes. stdout carries the result (a line for people, one JSON object
 * for programs, or just the token for `token`), so it can be piped; everything meant only for a
 * person watching (prompts, the spinner, errors, hints) goes to stderr.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printResult(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printNote(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** `✓ message` for a completed action, green on a colour terminal. */
export function success(text: string): string {
  return `${styleFor(process.stdout).green('✓')} ${text}`;
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
