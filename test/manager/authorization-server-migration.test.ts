/**
 * Authorization-server migration (MCP 2026-07-28, SEP-2352): when the protected-resource metadata
 * of an MCP server names a new authorization server, the next login registers again there, and
 * nothing of the old server's registration or grant is sent to the new one (nor the new one's
 * tokens to the old). The old record is kept until the new login commits.
 *
 * Real parts on 127.0.0.1: two kit authorization servers (A and B), each behind a recording proxy
 * that is its public issuer; two kit MCP servers (one trusting A, one trusting B) behind one fault
 * proxy that is their common public origin. Switching the proxy's target from the first to the
 * second is the server moving to B: its metadata now names B and it rejects A's tokens.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NeedsReauthError, OAuthManager } from '../../src/index.js';
import { fileNameFor } from '../../src/store/file-names.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { startFaultProxy } from '../kit/fault-proxy.js';
import { type ProxiedRequest, startRecordingProxy } from '../kit/forwarding.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { connectV2, textOf } from '../support/mcp-client.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();
const SERVER = 'demo';

/** Everything a request carried that could hold a credential: query, body and Authorization. */
function carriedBy(request: ProxiedRequest): string {
  const decoded = (text: string) => {
    try {
      return decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      return text;
    }
  };
  return `${decoded(request.search)} ${decoded(request.body)} ${request.authorization ?? ''}`;
}

async function startRecordedAuthorizationServer() {
  const proxy = await startRecordingProxy();
  cleanups.push(() => proxy.close());
  const as = await startAuthorizationServer({ issuer: proxy.url });
  cleanups.push(() => as.close());
  proxy.setTarget(as.listenUrl);
  return { as, seen: proxy.seen };
}

async function bed(interactive: 'always' | 'never') {
  const a = await startRecordedAuthorizationServer();
  const b = await startRecordedAuthorizationServer();
  const front = await startFaultProxy();
  cleanups.push(() => front.close());
  const mcpA = await startMcpServer({ authorizationServer: a.as.issuer, publicOrigin: front.url });
  cleanups.push(() => mcpA.close());
  const mcpB = await startMcpServer({ authorizationServer: b.as.issuer, publicOrigin: front.url });
  cleanups.push(() => mcpB.close());
  front.setTarget(mcpA.listenUrl);
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const opened = { opened: 0 };
  const manager = new OAuthManager({ home, interactive, openBrowser: scriptedBrowserHook(opened) });
  cleanups.push(() => manager.close());
  const provider = manager.getOrBuildProvider(SERVER, mcpA.url, {});
  await manager.login(SERVER);
  const recordPath = join(home, 'credentials', `${fileNameFor({ server: SERVER })}.json`);
  const recordA = JSON.parse(await readFile(recordPath, 'utf8'));
  const client = await connectV2(mcpA.url, provider);
  cleanups.push(() => client.close());
  expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'at A' } }))).toBe('at A');
  // The server moves to B: its metadata names B, and A's tokens are refused there.
  front.setTarget(mcpB.listenUrl);
  a.as.resetStats();
  a.seen.length = 0;
  b.seen.length = 0; // the MCP server's own key fetch at start
  return { a, b, mcpB, manager, client, recordPath, recordA, opened };
}

describe('authorization-server migration (SEP-2352)', () => {
  it('interactive: a call recovers through one new registration at B; nothing crosses between A and B', async () => {
    const { a, b, mcpB, manager, client, recordPath, recordA, opened } = await bed('always');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'at B' } }))).toBe('at B');

    expect(b.as.stats.registrations).toBe(1);
    expect(b.as.stats.authorizationCodeGrants).toBe(1);
    expect(opened.opened).toBe(2);
    const recordB = JSON.parse(await readFile(recordPath, 'utf8'));
    expect(recordB.binding.issuer).toBe(b.as.issuer);
    expect(recordB.client.information.client_id).not.toBe(recordA.client.information.client_id);
    expect(mcpB.stats.requestsWithToken(recordB.tokens.accessToken)).toBeGreaterThanOrEqual(1);

    // B never saw A's client id or A's tokens.
    const atB = b.seen.map((r) => carriedBy(r)).join('\n');
    expect(atB).not.toContain(recordA.client.information.client_id);
    expect(atB).not.toContain(recordA.tokens.refreshToken);
    expect(atB).not.toContain(recordA.tokens.accessToken);
    // A got no token request (A's refresh token was not spent on a server that moved), and
    // nothing carrying B's client or tokens.
    expect(a.as.stats.tokenRequests).toBe(0);
    const atA = a.seen.map((r) => carriedBy(r)).join('\n');
    expect(atA).not.toContain(recordB.client.information.client_id);
    expect(atA).not.toContain(recordB.tokens.accessToken);
    expect(atA).not.toContain(recordB.tokens.refreshToken);
    expect((await manager.status(SERVER)).state).toBe('valid');
  });

  it('not interactive: NeedsReauthError naming the login command, the old record kept byte for byte', async () => {
    const { a, b, client, manager, recordPath } = await bed('never');
    const before = await readFile(recordPath);
    const error = await client.callTool({ name: 'echo', arguments: { text: 'at B' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const reauth = findCause(error, NeedsReauthError);
    expect(reauth).toBeInstanceOf(NeedsReauthError);
    expect(reauth?.command).toBe(manager.reloginCommandFor(SERVER));
    expect(reauth?.message).toContain(`Run: ${reauth?.command}`);
    expect(reauth?.message).toContain(b.as.issuer);
    expect(await readFile(recordPath)).toEqual(before);
    expect(b.as.stats.registrations).toBe(0);
    expect(b.seen.filter((r) => !r.path.startsWith('/.well-known/'))).toEqual([]);
    expect(a.as.stats.tokenRequests).toBe(0);
  });
});

function findCause<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++)
    if (e instanceof type) return e;
  return undefined;
}
