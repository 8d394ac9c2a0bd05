import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CookieJar } from './cookie-jar.js';

export interface BrowseResult {
  /** The redirect target outside the authorization server (carries code, state, iss). */
  callbackUrl: string;
  callbackStatus: number;
  callbackBody: string;
  /** Redirects and form posts followed on the authorization server. */
  hops: number;
}

export interface BrowseOptions {
  /** Redirects and form posts to follow before giving up; default 20. */
  maxHops?: number;
  fetch?: typeof fetch;
  /**
   * Also ask the callback's origin for /favicon.ico, as real browsers do,
   * 'before' or 'after' the callback request: a loopback listener must
   * ignore such stray requests. Default: no favicon request.
   */
  favicon?: 'before' | 'after';
  /**
   * false: stop at the redirect to the callback and return its URL without requesting it (what a
   * person copies from the address bar for `--no-browser` paste-back). Default true.
   */
  loadCallback?: boolean;
}

const BROWSER_HEADERS = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'user-agent': 'mcp-oauth-manager-test-kit/scripted-browser',
};

interface AutoPostForm {
  action: string;
  fields: [string, string][];
}

function decodeHtml(value: string): string {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
  const value = match?.[2] ?? match?.[3];
  return value === undefined ? undefined : decodeHtml(value);
}

// A page with a POST form, e.g. oidc-provider's response_mode=form_post page,
// which a browser submits by script. Pages that need a person are not forms
// the kit should submit, but the auto-approver never serves one.
function findAutoPostForm(html: string): AutoPostForm | undefined {
  const formTag = /<form\b[^>]*>/i.exec(html)?.[0];
  if (!formTag || attribute(formTag, 'method')?.toLowerCase() !== 'post') return undefined;
  const action = attribute(formTag, 'action');
  if (!action) return undefined;
  const fields: [string, string][] = [];
  for (const input of html.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attribute(input, 'name');
    if (name) fields.push([name, attribute(input, 'value') ?? '']);
  }
  return { action, fields };
}

export interface StepRequest {
  method: string;
  body?: URLSearchParams;
}

export interface StepResult {
  status: number;
  /** The page's text ('' for a redirect). */
  body: string;
  /** Where a browser goes next: a redirect's Location, or an auto-posted form; none for a page that stops. */
  next?: { url: URL; init: StepRequest; via: 'redirect' | 'form' };
}

/**
 * One step of a browser: requests `url` with the jar's cookies and no automatic redirects, keeps
 * the cookies it sets, and says where the browser goes next.
 */
export async function browserStep(
  fetchImpl: typeof fetch,
  jar: CookieJar,
  url: URL,
  init: StepRequest,
): Promise<StepResult> {
  const cookie = jar.headerFor(url);
  const response = await fetchImpl(url, {
    method: init.method,
    body: init.body,
    redirect: 'manual',
    headers: { ...BROWSER_HEADERS, ...(cookie ? { cookie } : {}) },
  });
  jar.store(url, response.headers.getSetCookie());
  const location = response.headers.get('location');
  if (response.status >= 300 && response.status < 400 && location) {
    await response.body?.cancel();
    return {
      status: response.status,
      body: '',
      next: { url: new URL(location, url), init: { method: 'GET' }, via: 'redirect' },
    };
  }
  const body = await response.text();
  const form = response.ok ? findAutoPostForm(body) : undefined;
  if (!form) return { status: response.status, body };
  return {
    status: response.status,
    body,
    next: {
      url: new URL(form.action, url),
      init: { method: 'POST', body: new URLSearchParams(form.fields) },
      via: 'form',
    },
  };
}

/**
 * Walks an authorization URL as a browser would: redirects (cookies kept),
 * auto-posted forms, until a redirect leaves the authorization server's
 * origin; then loads that callback URL and returns what it answered.
 * Throws when the authorization server stops on a page of its own (an error).
 */
export async function scriptedBrowse(
  authorizationUrl: string,
  options: BrowseOptions = {},
): Promise<BrowseResult> {
  const fetchImpl = options.fetch ?? fetch;
  const maxHops = options.maxHops ?? 20;
  const jar = new CookieJar();
  const authorizationOrigin = new URL(authorizationUrl).origin;

  let url = new URL(authorizationUrl);
  let init: StepRequest = { method: 'GET' };
  for (let hops = 0; ; hops += 1) {
    if (url.origin !== authorizationOrigin) {
      if (options.loadCallback === false)
        return { callbackUrl: url.href, callbackStatus: 0, callbackBody: '', hops };
      return loadCallback(fetchImpl, jar, url, init, hops, options.favicon);
    }
    if (hops > maxHops) throw new Error(`scripted browser: more than ${maxHops} hops, last at ${url.href}`);

    const step = await browserStep(fetchImpl, jar, url, init);
    if (step.next) {
      ({ url, init } = step.next);
      continue;
    }
    throw new Error(
      `scripted browser: authorization server answered ${step.status} at ${url.href}: ${step.body.slice(0, 500)}`,
    );
  }
}

async function loadCallback(
  fetchImpl: typeof fetch,
  jar: CookieJar,
  url: URL,
  init: { method: string; body?: URLSearchParams },
  hops: number,
  favicon: BrowseOptions['favicon'],
): Promise<BrowseResult> {
  const requestFavicon = async () => {
    try {
      const response = await fetchImpl(new URL('/favicon.ico', url), { headers: BROWSER_HEADERS });
      await response.body?.cancel();
    } catch {
      // A browser shrugs off a missing favicon, and so does the kit.
    }
  };
  if (favicon === 'before') await requestFavicon();
  const cookie = jar.headerFor(url);
  // Like a browser, follow whatever the callback page redirects to (a success page).
  const response = await fetchImpl(url, {
    method: init.method,
    body: init.body,
    headers: { ...BROWSER_HEADERS, ...(cookie ? { cookie } : {}) },
  });
  const callbackBody = await response.text();
  if (favicon === 'after') await requestFavicon();
  return { callbackUrl: url.href, callbackStatus: response.status, callbackBody, hops };
}

const scriptPath = fileURLToPath(import.meta.url);

/**
 * The value for the `BROWSER` environment variable that makes a CLI "open"
 * the authorization URL with this scripted browser (the URL is appended).
 */
export const BROWSER_COMMAND = `${resolve(dirname(scriptPath), '../../node_modules/.bin/tsx')} ${scriptPath}`;

async function waitForFile(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`BROWSER_WAIT_FILE ${path} did not appear in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(argv: string[]): Promise<number> {
  const url = argv.find((arg) => /^https?:\/\//.test(arg));
  if (!url) {
    console.error('usage: scripted-browser <authorization-url>');
    return 1;
  }
  const waitFile = process.env.BROWSER_WAIT_FILE;
  if (waitFile) await waitForFile(waitFile, 120_000);
  const result = await scriptedBrowse(url);
  if (result.callbackStatus >= 200 && result.callbackStatus < 300) return 0;
  console.error(
    `scripted browser: callback ${result.callbackUrl} answered ${result.callbackStatus}: ${result.callbackBody.slice(0, 500)}`,
  );
  return 1;
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
