import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type HTTPResponse, type Page } from 'puppeteer-core';
import type { OpenBrowser } from '../../../src/oauth/browser.js';

/** What to do when no Chromium is found; the same words locally and in CI. */
export const CHROMIUM_INSTALL_HINT =
  'Chromium is needed for the browser tests: install it with `apt-get update && apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this), or set CHROMIUM_PATH to a Chromium or Chrome binary';

const CANDIDATES = ['chromium', 'chromium-browser'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium binary to drive: CHROMIUM_PATH, else `chromium` or `chromium-browser` on PATH. */
export function findChromium(): string | undefined {
  const configured = process.env.CHROMIUM_PATH?.trim();
  if (configured) return isExecutable(configured) ? configured : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of CANDIDATES) {
      const path = join(dir, name);
      if (isExecutable(path)) return path;
    }
  }
  return undefined;
}

/**
 * Whether a browser test file runs. Without Chromium it is skipped only outside CI (`CI` unset),
 * with the install hint as the reason; in CI the file runs and `launchChromium` fails with it.
 */
export function chromiumAvailability(): {
  executablePath: string | undefined;
  skipReason: string | undefined;
} {
  const executablePath = findChromium();
  const skipReason =
    executablePath === undefined && !process.env.CI
      ? `no Chromium found, so the browser tests are skipped (they fail in CI). ${CHROMIUM_INSTALL_HINT}`
      : undefined;
  if (skipReason) console.warn(skipReason);
  return { executablePath, skipReason };
}

/** Launches headless Chromium (`--no-sandbox`: CI runs as root); an error says how to install it. */
export async function launchChromium(executablePath: string | undefined): Promise<Browser> {
  if (!executablePath) {
    const configured = process.env.CHROMIUM_PATH?.trim();
    const where = configured ? `CHROMIUM_PATH=${configured} is not an executable file` : 'none on PATH';
    throw new Error(`No Chromium binary found (${where}). ${CHROMIUM_INSTALL_HINT}`);
  }
  try {
    return await puppeteer.launch({
      executablePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  } catch (error) {
    throw new Error(
      `Chromium at ${executablePath} did not start (${error instanceof Error ? error.message : String(error)}). ${CHROMIUM_INSTALL_HINT}`,
    );
  }
}

/** A tab that records the dialogs (alert, confirm, prompt) its pages opened, dismissing each. */
export async function openTab(context: BrowserContext): Promise<{ page: Page; dialogs: string[] }> {
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return { page, dialogs };
}

/** The parts of an authorization URL the browser hook needs to forge a callback. */
export function callbackOf(authorizationUrl: string): { redirectUri: URL; state: string } {
  const params = new URL(authorizationUrl).searchParams;
  return { redirectUri: new URL(params.get('redirect_uri')!), state: params.get('state')! };
}

/**
 * A manager `openBrowser` hook driven by the real browser: `visit` gets the authorization URL and
 * does what the person (or a hostile authorization server) would do in `page`; its navigation's
 * last response is kept in `responses`. A failed visit fails the login, as a broken opener would.
 */
export function realBrowserHook(
  page: Page,
  visit: (page: Page, authorizationUrl: string) => Promise<HTTPResponse | null>,
): { hook: OpenBrowser; visited: () => Promise<HTTPResponse | null> } {
  let visited: Promise<HTTPResponse | null> | undefined;
  const hook: OpenBrowser = async (url) => {
    visited = visit(page, url);
    return { failed: visited.then(() => new Promise<never>(() => {})) };
  };
  return {
    hook,
    visited: () => visited ?? Promise.reject(new Error('the manager never opened the browser')),
  };
}
