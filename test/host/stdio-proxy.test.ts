/**
 * `mcp-oauth proxy` as hosts run it: real proxy processes (the CLI bundle) started by the MCP
 * SDK's StdioClientTransport, against the kit's authorization server (rotating refresh tokens,
 * reuse detection) and MCP server on 127.0.0.1. What is counted: browser launches (a counting
 * BROWSER script), authorization code grants, refresh requests and invalid_grant at the
 * authorization server, and every call's outcome at the hosts.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import { addServers } from '../../src/config/config-file.js';
import { fileNameFor } from '../../src/store/file-names.js';
import { runBinary } from '../cli/harness.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { expectNoSecrets } from '../support/no-secrets.js';
import { tempHome } from '../support/temp-home.js';
import {
  countingBrowser,
  exitsWithin,
  type ProxyHost,
  processesMentioning,
  proxyEnv,
  startProxyHost,
  startRawProxy,
} from './stdio-proxy-support.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const PROXIES = 5;

async function bed(options: { ttlSeconds?: number } = {}) {
  const as = await startAuthorizationServer(
    options.ttlSeconds ? { accessTokenTtlSeconds: options.ttlSeconds } : {},
  );
  cleanups.push(() => as.close());
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  cleanups.push(() => mcp.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  await import('node:fs/promises').then((fs) => fs.mkdir(home, { recursive: true, mode: 0o700 }));
  const browser = await countingBrowser(dirname(home));
  return { as, mcp, home, browser };
}

async function startHosts(count: number, home: string, args: string[], env: Record<string, string>) {
  const hosts = await Promise.all(Array.from({ length: count }, () => startProxyHost(home, args, env)));
  cleanups.push(() => Promise.all(hosts.map((h) => h.close())));
  return hosts;
}

/** `calls` echo calls spread round-robin over the hosts, all at once; how many failed and why. */
async function spreadCalls(hosts: ProxyHost[], calls: number) {
  const results = await Promise.allSettled(
    Array.from({ length: calls }, (_, i) =>
      hosts[i % hosts.length]!.client.callTool({ name: 'echo', arguments: { text: `call ${i}` } }),
    ),
  );
  const failures = results.flatMap((r, i) => {
    if (r.status === 'rejected') return [String((r.reason as Error)?.message ?? r.reason)];
    const result = r.value as { isError?: boolean; content?: Array<{ text?: string }> };
    return result.isError || result.content?.[0]?.text !== `call ${i}`
      ? [JSON.stringify(result).slice(0, 200)]
      : [];
  });
  return { failed: failures.length, failures: failures.slice(0, 3) };
}

function recordFile(home: string, server: string): string {
  return `${home}/credentials/${fileNameFor({ server })}.json`;
}

async function storedSecrets(home: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const dir = `${home}/credentials`;
  const secrets: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const record = JSON.parse(await readFile(`${dir}/${name}`, 'utf8'));
    for (const value of [
      record.tokens?.accessToken,
      record.tokens?.refreshToken,
      record.client?.clientSecret,
    ])
      if (typeof value === 'string') secrets.push(value);
  }
  return secrets;
}

describe('mcp-oauth proxy: one credential for every proxy', () => {
  it('5 proxies started at once for one new URL with no credential: 1 browser, 1 grant, 1 config entry, all 5 hosts list tools', async () => {
    const { as, mcp, home, browser } = await bed();
    const hosts = await startHosts(PROXIES, home, [mcp.url], proxyEnv({ BROWSER: browser.command }));

    const listed = await Promise.all(hosts.map((h) => h.client.listTools()));
    for (const tools of listed) expect(tools.tools.map((t) => t.name)).toContain('echo');
    expect(await browser.launches()).toBe(1);
    expect(as.stats.authorizationCodeGrants).toBe(1);
    expect(as.stats.registrations).toBe(1);

    // The URL was added once, under the name derived from its host and path.
    const config = await readFile(`${home}/config.yaml`, 'utf8');
    expect(config.match(/url:/g)).toHaveLength(1);
    const port = new URL(mcp.url).port;
    expect(config).toContain(`127.0.0.1-${port}-mcp:`);

    const secrets = await storedSecrets(home);
    expect(secrets.length).toBeGreaterThan(0);
    for (const host of hosts) expectNoSecrets(host.stderr(), secrets, 'proxy stderr');
  }, 120_000);

  it('after expiry, 200 calls over the 5 proxies: 1 refresh, 0 invalid_grant, 0 failed; a 401 wave: the same', async () => {
    // Real expiry: the first access token lives 8 s, and `refresh_skew: 1` makes "expired" mean
    // expired; the next ones live an hour, so however slow the calls, one expiry is all they meet.
    const { as, mcp, home, browser } = await bed({ ttlSeconds: 8 });
    await addServers(home, [{ name: 'demo', url: mcp.url, oauth: { refresh_skew: 1 } }]);
    const hosts = await startHosts(PROXIES, home, ['demo'], proxyEnv({ BROWSER: browser.command }));
    expect((await spreadCalls(hosts, PROXIES)).failed).toBe(0);
    expect(as.stats.authorizationCodeGrants).toBe(1);

    const { expiresAt } = JSON.parse(await readFile(recordFile(home, 'demo'), 'utf8')).tokens;
    as.setAccessTokenTtl(3600);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt + 500 - Date.now())));
    as.resetStats();
    const afterExpiry = await spreadCalls(hosts, 200);
    expect(afterExpiry).toEqual({ failed: 0, failures: [] });
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.invalidGrant).toBe(0);

    // The server revokes every token issued so far: each proxy meets a 401.
    await new Promise((r) => setTimeout(r, 1100));
    as.resetStats();
    mcp.resetStats();
    mcp.rejectAllTokensIssuedBefore(Math.floor(Date.now() / 1000) * 1000);
    const wave = await spreadCalls(hosts, 200);
    expect(wave).toEqual({ failed: 0, failures: [] });
    expect(mcp.stats.unauthorized).toBeGreaterThan(0);
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.invalidGrant).toBe(0);
    expect(await browser.launches()).toBe(1);
  }, 180_000);
});

