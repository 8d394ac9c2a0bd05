import { spawn } from 'node:child_process';
import { browserOpener } from './browser-opener.js';

/** No browser can be opened here (no opener, no display, a BROWSER command that failed). */
export class NoBrowserError extends Error {
  constructor(readonly why: string) {
    super(`no browser can be opened here: ${why}`);
    this.name = 'NoBrowserError';
  }
}

/** Opens a URL for the person logging in. Resolves once the opener started (not when it exits). */
export type OpenBrowser = (url: string) => Promise<BrowserHandle>;

/** A started opener: lets a login that waits for the redirect learn that the browser never came up. */
export interface BrowserHandle {
  /** Rejects if the opener command fails (non-zero exit), so a login can fail fast instead of waiting. */
  readonly failed: Promise<never>;
}

/**
 * The default opener: the command in `BROWSER` when set (the common convention; its
 * whitespace-separated words are the command and arguments, the URL is appended), else the
 * platform opener through `open`, whose failures are not detected (`failed` never settles).
 */
export const openInBrowser: OpenBrowser = async (url) => {
  const verdict = await browserOpener(process.env);
  if (!verdict.usable) throw new NoBrowserError(verdict.why);
  const command = process.env.BROWSER?.trim();
  if (command) {
    const [file, ...args] = command.split(/\s+/);
    // No inherited stdio: a browser that outlives this process must not hold its pipes open.
    const child = spawn(file!, [...args, url], { stdio: 'ignore' });
    child.unref();
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`the BROWSER command could not start (${err.message})`)));
      child.once('exit', (code, signal) => {
        if (code !== 0) reject(new Error(`the BROWSER command exited with ${code ?? signal}`));
      });
    });
    failed.catch(() => {});
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return { failed };
  }
  const { default: open } = await import('open');
  const child = await open(url, { wait: false });
  child.unref();
  const failed = new Promise<never>(() => {});
  return { failed };
};
