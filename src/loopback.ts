/**
 * "Loopback" as this project uses it everywhere: 127.0.0.0/8, ::1 and `localhost`. These are
 * the only hosts that may use plain HTTP for authorization server and MCP endpoints: RFC 8252
 * allows http for loopback redirect URIs because the request never leaves the device, and this
 * project extends that exception to local servers (development and tests), as the MCP SDK does.
 *
 * @see [RFC 8252 §8.3. Loopback Redirect Considerations](https://www.rfc-editor.org/rfc/rfc8252.html#section-8.3)
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
}

/** True when `url` is https, or http on a loopback host. */
export function isSecureOrLoopback(url: string | URL): boolean {
  const u = typeof url === 'string' ? new URL(url) : url;
  return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname));
}
