import { CookieJar } from './cookie-jar.js';
import { browserStep, type StepRequest } from './scripted-browser.js';

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
  let init: StepRequest = { method: 'GET' };
  let posts = 0;
  for (let hops = 0; hops <= (options.maxHops ?? 20); hops++) {
    const step = await browserStep(fetchImpl, jar, url, init);
    // Follow redirects, and at most 3 forms (the confirmation, then what the login steps post).
    if (step.next && (step.next.via === 'redirect' || posts++ < 3)) {
      ({ url, init } = step.next);
      continue;
    }
    return { status: step.status, body: step.body, hops };
  }
  throw new Error(`scripted device approval: too many hops, last at ${url.href}`);
}
