import { chmod, mkdir } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../cli/harness.js';
import { startTestbed, type Testbed } from '../kit/index.js';
import { tempHome } from '../support/temp-home.js';
import { type OddServer, refusedOrigin, startConstantServer, startPublicMcpServer } from './odd-servers.js';

// `mcp-oauth doctor`: one line per check with a fix where it fails; --json; exit 0 all pass
// (warnings allowed), 1 a check failed, 2 a configuration error. Real servers on 127.0.0.1.

let bed: Testbed;
let home: string;
let cleanup: () => Promise<void>;
const servers: OddServer[] = [];
beforeAll(async () => {
  bed = await startTestbed();
});
afterAll(async () => {
  await Promise.all([bed.close(), ...servers.map((s) => s.close())]);
});
beforeEach(async () => {
  ({ home, cleanup } = await tempHome());
});
afterEach(async () => {
  await cleanup();
});

// A usable browser opener in every run: `true` exists on PATH (BROWSER's first word is checked).
const env = { BROWSER: 'true' };

type Check = { id: string; server?: string; status: string; detail: string; fix?: string };
const byId = (checks: Check[], id: string, server?: string) =>
  checks.find((c) => c.id === id && c.server === server);

describe('mcp-oauth doctor', () => {
  it('the kit: every check passes (exit 0); metadata, PKCE S256, registration, device flow, clock', async () => {
    await writeConfig(home, `servers:\n  kit:\n    url: ${bed.mcp.url}\n`);
    const result = await runCli(['--home', home, '--json', 'doctor'], { env });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const { ok, checks } = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
    expect(ok).toBe(true);
    for (const id of ['home', 'config', 'store', 'lock', 'browser'])
      expect(byId(checks, id)?.status).toBe('pass');
    for (const id of ['reachable', 'metadata', 'pkce', 'registration', 'device-flow', 'clock'])
      expect(byId(checks, id, 'kit')?.status, id).toBe('pass');
    expect(byId(checks, 'metadata', 'kit')?.detail).toContain(`authorization server ${bed.as.issuer}`);
    const text = await runCli(['--home', home, 'doctor'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^✓ home: /m);
    expect(text.stdout).toMatch(/^✓ kit pkce: PKCE S256 supported$/m);
  });

  it('failures: a refused server and a 200 {} server each get a line with a fix; exit 1', async () => {
    const empty = await startConstantServer(200, '{}');
    servers.push(empty);
    const refused = await refusedOrigin();
    await writeConfig(
      home,
      `servers:\n  down:\n    url: ${refused}/mcp\n  empty:\n    url: ${empty.origin}/mcp\n`,
    );
    const result = await runCli(['--home', home, 'doctor'], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^✗ down reachable: POST \S+\/mcp failed: connection refused \(ECONNREFUSED/m,
    );
    expect(result.stdout).toMatch(
      /^✗ empty reachable: \S+\/mcp is not an MCP server and publishes no OAuth metadata/m,
    );
    expect(result.stdout).toMatch(/^ {4}fix: /m);
    expect(result.stderr).toContain('2 checks failed: down reachable, empty reachable');
    // --json: exactly one JSON object on stdout (the report), still exit 1.
    const json = await runCli(['--home', home, '--json', 'doctor'], { env });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false });
  });

  it('a server that needs no authentication passes as no_auth, and status shows it', async () => {
    const open = await startPublicMcpServer();
    servers.push(open);
    await writeConfig(home, `servers:\n  public:\n    url: ${open.url}\n`);
    const result = await runCli(['--home', home, 'doctor', 'public'], { env });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('answers MCP without authentication (no_auth)');
    const status = await runCli(['--home', home, 'status', 'public', '--json']);
    expect(JSON.parse(status.stdout).servers[0].state).toBe('no_auth');
  });

  it('no browser can open (no BROWSER, no opener on PATH): a warning with the fix, not a failure', async () => {
    await writeConfig(home, `servers:\n  kit:\n    url: ${bed.mcp.url}\n`);
    const result = await runCli(['--home', home, 'doctor'], {
      env: { PATH: '/nonexistent', DISPLAY: undefined },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^! browser: no BROWSER variable and no xdg-open on PATH\n {4}fix: log in with --no-browser/m,
    );
  });

  it('a home others can write: fails with chmod 700 (exit 1)', async () => {
    await writeConfig(home, `servers:\n  kit:\n    url: ${bed.mcp.url}\n`);
    await chmod(home, 0o777);
    const result = await runCli(['--home', home, 'doctor'], { env });
    await chmod(home, 0o700);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`fix: chmod 700 ${home}`);
  });

  it('configuration errors exit 2: an invalid config.yaml, an unknown server', async () => {
    await writeConfig(home, 'servers:\n  kit:\n    ulr: http://127.0.0.1:1/mcp\n');
    const invalid = await runCli(['--home', home, 'doctor'], { env });
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toMatch(/^✗ config: /m);
    await writeConfig(home, `servers:\n  kit:\n    url: ${bed.mcp.url}\n`);
    const unknown = await runCli(['--home', home, 'doctor', 'nope'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown server 'nope'");
  });

  it('no config.yaml yet: says how to add a server (exit 1)', async () => {
    await mkdir(home, { recursive: true, mode: 0o700 });
    const result = await runCli(['--home', home, 'doctor'], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('fix: add one: mcp-oauth servers add NAME URL');
  });
});
