import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../cli/harness.js';
import { startTestbed, type Testbed } from '../kit/index.js';
import { tempHome } from '../support/temp-home.js';
import {
  type OddServer,
  refusedOrigin,
  startConstantServer,
  startPublicMcpServer,
  startSilentServer,
} from './odd-servers.js';

// What a newcomer sees when a login cannot start: every failure names the request (method and
// URL, no query), the cause, and what to do; the common mistakes are told apart. Each case runs
// the real CLI (in-process) against a small server written for it on 127.0.0.1.

let bed: Testbed;
let noDevice: Testbed;
const servers: OddServer[] = [];
let home: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  [bed, noDevice] = await Promise.all([startTestbed(), startTestbed({ as: { deviceFlow: false } })]);
});
afterAll(async () => {
  await Promise.all([bed.close(), noDevice.close(), ...servers.map((s) => s.close())]);
});
beforeEach(async () => {
  ({ home, cleanup } = await tempHome());
});
afterEach(async () => {
  await cleanup();
});

async function login(url: string, extra: string[] = [], oauth = '') {
  await writeConfig(home, `servers:\n  s:\n    url: ${url}\n${oauth}`);
  return runCli(['--home', home, 'login', 's', ...extra], { env: { BROWSER: 'false' } });
}

describe('network failures name the URL, the cause and the next step (no --verbose)', () => {
  it('connection refused: exit 1, ECONNREFUSED host:port, the URL, what to check', async () => {
    const origin = await refusedOrigin();
    const result = await login(`${origin}/mcp`);
    expect(result.code).toBe(1);
    const port = new URL(origin).port;
    expect(result.stderr).toContain(`GET ${origin}/.well-known/oauth-protected-resource/mcp failed`);
    expect(result.stderr).toContain(`connection refused (ECONNREFUSED 127.0.0.1:${port})`);
    expect(result.stderr).toContain('check that the server is running');
    expect(result.stderr).not.toContain('fetch failed');
  });

  it('a server that never answers: ends at oauth.timeout, naming the phase, the limit and the request', async () => {
    const silent = await startSilentServer();
    servers.push(silent);
    const result = await login(`${silent.origin}/mcp`, [], '    oauth:\n      timeout: 2\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the metadata discovery did not finish within 2 s (oauth.timeout)');
    expect(result.stderr).toContain(
      `no answer to GET ${silent.origin}/.well-known/oauth-protected-resource/mcp`,
    );
    expect(silent.requests.length).toBeGreaterThan(0);
  });

  it('--verbose logs each HTTP request: method, URL without query, status, time', async () => {
    const result = await login(bed.mcp.url, ['--verbose', '--device'], '    oauth:\n      timeout: 2\n');
    // The device login waits for an approval that never comes: the requests before are what counts.
    const lines = result.stderr.split('\n').filter((l) => l.includes('HTTP '));
    expect(
      lines.some((l) =>
        /HTTP GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp -> 200 \(\d+ ms\)/.test(
          l,
        ),
      ),
    ).toBe(true);
    expect(lines.some((l) => /HTTP POST \S+ -> 201 \(\d+ ms\)/.test(l))).toBe(true); // the registration
    // No query string (where a code or a state would travel) in any logged URL.
    for (const line of lines) expect(line).not.toMatch(/\?[^…]/);
  });
});

describe('the common mistakes are told apart', () => {
  it('a base URL instead of .../mcp: suggests the path that answers like MCP; nothing registered', async () => {
    const before = bed.as.stats.registrations;
    const result = await login(new URL(bed.mcp.url).origin);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `is not an MCP endpoint (it answered HTTP 404), but ${bed.mcp.url} answers like an MCP server`,
    );
    expect(result.stderr).toContain(`set url: ${bed.mcp.url}`);
    expect(bed.as.stats.registrations).toBe(before);
  });

  it('404 everywhere: not an MCP server, no OAuth metadata; /mcp and /sse were tried', async () => {
    const notFound = await startConstantServer(404, '{"error":"not found"}');
    servers.push(notFound);
    const result = await login(`${notFound.origin}/mcp`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${notFound.origin}/mcp is not an MCP server and publishes no OAuth metadata`,
    );
    expect(result.stderr).toContain(`${notFound.origin}/sse did not answer like one either`);
    expect(result.stderr).not.toMatch(/regist/i);
  });

  it('200 {} everywhere: no raw schema dump, "not an MCP server / no OAuth metadata at URL"', async () => {
    const empty = await startConstantServer(200, '{}');
    servers.push(empty);
    const result = await login(`${empty.origin}/mcp`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${empty.origin}/mcp is not an MCP server and publishes no OAuth metadata`,
    );
    expect(result.stderr).not.toContain('"expected"');
    expect(result.stderr).not.toContain('Invalid input');
  });

  it('a server that needs no authentication: login says so, exits 0, status shows no_auth, token exits 2', async () => {
    const open = await startPublicMcpServer();
    servers.push(open);
    const result = await login(open.url);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('s needs no login: it answers without authentication');
    const status = await runCli(['--home', home, 'status', 's', '--json']);
    expect(JSON.parse(status.stdout).servers[0].state).toBe('no_auth');
    const token = await runCli(['--home', home, 'token', 's']);
    expect(token.code).toBe(2);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain("MCP server 's' needs no token");
  });

  it('--device where the authorization server has no device flow: says so, offers browser or paste; nothing registered', async () => {
    const before = noDevice.as.stats.registrations;
    const result = await login(noDevice.mcp.url, ['--device']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'offers no device flow (its metadata has no device_authorization_endpoint)',
    );
    expect(result.stderr).toContain('log in without --device (a browser), or with --no-browser');
    expect(noDevice.as.stats.registrations).toBe(before);
  });
});
