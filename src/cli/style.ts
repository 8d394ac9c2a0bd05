/**
 * Colour decisions in one place. Colour only on a terminal unless FORCE_COLOR asks for it, and
 * never when NO_COLOR is set to a non-empty value (https://no-color.org): then not one ANSI colour
 * code is written.
 */

export interface Style {
  readonly enabled: boolean;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

/**
 * Whether colour may be written to `stream`: never with a non-empty NO_COLOR; else as FORCE_COLOR
 * says when it is set (`0` or `false`: never; any other value: always, even into a pipe, as CI
 * logs want); else only on a TTY whose TERM is not `dumb`.
 */
export function colorAllowed(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string) => text;

/** The colour functions for `stream`; each returns the text unchanged where `colorAllowed` says no. */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  const on = colorAllowed(stream, env);
  return {
    enabled: on,
    green: on ? sgr(32, 39) : plain,
    yellow: on ? sgr(33, 39) : plain,
    red: on ? sgr(31, 39) : plain,
    cyan: on ? sgr(36, 39) : plain,
    dim: on ? sgr(2, 22) : plain,
    bold: on ? sgr(1, 22) : plain,
  };
}
