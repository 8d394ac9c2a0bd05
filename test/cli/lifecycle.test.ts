import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Testbed } from '../kit/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { textOf } from '../support/mcp-client.js';
import { type CliOptions, storedSecrets, useCliTestbed } from './harness.js';

// One authorization server and MCP server for the file; a fresh home (and so a fresh client
// registration) per test.
const t = useCliTestbed();
let bed: Testbed;
let home: string;
beforeEach(() => {
  ({ bed, home } = t);
});
const browser: CliOptions = { openBrowser: scriptedBrowserHook() };
const cli = (args: string[], options: CliOptions = {}) => t.cli(args, options);

/** The token a script would get, used the way a script would: as a bearer token on an MCP call. */
async function callWithBearer(token: string): Promise<string> {
  const client = new Client({ name: 'cli-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(bed.mcp.url), {
    authProvider: { token: async () => token },
  });
  await client.connect(transport);
  try {
    return textOf(await client.callTool({ name: 'whoami', arguments: {} }));
  } finally {
    await client.close();
  }
}

describe('mcp-oauth: add, login, status, token, refresh, logout', () => {
  it('runs the whole life of a credential through the CLI', async () => {
    const added = await cli(['servers', 'add', 'kit', bed.mcp.url]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/✓ Added kit \(http:\/\/127\.0\.0\.1:\d+\/mcp\) to .*config\.yaml/);

    const login = await cli(['login', 'kit'], browser);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(
      /^✓ Logged in to kit \(expires in \d+ (min|h), scopes: [^)]*mcp:read[^)]*\)\n$/,
    );
    // A pipe is not a terminal: no spinner frame may end up in a log.
    expect(login.stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(bed.as.stats.registrations).toBe(1);

    const status = await cli(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as { servers: Array<Record<string, unknown>> };
    expect(Object.keys(parsed)).toEqual(['servers']);
    expect(parsed.servers).toHaveLength(1);
    const row = parsed.servers[0]!;
    expect(Object.keys(row)).toEqual([
      'name',
      'url',
      'state',
      'expiresAt',
      'expiresIn',
      'scopes',
      'issuer',
      'clientKind',
      'error',
      'account',
      'grant',
      'orphaned',
    ]);
    expect(row).toMatchObject({
      account: 'default',
      grant: 'authorization_code',
      orphaned: false,
      name: 'kit',
      url: bed.mcp.url,
      state: 'valid',
      issuer: bed.as.issuer,
      clientKind: 'dcr',
      error: null,
    });
    expect(new Date(row.expiresAt as string).toISOString()).toBe(row.expiresAt);
    expect(row.expiresIn).toBeGreaterThan(3500);
    expect(row.expiresIn).toBeLessThanOrEqual(3600);
    expect(row.scopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    const secrets = await storedSecrets(home);
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    for (const secret of secrets) expect(status.stdout + status.stderr).not.toContain(secret);

    const table = await cli(['status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^SERVER +STATE +EXPIRES IN +SCOPES +ISSUER +CLIENT +GRANT\nkit +valid +(59m|1h) +/,
    );
    for (const secret of secrets) expect(table.stdout + table.stderr).not.toContain(secret);

    const token = await cli(['token', 'kit']);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stderr).toBe('');
    const printed = token.stdout.trimEnd();
    expect(token.stdout).toBe(`${printed}\n`);
    expect(printed).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.parse(await callWithBearer(printed))).toMatchObject({ sub: 'test-user' });
    expect(bed.mcp.stats.requestsWithToken(printed)).toBeGreaterThan(0);

    const refreshesBefore = bed.as.stats.refreshSuccesses;
    const refresh = await cli(['refresh', 'kit']);
    expect(refresh.code, refresh.stderr).toBe(0);
    expect(refresh.stdout).toMatch(/^✓ Refreshed kit \(expires in \d+ (min|h)\)\n$/);
    expect(bed.as.stats.refreshSuccesses).toBe(refreshesBefore + 1);
    const refreshed = (await cli(['token', 'kit'])).stdout.trimEnd();
    expect(refreshed).not.toBe(printed);
    expect(refresh.stdout).not.toContain(refreshed);
    expect(JSON.parse((await cli(['status', 'kit', '--json'])).stdout).servers[0].state).toBe('valid');

    const logout = await cli(['logout', 'kit']);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stdout).toMatch(/^✓ Logged out of kit: tokens revoked at the server and deleted here\.\n$/);
    expect(JSON.parse((await cli(['status', '--json'])).stdout).servers[0]).toMatchObject({
      state: 'logged_out',
      expiresAt: null,
      expiresIn: null,
    });

    const after = await cli(['token', 'kit']);
    expect(after.code).toBe(3);
    expect(after.stdout).toBe('');
    expect(after.stderr).toContain(`mcp-oauth --home ${home} login kit`);
    expect(after.stderr).toMatch(/^error: MCP server 'kit' needs a new login/);
  });

  it('logout --reset drops the client registration: the next login registers a new client', async () => {
    expect((await cli(['servers', 'add', 'kit', bed.mcp.url])).code).toBe(0);
    const before = bed.as.stats.registrations;
    expect((await cli(['login', 'kit'], browser)).code).toBe(0);
    expect(bed.as.stats.registrations).toBe(before + 1);

    // A plain logout keeps the client: logging in again reuses it.
    expect((await cli(['logout', 'kit'])).code).toBe(0);
    expect((await cli(['login', 'kit'], browser)).code).toBe(0);
    expect(bed.as.stats.registrations).toBe(before + 1);

    const reset = await cli(['logout', 'kit', '--reset']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('client registration forgotten');
    const status = JSON.parse((await cli(['status', '--json'])).stdout).servers[0];
    expect(status).toMatchObject({ state: 'logged_out', clientKind: null, issuer: null });

    expect((await cli(['login', 'kit'], browser)).code).toBe(0);
    expect(bed.as.stats.registrations).toBe(before + 2);
  });
});
