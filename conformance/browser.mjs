#!/usr/bin/env node
// A headless "browser" for the conformance suite's mock authorization server, used as BROWSER:
// follows redirects (keeping cookies) until one leaves the authorization server, then requests
// that loopback callback as a real browser would.
const start = new URL(process.argv[2]);
let url = start;
const cookies = new Map();
for (let hop = 0; hop < 10; hop++) {
  const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    if (at > 0) cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
  }
  const location = response.headers.get('location');
  if (response.status < 300 || response.status >= 400 || !location) {
    console.error(`browser: stopped at ${url.origin}${url.pathname} with ${response.status}`);
    process.exit(1);
  }
  url = new URL(location, url);
  if (url.origin !== start.origin) {
    const callback = await fetch(url);
    process.exit(callback.ok ? 0 : 1);
  }
}
console.error('browser: too many redirects');
process.exit(1);
