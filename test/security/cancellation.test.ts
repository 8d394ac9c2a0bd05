import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenBrowser } from '../../src/index.js';
import { runCli, startCli, watchAuthorizationServer, writeKitConfig } from '../cli/harness.js';
import {
  type FaultProxy,
  startAuthorizationServer,
  startFaultProxy,
  startMcpServer,
  type TestAuthorizationServer,
  type TestMcpServer,
} from '../kit/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';

// Cancellation in the CLI: one Ctrl-C (or SIGTERM) cancels a login in any phase cleanly (the
// login lock released, nothing committed, the old credential byte for byte the same) and exits
// 130 (143) after saying so. Driven in-process through the injected IO's interrupt hook, against
// servers that never answer (the fault proxy's 'hang') or a browser that never comes back.

const cleanups = useCleanups();
const CANCELLED = /^Login cancelled; the stored credential was not changed\.$/m;

let as: TestAuthorizationServer;
let mcp: TestMcpServer;
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = await startFaultProxy();
  as = await startAuthorizationServer();
  mcp = await startMcpServer({ authorizationServer: as.issuer, publicOrigin: proxy.url });
  proxy.setTarget(mcp.listenUrl);
});
afterAll(async () => {
  await proxy.close();
  await mcp.close();
  await as.close();
});

const browser = scriptedBrowserHook();
/** A browser that never comes back: the login waits for the redirect until it is cancelled. */
const neverReturns: OpenBrowser = async () => ({ failed: new Promise<never>(() => {}) });

/** Every credential file of the home, name and bytes. */
async function credentialFiles(home: string): Promise<Array<[string, string]>> {
  const dir = join(home, 'credentials');
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  return Promise.all(
    names.map(async (name) => [name, await readFile(join(dir, name), 'latin1')] as [string, string]),
  );
}

/** Resolves once `condition` holds, checked whenever the event loop turns. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

describe('one Ctrl-C cancels a login cleanly and exits 130', () => {
  let home: string;

  beforeEach(async () => {
    proxy.setFault('pass');
    watchAuthorizationServer(as);
    const made = await tempHome();
    home = made.home;
    cleanups.push(made.cleanup);
    await writeKitConfig(home, mcp.url, { timeout: 60 });
    // The old credential, which no cancelled login may touch.
    const first = await runCli(['--home', home, 'login', 'kit'], { openBrowser: browser });
    expect(first.code, first.stderr).toBe(0);
  });

  /** The lock is free: a new login runs its own flow (no waiting for another), and succeeds. */
  async function expectLockFree(): Promise<void> {
    proxy.setFault('pass');
    const again = await runCli(['--home', home, '--json', 'login', 'kit'], { openBrowser: browser });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('Another process is already logging in');
    expect(JSON.parse(again.stdout)).toMatchObject({ joined: false, status: { state: 'valid' } });
  }

  it('during metadata discovery against a server that never answers', async () => {
    const before = await credentialFiles(home);
    const faulted = proxy.stats.faulted;
    proxy.setFault('hang', { path: /^\/\.well-known\// });
    const cli = startCli(['--home', home, 'login', 'kit'], { openBrowser: browser });
    cli.stdin.end();
    // The discovery request has reached the server that will never answer it.
    await until(() => proxy.stats.faulted > faulted);
    expect(cli.interrupt()).toBe(true);
    const result = await cli.result;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(CANCELLED);
    expect(result.stderr).not.toContain('Opening your browser');
    expect(await credentialFiles(home)).toEqual(before);
    await expectLockFree();
  });

  it('while waiting for the browser', async () => {
    const before = await credentialFiles(home);
    const authorizations = as.stats.authorizationCodeGrants;
    const cli = startCli(['--home', home, 'login', 'kit'], { openBrowser: neverReturns });
    cli.stdin.end();
    await cli.waitForStderr(/Opening your browser/);
    expect(cli.interrupt()).toBe(true);
    const result = await cli.result;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(CANCELLED);
    expect(as.stats.authorizationCodeGrants).toBe(authorizations);
    expect(await credentialFiles(home)).toEqual(before);
    await expectLockFree();
  });

  it('SIGTERM while waiting for the browser: the same, with exit 143', async () => {
    const before = await credentialFiles(home);
    const cli = startCli(['--home', home, 'login', 'kit'], { openBrowser: neverReturns });
    cli.stdin.end();
    await cli.waitForStderr(/Opening your browser/);
    expect(cli.interrupt('SIGTERM')).toBe(true);
    const result = await cli.result;
    expect(result.code).toBe(143);
    expect(result.stderr).toMatch(CANCELLED);
    expect(await credentialFiles(home)).toEqual(before);
    await expectLockFree();
  });
});
