/**
 * `'never'`: never open a browser implicitly; `'always'`: always may; `'auto'`: only in an
 * interactive context (a TTY on stdin and stderr, not CI).
 */
export type Interactive = 'never' | 'auto' | 'always';

/** Whether `mode` lets a request (not a person at the CLI) open a browser now. */
export function mayPromptImplicitly(mode: Interactive, env: NodeJS.ProcessEnv = process.env): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI !== 'false';
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !ci;
}
