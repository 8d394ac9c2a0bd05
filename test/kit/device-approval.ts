import { CookieJar } from './cookie-jar.js';
import { findAutoPostForm } from './scripted-browser.js';

export interface DeviceApprovalResult {
  /** Status and text of the page the authorization server ended on (its success page). */
  status: number;
  body: string;
  hops: number;
}

/**
 * The person's side of the RFC 8628 device flow, scripted: opens `verification_uri_complete`,
 * submits the confirmation form (oidc-provider's carries the user code and `confirm=yes`), goes
 * through the auto-approved login and consent, and stops on the authorization server's final page.
 */
export async function scriptedDeviceApproval(
  verificationUriComplete: string,
  options: { fetch?: typeof fetch; maxHops?: number } = {},
): Promise<DeviceApprovalResult> {
  const fetchImpl = options.fetch ?? fetch;
  const jar = new CookieJar();
  let url = new URL(verificationUriComplete);
  let init: { method: string; body?: URLSearchParams } = { method: 'GET' };
  let posts = 0;
  for (let hops = 0; hops <= (options.maxHops ?? 20); hops++) {
    const cookie = jar.headerFor(url);
    const response = await fetchImpl(url, {
      method: init.method,
      body: init.body,
      redirect: 'manual',
      headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) },
    });
    jar.store(url, response.headers.getSetCookie());
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      url = new URL(location, url);
      init = { method: 'GET' };
      continue;
    }
    const body = await response.text();
    const form = response.ok && posts < 3 ? findAutoPostForm(body) : undefined;
    if (!form) return { status: response.status, body, hops };
    posts++;
    url = new URL(form.action, url);
    init = { method: 'POST', body: new URLSearchParams(form.fields) };
  }
  throw new Error(`scripted device approval: too many hops, last at ${url.href}`);
}