describe('mcp-oauth proxy: no login possible here', () => {
  it('--no-login with no credential: the request gets a JSON-RPC error with the exact login command; after a login elsewhere the next request succeeds', async () => {
    const { as, mcp, home, browser } = await bed();
    await addServers(home, [{ name: 'demo', url: mcp.url }]);
    const proxy = await startRawProxy(home, ['demo', '--no-login'], proxyEnv({ BROWSER: browser.command }));
    cleanups.push(() => proxy.transport.close());
    const replies: JSONRPCMessage[] = [];
    proxy.transport.onmessage = (m) => replies.push(m);
    const reply = async (id: number) => {
      for (let i = 0; i < 600 && !replies.some((m) => (m as { id?: unknown }).id === id); i++)
        await new Promise((r) => setTimeout(r, 50));
      return replies.find((m) => (m as { id?: unknown }).id === id);
    };
    const initialize = (id: number) =>
      proxy.transport.send({
        jsonrpc: '2.0',
        id,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw-host', version: '1' },
        },
      });

    await initialize(1);
    const refused = await reply(1);
    expect(refused && isJSONRPCErrorResponse(refused)).toBe(true);
    const message = (refused as { error: { message: string } }).error.message;
    expect(message).toContain(`mcp-oauth --home ${home} login demo`);
    expect(await browser.launches()).toBe(0);
    expect(as.stats.authorizationCodeGrants).toBe(0);

    // The person runs the command from the message, in another terminal.
    const login = await runBinary(['--home', home, 'login', 'demo'], { env: { BROWSER: browser.command } });
    expect(login.code).toBe(0);

    await initialize(2);
    const accepted = await reply(2);
    expect(accepted && isJSONRPCResultResponse(accepted)).toBe(true);
    await proxy.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await proxy.transport.send({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} });
    const tools = await reply(3);
    expect(JSON.stringify(tools)).toContain('"echo"');
  }, 120_000);

  it('no browser can be opened (no BROWSER, no display): the same error, in the npx form when npx started the proxy', async () => {
    const { mcp, home } = await bed();
    // A header from the command line, its secret in the host's env block (mcp-remote's ${VAR}).
    const secret = 'header-secret-4f9a1c2e7b';
    const proxy = await startRawProxy(
      home,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the proxy expands it, not JavaScript
      [mcp.url, '--header', 'X-Api-Key: ${PROXY_TEST_KEY}', '--verbose'],
      proxyEnv({ npm_command: 'exec', PROXY_TEST_KEY: secret }),
    );
    cleanups.push(() => proxy.transport.close());
    const replies: JSONRPCMessage[] = [];
    proxy.transport.onmessage = (m) => replies.push(m);
    await proxy.transport.send({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} });
    for (let i = 0; i < 600 && replies.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const name = `127.0.0.1-${new URL(mcp.url).port}-mcp`;
    expect((replies[0] as { error?: { message?: string } }).error?.message).toContain(
      `npx -y mcp-oauth-manager --home ${home} login ${name}`,
    );
    expect(proxy.stderr()).toContain('relaying stdio');
    expectNoSecrets(proxy.stderr(), [secret], 'proxy stderr');
  }, 60_000);
});

describe('mcp-oauth proxy: process lifecycle', () => {
  it('stdin closed: exit 0; SIGTERM: exit 143', async () => {
    const { mcp, home } = await bed();
    const env = proxyEnv();
    const closed = await runBinary(['--home', home, 'proxy', mcp.url, '--no-login'], { env, input: '' });
    expect(closed.code).toBe(0);
    expect(closed.stdout).toBe('');

    const { spawnCli } = await import('../cli/harness.js');
    const live = await spawnCli(['--home', home, 'proxy', mcp.url, '--no-login'], { env });
    await live.waitForStderr(/relaying stdio/);
    live.child.kill('SIGTERM');
    const result = await live.result;
    expect(result.code).toBe(143);
    expect(result.stdout).toBe('');
  }, 60_000);

  it('the host dies (SIGKILL): the proxy exits promptly and nothing of it is left running', async () => {
    const { mcp, home } = await bed();
    const { proxyCommand } = await import('./stdio-proxy-support.js');
    const { command, args } = await proxyCommand(home, [mcp.url, '--no-login']);
    const { spawn } = await import('node:child_process');
    // The "host": a process that starts the proxy with pipes, prints its pid, and waits.
    const hostScript = `
      const { spawn } = require('node:child_process');
      const child = spawn(${JSON.stringify(command)}, ${JSON.stringify(args)}, { stdio: ['pipe', 'pipe', 'inherit'] });
      child.stdout.on('data', () => {});
      console.log(child.pid);
      setInterval(() => {}, 1000);`;
    const host = spawn(process.execPath, ['-e', hostScript], {
      env: proxyEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = await new Promise<number>((resolve) =>
      host.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
    );
    expect(pid).toBeGreaterThan(0);
    // Let it start up fully (it is relaying), then kill the host outright.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await exitsWithin(pid, 0)).toBe(false);
    host.kill('SIGKILL');
    expect(await exitsWithin(pid, 15_000)).toBe(true);
    expect(processesMentioning(home)).toEqual([]);
  }, 60_000);
});
