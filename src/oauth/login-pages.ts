import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { displayText } from '../terminal-text.js';

// One implementation of the stripping for the pages and the CLI: src/terminal-text.ts.
export { displayText };

// The pages a person's browser shows at the loopback callback. Their URL carries the
// authorization code and their text can come from the authorization server (error,
// error_description), so they load nothing, run nothing, cannot be framed, and send no Referer.

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.5rem}';

/** Only the page's own stylesheet, by hash; no script, no other source, no framing, no forms. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // The callback URL carries the code: no Referer may leave this page.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/**
 * Answers `res` with a login page: `title` as heading, each of `paragraphs` as plain text
 * (escaped, control characters dropped), under a Content-Security-Policy that allows no script.
 */
export function sendLoginPage(
  res: ServerResponse,
  status: number,
  title: string,
  paragraphs: readonly string[],
): void {
  const text = (s: string) => escapeHtml(displayText(s, Number.POSITIVE_INFINITY));
  res.writeHead(status, HEADERS);
  res.end(
    `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${text(title)}</title><style>${STYLE}</style><main><h1>${text(title)}</h1>${paragraphs.map((p) => `<p>${text(p)}</p>`).join('')}</main></html>`,
  );
}
