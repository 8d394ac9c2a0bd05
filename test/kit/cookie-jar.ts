// The little of RFC 6265 a scripted browser needs to carry oidc-provider's
// interaction and session cookies. Cookies are keyed by host name without the
// port, as browsers do, and honour Path, Max-Age and Expires.

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
  expiresAt: number; // epoch ms, Infinity for a session cookie
}

function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith('/') || path.lastIndexOf('/') === 0) return '/';
  return path.slice(0, path.lastIndexOf('/'));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

export class CookieJar {
  #cookies: Cookie[] = [];

  /** Stores the `Set-Cookie` headers of a response to `url`. */
  store(url: URL, setCookieHeaders: string[]): void {
    for (const header of setCookieHeaders) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie: Cookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        host: url.hostname,
        path: defaultPath(url),
        expiresAt: Infinity,
      };
      for (const attribute of attributes) {
        const [rawKey = '', ...rest] = attribute.split('=');
        const key = rawKey.trim().toLowerCase();
        const value = rest.join('=').trim();
        if (key === 'path' && value.startsWith('/')) cookie.path = value;
        if (key === 'max-age' && /^-?\d+$/.test(value)) cookie.expiresAt = Date.now() + Number(value) * 1000;
        if (key === 'expires' && cookie.expiresAt === Infinity) {
          const date = Date.parse(value);
          if (!Number.isNaN(date)) cookie.expiresAt = date;
        }
      }
      this.#cookies = this.#cookies.filter(
        (c) => !(c.name === cookie.name && c.host === cookie.host && c.path === cookie.path),
      );
      if (cookie.expiresAt > Date.now()) this.#cookies.push(cookie);
    }
  }

  /** The `Cookie` header value for a request to `url`, or undefined. */
  headerFor(url: URL): string | undefined {
    const now = Date.now();
    this.#cookies = this.#cookies.filter((c) => c.expiresAt > now);
    const matching = this.#cookies
      .filter((c) => c.host === url.hostname && pathMatches(url.pathname, c.path))
      // Longer paths first, as RFC 6265 section 5.4 asks.
      .sort((a, b) => b.path.length - a.path.length);
    if (matching.length === 0) return undefined;
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}
