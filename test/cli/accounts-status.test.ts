import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statusExitCode } from '../../src/cli/status-health.js';
import { FileCredentialStore } from '../../src/index.js';
import { startTestbed, type Testbed } from '../kit/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { type CliOptions, useCliTestbed, writeConfig } from './harness.js';

// Accounts (--account, MCP_OAUTH_ACCOUNT, status --all-accounts), status as a health check (exit
// 0/3/1), every stored credential seen (orphans), and logout saying exactly what happened.
const t = useCliTestbed();
let bed: Testbed;
let home: string;
beforeEach(async () => {
  ({ bed, home } = t);
  await t.configureKit({ timeout: null });
});
const browser = scriptedBrowserHook();
const cli = (args: string[], options: CliOptions = {}) => t.cli(args, options);
const login = async (args: string[], env: CliOptions['env'] = {}) => {
  const result = await cli([...args], { openBrowser: browser, env });
  expect(result.code, result.stderr).toBe(0);
  return result;
};
type Row = { name: string; account: string; state: string; orphaned: boolean; error: string | null };
const rows = async (args: string[] = [], env: CliOptions['env'] = {}) => {
  const result = await cli(['--json', 'status', ...args], { env });
  return { code: result.code, servers: JSON.parse(result.stdout).servers as Row[] };
};

describe('accounts in the CLI', () => {
  it('login --account work and --account personal keep two credentials; status shows one account unless --all-accounts', async () => {
    await login(['--account', 'work', 'login', 'kit']);
    await login(['login', 'kit', '--account', 'personal']);
    const stored = await new FileCredentialStore({ home }).list();
    expect(stored).toHaveLength(2);
    expect(new Set(stored.map((k) => k.account))).toEqual(new Set(['work', 'personal']));

    // The default account has no credential: logged_out, exit 3.
    const plain = await rows();
    expect(plain.servers.map((r) => [r.account, r.state])).toEqual([['default', 'logged_out']]);
    expect(plain.code).toBe(3);
    const work = await rows(['--account', 'work']);
    expect(work.servers.map((r) => [r.account, r.state])).toEqual([['work', 'valid']]);
    expect(work.code).toBe(0);
    const viaEnv = await rows([], { MCP_OAUTH_ACCOUNT: 'personal' });
    expect(viaEnv.servers.map((r) => [r.account, r.state])).toEqual([['personal', 'valid']]);
    const all = await rows(['--all-accounts']);
    expect(all.servers.map((r) => `${r.account}:${r.state}`).sort()).toEqual([
      'personal:valid',
      'work:valid',
    ]);
    expect(all.code).toBe(0);
    const table = await cli(['status', '--all-accounts']);
    expect(table.stdout).toMatch(/^ACCOUNT +SERVER +STATE/);

    // token per account; a login hint names the account.
    const workToken = (await cli(['--account', 'work', 'token', 'kit'])).stdout.trim();
    const personalToken = (
      await cli(['token', 'kit'], { env: { MCP_OAUTH_ACCOUNT: 'personal' } })
    ).stdout.trim();
    expect(workToken).not.toBe(personalToken);
    const none = await cli(['token', 'kit']);
    expect(none.code).toBe(3);
    expect((await cli(['--account', 'nobody', 'token', 'kit'])).stderr).toContain(
      '--account nobody login kit',
    );

    // Logging out of one account leaves the other.
    const out = await cli(['--account', 'work', 'logout', 'kit']);
    expect(out.stdout).toContain('Logged out of kit (account work): tokens revoked at the server');
    expect((await rows(['--account', 'personal'])).servers[0]!.state).toBe('valid');
    expect((await rows(['--account', 'work'])).servers[0]!.state).toBe('logged_out');
    expect((await cli(['--account', '', 'status'])).code).toBe(2);
  });
});

describe('login_hint', () => {
  it('oauth.login_hint is sent in the authorization request, {account} replaced by the account', async () => {
    await writeConfig(
      home,
      `servers:\n  kit:\n    url: ${bed.mcp.url}\n    oauth:\n      login_hint: "{account}@example.com"\n`,
    );
    const opened: string[] = [];
    const recording: typeof browser = (url) => {
      opened.push(url);
      return browser(url);
    };
    const work = await cli(['--account', 'work', 'login', 'kit'], { openBrowser: recording });
    expect(work.code, work.stderr).toBe(0);
    const plain = await cli(['login', 'kit'], { openBrowser: recording });
    expect(plain.code, plain.stderr).toBe(0);
    expect(opened.map((url) => new URL(url).searchParams.get('login_hint'))).toEqual([
      'work@example.com',
      'default@example.com',
    ]);
  });
});

