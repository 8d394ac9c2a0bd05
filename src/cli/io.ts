import type { OpenBrowser } from '../index.js';

/** Where a command writes: a stream's write and the terminal facts that decide colour and width. */
export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Everything a command reads from or writes to the world outside its arguments. The binary passes
 * the process's own (`processIO`); tests pass captured streams and run the commands in-process.
 */
export interface CliIO {
  /** The result: a line for people, one JSON object for programs, or just the token. */
  stdout: OutputStream;
  /** Everything for the person watching: prompts, the spinner, errors, hints. */
  stderr: OutputStream;
  /** Read only by `login --no-browser` (the pasted address). */
  stdin: NodeJS.ReadableStream;
  /** MCP_OAUTH_HOME, colour settings (NO_COLOR, TERM) and client_secret_env variables. */
  env: NodeJS.ProcessEnv;
  /**
   * Ctrl-C (SIGINT) or SIGTERM while a command runs. The handler returns true when it dealt with
   * the signal (a login cancels itself, then the command exits 130 or 143 once the login has
   * unwound); false, or no handler, ends the command at once with exit 130 or 143. Returns the
   * function that removes the handler.
   */
  onInterrupt(handler: (signal: InterruptSignal) => boolean): () => void;
  /** Opens the login page; undefined: the library's opener ($BROWSER, else the system's browser). */
  openBrowser?: OpenBrowser;
}

/** Exit codes of a command ended by a signal, as a shell reports them (128 + signal number). */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/** The signals a command may handle: Ctrl-C, and the polite request to stop. */
export type InterruptSignal = keyof typeof SIGNAL_EXIT;

/**
 * The IO of the `mcp-oauth` process. SIGINT and SIGTERM go to the newest handler registered with
 * `onInterrupt`; unhandled, `exit` runs at once with 130 or 143. Every write is synchronous or
 * buffered by the stream, so `exit` flushes first (see main.ts).
 */
export function processIO(exit: (code: number) => void): CliIO {
  const handlers: Array<(signal: InterruptSignal) => boolean> = [];
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!handlers.at(-1)?.(signal)) exit(SIGNAL_EXIT[signal]);
    });
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    onInterrupt(handler) {
      handlers.push(handler);
      return () => {
        const index = handlers.lastIndexOf(handler);
        if (index >= 0) handlers.splice(index, 1);
      };
    },
  };
}
