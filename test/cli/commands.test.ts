import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/program.js';
import type { Dispatch, RunFn } from '../../src/cli/runner.js';
import type { OpenBrowser } from '../../src/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { startCli, useCliTestbed } from './harness.js';

// Each command: what its command line parses into (no run), then its run's output shapes and
// error paths, in-process against the kit.

/** The input and run function an argv dispatches to; nothing runs. */
async function parsed(args: string[]): Promise<{ command: string; run: string; input: unknown }> {
  let seen: { command: string; run: string; input: unknown } | undefined;
  const record: Dispatch = async <I>(command: Command, run: RunFn<I>, input: I) => {
    seen = { command: command.name(), run: run.name, input };
  };
  const sink = { write: () => true };
  const io: CliIO = {
    stdout: sink,
    stderr: sink,
    stdin: process.stdin,
    env: {},
    onInterrupt: () => () => {},
  };
  await buildProgram(io, record).parseAsync(['node', 'mcp-oauth', ...args]);
  if (!seen) throw new Error(`nothing dispatched for ${args.join(' ')}`);
  return seen;
}

describe('parsing: each command line dispatches to its run function with typed inputs', () => {
  it('maps flags and arguments', async () => {
    expect(await parsed(['login', 'a'])).toEqual({
      command: 'login',
      run: 'runLogin',
      input: { server: 'a', flow: 'browser' },
    });
    expect((await parsed(['login', 'a', '--no-browser'])).input).toEqual({ server: 'a', flow: 'paste' });
    expect((await parsed(['login', 'a', '--device'])).input).toEqual({ server: 'a', flow: 'device' });
    expect(await parsed(['logout', 'a', '--reset'])).toMatchObject({
      run: 'runLogout',
      input: { server: 'a', reset: true },
    });
    expect((await parsed(['logout', 'a'])).input).toEqual({
      server: 'a',
      all: false,
      allAccounts: false,
      reset: false,
    });
    expect((await parsed(['logout', '--all'])).input).toEqual({
      all: true,
      allAccounts: false,
      reset: false,
    });
    expect(await parsed(['status'])).toMatchObject({ run: 'runStatus', input: {} });
    expect((await parsed(['--json', 'status', 'a'])).input).toEqual({ server: 'a', allAccounts: false });
    expect((await parsed(['status', '--all-accounts'])).input).toEqual({ allAccounts: true });
    expect(await parsed(['token', 'a'])).toMatchObject({ run: 'runToken', input: { server: 'a' } });
    expect(await parsed(['refresh', 'a'])).toMatchObject({ run: 'runRefresh', input: { server: 'a' } });
    expect(await parsed(['servers', 'list'])).toMatchObject({ run: 'runServersList' });
    expect(await parsed(['servers', 'remove', 'a'])).toMatchObject({
      run: 'runServersRemove',
      input: { name: 'a' },
    });
    expect(
      await parsed([
        'servers',
        'add',
        'a',
        'https://a.example/mcp',
        '--client-id',
        'c',
        '--client-secret-env',
        'S',
        '--client-metadata-url',
        'https://a.example/client.json',
        '--scope',
        'read write',
        '--redirect-port',
        '0',
      ]),
    ).toEqual({
      command: 'add',
      run: 'runServersAdd',
      input: {
        name: 'a',
        url: 'https://a.example/mcp',
        oauth: {
          client_id: 'c',
          client_secret_env: 'S',
          client_metadata_url: 'https://a.example/client.json',
          scope: 'read write',
          redirect_port: 0,
        },
      },
    });
  });
});

