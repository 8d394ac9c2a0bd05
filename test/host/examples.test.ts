import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { addServer, OAuthManager } from '../../src/index.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const cleanups = useCleanups();

describe('examples/', () => {
  it('the agent loop lists the tools of every logged-in server and the login command for the others; the v2 host lists tools', async () => {
    const as = await startAuthorizationServer();
    cleanups.push(() => as.close());
    const mcp = await startMcpServer({ authorizationServer: as.issuer });
    cleanups.push(() => mcp.close());
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await addServer(home, { name: 'alpha', url: mcp.url });
    await addServer(home, { name: 'beta', url: mcp.url });
    const manager = new OAuthManager({ home, interactive: 'never', openBrowser: scriptedBrowserHook() });
    manager.getOrBuildProvider('alpha', mcp.url);
    await manager.login('alpha');
    await manager.close();

    const env = { ...process.env, MCP_OAUTH_HOME: home };
    const tsx = `${root}node_modules/.bin/tsx`;
    const loop = await run(tsx, ['examples/agent-loop.ts'], { cwd: root, env });
    expect(loop.stdout).toContain('✓ alpha: echo, whoami, count');
    expect(loop.stdout).toContain('! beta: needs a login');
    expect(loop.stdout).toContain('mcp-oauth login beta');
    expect(loop.stdout).not.toMatch(/eyJ/);

    const host = await run(tsx, ['examples/v2-host.ts', 'alpha'], { cwd: root, env });
    expect(host.stdout.trim()).toBe('alpha: echo, whoami, count, big');
    const needs = await run(tsx, ['examples/v2-host.ts', 'beta'], { cwd: root, env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((needs as { code: number }).code).toBe(3);
    expect((needs as { stderr: string }).stderr).toContain('mcp-oauth login beta');
  }, 60_000);
});