describe('status as a health check', () => {
  it('exit codes: 0 all usable, 3 only logins needed, 1 otherwise (pure)', () => {
    const row = (state: string, error: string | null = null) => ({ state, error }) as never;
    expect(statusExitCode([])).toBe(0);
    expect(statusExitCode([row('valid'), row('expiring'), row('no_auth'), row('expired')])).toBe(0);
    expect(statusExitCode([row('valid'), row('logged_out'), row('needs_reauth')])).toBe(3);
    expect(statusExitCode([row('expired', 'no refresh token was issued')])).toBe(3);
    expect(statusExitCode([row('needs_reauth'), row('error', 'unreadable')])).toBe(1);
  });

  it('a credential bound to another URL than config.yaml is needs_reauth with the reason (exit 3, like token)', async () => {
    await login(['login', 'kit']);
    expect((await rows()).code).toBe(0);
    await writeConfig(home, `servers:\n  kit:\n    url: ${bed.mcp.url.replace('/mcp', '/moved/mcp')}\n`);
    const moved = await rows();
    expect(moved.servers[0]).toMatchObject({ state: 'needs_reauth', orphaned: false });
    expect(moved.servers[0]!.error).toContain(`belongs to ${bed.mcp.url}`);
    expect(moved.code).toBe(3);
    expect((await cli(['token', 'kit'])).code).toBe(3);
  });

  it('a token without a known expiry is valid with expiresAt null', async () => {
    await login(['login', 'kit']);
    const store = new FileCredentialStore({ home });
    const record = (await store.get({ server: 'kit' }))!;
    await store.put(
      { server: 'kit' },
      { ...record, generation: record.generation + 1, tokens: { ...record.tokens!, expiresAt: null } },
      { recordId: record.recordId, generation: record.generation },
    );
    const result = await cli(['--json', 'status']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).servers[0]).toMatchObject({
      state: 'valid',
      expiresAt: null,
      expiresIn: null,
    });
  });

  it('a credential whose server left config.yaml is shown orphaned; logout and servers remove reach it and leave no lock files', async () => {
    await login(['login', 'kit']);
    await login(['--account', 'work', 'login', 'kit']);
    await writeConfig(home, 'servers: {}\n');
    const orphan = await rows();
    expect(orphan.servers).toEqual([
      expect.objectContaining({ name: 'kit', account: 'default', state: 'valid', orphaned: true }),
    ]);
    const table = await cli(['status']);
    expect(table.stdout).toContain('kit (orphaned)');
    expect(table.stderr).toContain('not in config.yaml (orphaned)');

    const revocations = bed.as.stats.revocations;
    const out = await cli(['logout', 'kit']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('tokens revoked at the server');
    expect(bed.as.stats.revocations).toBe(revocations + 1);
    const again = await cli(['logout', 'kit']);
    expect(again.stdout).toBe('Not logged in to kit; nothing to do.\n');
    expect(bed.as.stats.revocations).toBe(revocations + 1);

    // servers remove takes every account's credential of the server (work's is revoked too).
    expect(await readdir(join(home, 'locks'))).not.toEqual([]);
    const removed = await cli(['servers', 'remove', 'kit']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('it was not in config.yaml');
    expect(bed.as.stats.revocations).toBe(revocations + 2);
    expect((await readdir(join(home, 'credentials'))).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(await readdir(join(home, 'locks'))).toEqual([]);
    expect((await cli(['--account', 'work', 'servers', 'remove', 'kit'])).code).toBe(2);
    expect((await cli(['logout', 'kit'])).code).toBe(2);
  });

  it('logout --all logs out every stored credential of the account, configured or not', async () => {
    await login(['login', 'kit']);
    await writeConfig(home, 'servers: {}\n');
    const out = await cli(['--json', 'logout', '--all']);
    expect(JSON.parse(out.stdout).logouts).toEqual([
      expect.objectContaining({
        server: 'kit',
        account: 'default',
        tokensDeleted: true,
        revocation: 'revoked',
      }),
    ]);
    expect((await cli(['logout', '--all'])).stdout).toContain('Not logged in to kit; nothing to do.');
    expect((await cli(['logout'])).code).toBe(2);
  });
});

describe('logout says whether the server revoked the tokens', () => {
  const beds: Testbed[] = [];
  afterEach(async () => {
    for (const b of beds.splice(0)) await b.close().catch(() => {});
  });

  async function loggedInTo(options: Parameters<typeof startTestbed>[0]) {
    const other = await startTestbed(options);
    beds.push(other);
    await writeConfig(home, `servers:\n  other:\n    url: ${other.mcp.url}\n`);
    await login(['login', 'other']);
    return other;
  }

  it('a server without a revocation endpoint: deleted here, NOT revoked, and why', async () => {
    await loggedInTo({ as: { revocation: false } });
    const out = await cli(['logout', 'other']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(
      'tokens deleted here but NOT revoked (the authorization server offers no revocation endpoint)',
    );
    expect(out.stdout).toContain('the refresh token may still be live');
  });

  it('a server that is down: deleted here, NOT revoked, the cause named; --json has the same as fields', async () => {
    const other = await loggedInTo({});
    await other.as.close();
    const out = await cli(['--json', 'logout', 'other']);
    expect(out.code, out.stderr).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json).toMatchObject({ tokensDeleted: true, revoked: false, revocation: 'unreachable' });
    expect(json.revocationError).toMatch(/connection refused \(ECONNREFUSED/);
    expect((await cli(['--json', 'status'])).stdout).toContain('"logged_out"');
  });
});