describe('runs, in-process', () => {
  const t = useCliTestbed();
  const browser: OpenBrowser = scriptedBrowserHook();

  it('an empty home: status and servers list say so on stderr, --json gives empty lists', async () => {
    expect(await t.cli(['status'])).toEqual({
      code: 0,
      stdout: '',
      stderr: 'No servers configured. Add one with: mcp-oauth servers add <name> <url>\n',
    });
    expect(await t.cli(['--json', 'status'])).toEqual({
      code: 0,
      stdout: '{\n  "servers": []\n}\n',
      stderr: '',
    });
    const list = await t.cli(['servers', 'list']);
    expect(list).toMatchObject({ code: 0, stdout: '' });
    expect(list.stderr).toContain(`No servers in ${t.home}/config.yaml.`);
    expect(JSON.parse((await t.cli(['servers', 'list', '--json'])).stdout)).toEqual({ servers: [] });
  });

  it('--json shapes of servers add, logout, refresh and servers remove (no token in any)', async () => {
    const added = await t.cli(['--json', 'servers', 'add', 'kit', t.bed.mcp.url]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({
      name: 'kit',
      url: t.bed.mcp.url,
      file: `${t.home}/config.yaml`,
    });
    expect((await t.cli(['login', 'kit'], { openBrowser: browser })).code).toBe(0);
    const token = (await t.cli(['token', 'kit'])).stdout.trim();

    const refreshed = await t.cli(['--json', 'refresh', 'kit']);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(Object.keys(JSON.parse(refreshed.stdout))).toEqual([
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
    expect(JSON.parse(refreshed.stdout)).toMatchObject({ name: 'kit', state: 'valid', error: null });

    const loggedOut = await t.cli(['--json', 'logout', 'kit']);
    expect(JSON.parse(loggedOut.stdout)).toEqual({
      server: 'kit',
      account: 'default',
      existed: true,
      tokensDeleted: true,
      revoked: true,
      revocation: 'revoked',
      revocationError: null,
      reset: false,
    });
    const reset = JSON.parse((await t.cli(['--json', 'logout', 'kit', '--reset'])).stdout);
    expect(Object.keys(reset)).toEqual([
      'server',
      'account',
      'existed',
      'tokensDeleted',
      'revoked',
      'revocation',
      'revocationError',
      'reset',
    ]);
    expect(reset).toMatchObject({
      server: 'kit',
      reset: true,
      tokensDeleted: false,
      revocation: 'not_needed',
    });

    const removed = await t.cli(['--json', 'servers', 'remove', 'kit']);
    expect(JSON.parse(removed.stdout)).toEqual({
      name: 'kit',
      removed: true,
      tokensDeleted: false,
      revoked: false,
      revocation: 'not_needed',
      revocationError: null,
    });
    for (const output of [added, refreshed, loggedOut, removed]) {
      expect(output.stdout + output.stderr).not.toContain(token);
    }
  });

  it('servers add: a name taken is a config error (exit 2) and the file keeps one entry', async () => {
    expect((await t.cli(['servers', 'add', 'kit', t.bed.mcp.url])).code).toBe(0);
    const twice = await t.cli(['servers', 'add', 'kit', t.bed.mcp.url]);
    expect(twice.code).toBe(2);
    expect(twice.stdout).toBe('');
    expect(twice.stderr).toContain('servers.kit already exists');
    expect(JSON.parse((await t.cli(['--json', 'servers', 'list'])).stdout).servers).toHaveLength(1);
  });

  it('Ctrl-C during a login cancels it and exits 130 saying nothing changed; a second one is left to the default', async () => {
    await t.configureKit();
    // A browser that never comes back: the login waits until it is cancelled.
    const never: OpenBrowser = async () => ({ failed: new Promise<never>(() => {}) });
    const cli = startCli(['--home', t.home, 'login', 'kit'], { openBrowser: never });
    cli.stdin.end();
    await cli.waitForStderr(/Opening your browser/);
    expect(cli.interrupt()).toBe(true);
    // A second Ctrl-C while the login unwinds is not handled: the process exits at once (130).
    expect(cli.interrupt()).toBe(false);
    const result = await cli.result;
    // Exit 130 from the first Ctrl-C (it was exit 1 before: the issue asks for 130).
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/^Login cancelled; the stored credential was not changed\.$/m);
    expect(result.stderr).not.toContain('error:');
    expect(JSON.parse((await t.cli(['--json', 'status'])).stdout).servers[0].state).toBe('logged_out');
  });
});
