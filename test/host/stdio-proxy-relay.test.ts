/**
 * What the stdio proxy relays besides calls: the server's own requests (an elicitation) and
 * notifications (a log message, progress), the host's notifications (roots changed) and
 * cancellations, and a 10 MB result. The stateful (HTTP+SSE) kit server is used where the server
 * must reach the host during a call: the proxy finds it by its SSE fallback.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { bigResultText, type McpTestServerOptions, startMcpServer } from '../kit/mcp-server.js';
import { tempHome } from '../support/temp-home.js';
import { countingBrowser, proxyEnv, startProxyHost } from './stdio-proxy-support.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function bed(transport: 'sse' | 'streamable-http', mcpOptions: Partial<McpTestServerOptions> = {}) {
  const as = await startAuthorizationServer();
  cleanups.push(() => as.close());
  const mcp = await startMcpServer({ authorizationServer: as.issuer, transport, ...mcpOptions });
  cleanups.push(() => mcp.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const browser = await countingBrowser(dirname(home));
  return { as, mcp, home, browser };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('mcp-oauth proxy relays every kind of message', () => {
  it('an elicitation from the server, notifications both ways, progress, and a cancellation reach the other side', async () => {
    const { mcp, home, browser } = await bed('sse');
    const logMessages: unknown[] = [];
    const elicitations: string[] = [];
    const host = await startProxyHost(
      home,
      [mcp.url],
      proxyEnv({ BROWSER: browser.command }),
      (client) => {
        client.setRequestHandler('elicitation/create', async (request) => {
          elicitations.push(String((request.params as { message?: unknown }).message));
          return { action: 'accept', content: { name: 'Ada' } };
        });
        client.setNotificationHandler('notifications/message', async (notification) => {
          logMessages.push(notification.params.data);
        });
      },
      { elicitation: { form: {} }, roots: { listChanged: true } },
    );
    cleanups.push(() => host.close());
    expect(host.stderr()).toContain('HTTP+SSE');
    expect(await browser.launches()).toBe(1);

    // Server -> host request during a call, and the host's answer back to the server.
    const asked = await host.client.callTool({ name: 'ask', arguments: {} });
    expect(elicitations).toEqual(['Your name?']);
    expect(JSON.parse((asked.content as Array<{ text: string }>)[0]!.text)).toMatchObject({
      action: 'accept',
      content: { name: 'Ada' },
    });

    // Server -> host notifications: a log message and progress for the call's token.
    await host.client.callTool({ name: 'notify', arguments: {} }, { onprogress: () => {} });
    expect(logMessages).toEqual(['hello from the server']);
    const progress = host.received.filter(
      (m) => (m as { method?: string }).method === 'notifications/progress',
    );
    expect(progress).toEqual([
      expect.objectContaining({ params: expect.objectContaining({ progress: 1, total: 2 }) }),
    ]);

    // Host -> server notification.
    await host.client.sendRootsListChanged();
    await waitFor(() => (mcp.stats.methods['notifications/roots/list_changed'] ?? 0) === 1);

    // A cancelled call: the cancellation reaches the server, which stops the tool.
    const abort = new AbortController();
    const slow = host.client.callTool({ name: 'slow', arguments: {} }, { signal: abort.signal });
    await waitFor(() => (mcp.stats.toolCalls.slow ?? 0) === 1);
    abort.abort('the person pressed stop');
    await expect(slow).rejects.toThrow();
    await waitFor(() => (mcp.stats.toolCalls['slow:cancelled'] ?? 0) === 1);
    expect(mcp.stats.methods['notifications/cancelled']).toBe(1);
  }, 120_000);

  it('a 10 MB tool result passes intact', async () => {
    const { home, mcp, browser } = await bed('streamable-http');
    const host = await startProxyHost(home, [mcp.url], proxyEnv({ BROWSER: browser.command }));
    cleanups.push(() => host.close());
    const bytes = 10 * 1024 * 1024;
    const result = await host.client.callTool({ name: 'big', arguments: { bytes } });
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    expect(text.length).toBe(bytes);
    expect(sha256(text)).toBe(sha256(bigResultText(bytes)));
  }, 120_000);
});

describe('mcp-oauth proxy over SSE after a new login elsewhere', () => {
  it('logged out and in again in other processes: an error naming the login, then a new stream with the handshake replayed, and calls work', async () => {
    const { mcp, home, browser } = await bed('sse');
    const { runBinary } = await import('../cli/harness.js');
    const { addServers } = await import('../../src/config/config-file.js');
    await addServers(home, [{ name: 'demo', url: mcp.url }]);
    const cli = (...args: string[]) =>
      runBinary(['--home', home, ...args], { env: { BROWSER: browser.command } });
    expect((await cli('login', 'demo')).code).toBe(0);
    const host = await startProxyHost(home, ['demo', '--no-login'], proxyEnv());
    cleanups.push(() => host.close());
    const echo = (text: string) => host.client.callTool({ name: 'echo', arguments: { text } });
    expect((await echo('one')).content).toEqual([{ type: 'text', text: 'one' }]);
    expect(mcp.stats.methods.initialize).toBe(1);

    expect((await cli('logout', 'demo')).code).toBe(0);
    await expect(echo('two')).rejects.toThrow(`mcp-oauth --home ${home} login demo`);

    expect((await cli('login', 'demo')).code).toBe(0);
    // The proxy learns of the new credential from the store's change notification: retry briefly.
    let answered: unknown;
    for (let i = 0; i < 100 && answered === undefined; i++) {
      answered = await echo('three').catch(() => new Promise((r) => setTimeout(() => r(undefined), 100)));
    }
    expect((answered as { content?: unknown }).content).toEqual([{ type: 'text', text: 'three' }]);
    // The stream is renewed before the first message after the proxy saw the new credential
    // (that may be the call after the one that found it).
    expect((await echo('four')).content).toEqual([{ type: 'text', text: 'four' }]);
    // A new SSE stream, on which the proxy replayed the host's handshake; its answer was the
    // proxy's own business (the host, which received messages only since it connected, saw none).
    expect(mcp.stats.methods.initialize).toBe(2);
    const handshakeAnswers = host.received.filter((m) => JSON.stringify(m).includes('"serverInfo"'));
    expect(handshakeAnswers).toEqual([]);
  }, 180_000);
});

describe('mcp-oauth proxy steps up', () => {
  it('a 403 insufficient_scope on a call: one more authorization for the union of scopes, then the call succeeds', async () => {
    // The first login asks for what the server advertises (mcp:read); whoami also needs mcp:write.
    const { as, mcp, home, browser } = await bed('streamable-http', {
      scopesSupported: ['mcp:read'],
      toolScopes: { whoami: ['mcp:read', 'mcp:write'] },
    });
    const host = await startProxyHost(home, [mcp.url], proxyEnv({ BROWSER: browser.command }));
    cleanups.push(() => host.close());
    expect(await browser.launches()).toBe(1);
    const result = await host.client.callTool({ name: 'whoami', arguments: {} });
    const granted = JSON.parse((result.content as Array<{ text: string }>)[0]!.text).scope.split(' ');
    expect(granted).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    expect(await browser.launches()).toBe(2);
    expect(as.stats.authorizationCodeGrants).toBe(2);
  }, 120_000);
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
