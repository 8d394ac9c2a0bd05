/**
 * The pure parts of `mcp-oauth proxy`: the name a new URL gets, and how the proxy recognizes that
 * npx started it. Also: many resolutions of one URL at once agree on one config.yaml entry, and a
 * name held by another URL is not reused.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { launchedThroughNpx, loginCommandFor } from '../../src/cli/commands/proxy.js';
import { createContext } from '../../src/cli/context.js';
import type { CliIO } from '../../src/cli/io.js';
import { addServers } from '../../src/config/config-file.js';
import { serverNameSchema } from '../../src/config/config-schema.js';
import { derivedServerName, disambiguatedServerName } from '../../src/config/derived-server-name.js';
import { ConfigError } from '../../src/errors.js';
import { resolveProxyTarget } from '../../src/host/stdio-proxy-target.js';
import { tempHome } from '../support/temp-home.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('derivedServerName', () => {
  it('is made of host, port and path, and is a valid server name', () => {
    const cases: Array<[string, string]> = [
      ['https://mcp.notion.com/mcp', 'mcp.notion.com-mcp'],
      ['https://MCP.Example.com/v1/mcp/', 'mcp.example.com-v1-mcp'],
      ['http://127.0.0.1:8080/sse', '127.0.0.1-8080-sse'],
      ['http://[::1]:3000/mcp', '1-3000-mcp'],
      ['https://example.com', 'example.com'],
      ['https://example.com/a%20b/$weird', 'example.com-a-20b-weird'],
    ];
    for (const [url, name] of cases) {
      expect(derivedServerName(new URL(url))).toBe(name);
      expect(serverNameSchema.safeParse(name).success).toBe(true);
    }
  });

  it('adds a hash of the URL for a query or an over-long name, so different URLs keep different names', () => {
    const a = derivedServerName(new URL('https://example.com/mcp?tenant=a'));
    const b = derivedServerName(new URL('https://example.com/mcp?tenant=b'));
    expect(a).toMatch(/^example\.com-mcp-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    const long = derivedServerName(new URL(`https://example.com/${'x'.repeat(300)}`));
    expect(long.length).toBeLessThanOrEqual(100);
    expect(serverNameSchema.safeParse(long).success).toBe(true);
    const other = new URL('https://example.com/mcp');
    expect(disambiguatedServerName(other)).not.toBe(derivedServerName(other));
  });
});

describe('launchedThroughNpx', () => {
  it("recognizes npm exec's environment and npx's cache folder, and nothing else", () => {
    expect(launchedThroughNpx({ npm_command: 'exec' }, '/usr/bin/mcp-oauth')).toBe(true);
    expect(launchedThroughNpx({}, '/home/u/.npm/_npx/1a2b/node_modules/.bin/mcp-oauth')).toBe(true);
    expect(launchedThroughNpx({ npm_command: 'run-script' }, '/usr/local/bin/mcp-oauth')).toBe(false);
    expect(launchedThroughNpx({}, undefined)).toBe(false);
  });
});

describe('resolveProxyTarget', () => {
  it('20 resolutions of one new URL at once: one config.yaml entry, the same name for all', async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const url = 'https://mcp.example.com/mcp';
    const targets = await Promise.all(Array.from({ length: 20 }, () => resolveProxyTarget(home, url)));
    expect(new Set(targets.map((t) => t.server.name))).toEqual(new Set(['mcp.example.com-mcp']));
    expect(targets.filter((t) => t.added)).toHaveLength(1);
    expect((await readFile(`${home}/config.yaml`, 'utf8')).match(/url:/g)).toHaveLength(1);
  });

  it('uses a URL configured under another name, and does not take a derived name held by another URL', async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await addServers(home, [
      { name: 'mine', url: 'https://mcp.example.com/mcp' },
      { name: 'other.example.com-mcp', url: 'https://elsewhere.example.com/mcp' },
    ]);
    expect((await resolveProxyTarget(home, 'https://mcp.example.com/mcp')).server.name).toBe('mine');
    const added = await resolveProxyTarget(home, 'https://other.example.com/mcp');
    expect(added.server.name).toMatch(/^other\.example\.com-mcp-[0-9a-f]{8}$/);
  });

  it('refuses plain HTTP except on loopback, and an unknown name, as configuration errors', async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await expect(resolveProxyTarget(home, 'http://mcp.example.com/mcp')).rejects.toThrow(ConfigError);
    await expect(resolveProxyTarget(home, 'http://mcp.example.com/mcp')).rejects.toThrow(/loopback/);
    await expect(resolveProxyTarget(home, 'nope')).rejects.toThrow(/Unknown server 'nope'/);
    expect((await resolveProxyTarget(home, 'http://localhost:9/mcp')).server.name).toBe('localhost-9-mcp');
  });
});

describe('loginCommandFor', () => {
  it('names the account once, from the global --account or MCP_OAUTH_ACCOUNT', () => {
    const io = (env: NodeJS.ProcessEnv) => ({ env, stdout: {}, stderr: {} }) as unknown as CliIO;
    const home = { home: '/tmp/h' };
    expect(loginCommandFor(createContext({ ...home, account: 'work' }, io({})), 'demo')).toBe(
      'mcp-oauth --home /tmp/h --account work login demo',
    );
    expect(loginCommandFor(createContext(home, io({ MCP_OAUTH_ACCOUNT: 'ops' })), 'demo')).toBe(
      'mcp-oauth --home /tmp/h --account ops login demo',
    );
    expect(loginCommandFor(createContext(home, io({})), 'demo')).toBe('mcp-oauth --home /tmp/h login demo');
  });
});
