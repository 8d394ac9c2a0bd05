import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type OAuthConfig, OAuthManager, type OAuthManagerOptions } from '../../src/index.js';
import { fileNameFor } from '../../src/store/file-names.js';
import {
  type AuthorizationServerOptions,
  startAuthorizationServer,
  type TestAuthorizationServer,
} from '../kit/authorization-server.js';
import { type FaultProxy, startFaultProxy } from '../kit/fault-proxy.js';
import { type McpTestServerOptions, startMcpServer, type TestMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from './browser-hook.js';
import { FakeClock } from './fake-clock.js';
import { tempHome } from './temp-home.js';

/** Registers an afterEach that runs everything pushed during the test, last first. */
export function useCleanups(): Array<() => Promise<unknown>> {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}

export interface BedOptions {
  /** Put the fault proxy in front of the authorization server or the MCP server. */
  proxy?: 'as' | 'mcp';
  as?: AuthorizationServerOptions;
  mcp?: Partial<McpTestServerOptions>;
  manager?: Partial<OAuthManagerOptions>;
  config?: OAuthConfig;
  /** Log in to 'demo' before returning (default true); the servers' counters are then reset. */
  login?: boolean;
}

/**
 * The usual arrangement of one test: the kit's authorization server and MCP server on 127.0.0.1
 * (optionally behind the fault proxy), a fresh home, and a manager on a fake clock with the
 * scripted browser as its hook, holding the provider of server 'demo'. Everything is closed after
 * the test through `cleanups`.
 */
export async function startBed(cleanups: Array<() => Promise<unknown>>, options: BedOptions = {}) {
  let proxy: FaultProxy | undefined;
  if (options.proxy) {
    proxy = await startFaultProxy();
    cleanups.push(() => proxy!.close());
  }
  const as: TestAuthorizationServer = await startAuthorizationServer({
    ...(options.proxy === 'as' ? { issuer: proxy!.url } : {}),
    ...options.as,
  });
  cleanups.push(() => as.close());
  if (options.proxy === 'as') proxy!.setTarget(as.listenUrl);
  const mcp: TestMcpServer = await startMcpServer({
    authorizationServer: as.issuer,
    ...(options.proxy === 'mcp' ? { publicOrigin: proxy!.url } : {}),
    ...options.mcp,
  });
  cleanups.push(() => mcp.close());
  if (options.proxy === 'mcp') proxy!.setTarget(mcp.listenUrl);
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const clock = new FakeClock();
  const opened = { opened: 0 };
  const manager = new OAuthManager({
    home,
    clock,
    interactive: 'never',
    openBrowser: scriptedBrowserHook(opened),
    ...options.manager,
  });
  cleanups.push(() => manager.close());
  const provider = manager.getOrBuildProvider('demo', mcp.url, options.config ?? {});
  if (options.login !== false) {
    await manager.login('demo');
    as.resetStats();
    mcp.resetStats();
  }
  const recordPath = join(home, 'credentials', `${fileNameFor({ server: 'demo' })}.json`);
  const record = async () => JSON.parse(await readFile(recordPath, 'utf8'));
  return { as, mcp, proxy, home, clock, manager, provider, opened, recordPath, record };
}
