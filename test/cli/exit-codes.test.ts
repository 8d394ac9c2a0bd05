import { chmod } from 'node:fs/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Testbed } from '../kit/index.js';
import { type CliOptions, runCli, useCliTestbed, writeConfig } from './harness.js';

// Exit codes are a contract: 0 ok, 1 failure, 2 usage/config error, 3 needs a login.
const t = useCliTestbed();
let bed: Testbed;
let home: string;
beforeEach(() => {
  ({ bed, home } = t);
});

const cli = (args: string[], env: CliOptions['env'] = {}) => t.cli(args, { env });
const configureKit = () => t.configureKit();

describe('exit codes', () => {
  it('0: a command that did its job', async () => {
    await configureKit();
    const result = await cli(['servers', 'list']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(
      /^NAME +URL +CLIENT\nkit +http:\/\/127\.0\.0\.1:\d+\/mcp +dynamic registration\n$/,
    );
  });

  it('1: a login that fails (the browser command fails), with the reason and no stack', async () => {
    await configureKit();
    // Over SSH the URL comes with the port-forward hint for the loopback callback.
    const result = await cli(['login', 'kit'], {
      BROWSER: 'false',
      SSH_CONNECTION: '10.0.0.2 50000 10.0.0.1 22',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /Opening your browser to log in to kit\. If it does not open, visit:\n\n {2}http\S+\n/,
    );
    const redirectUri = new URL(/^ {2}(http\S+)$/m.exec(result.stderr)![1]!).searchParams.get(
      'redirect_uri',
    )!;
    const port = new URL(redirectUri).port;
    expect(result.stderr).toContain(`ssh -N -L ${port}:127.0.0.1:${port} <this host>`);
    expect(result.stderr).toMatch(/^error: Login to MCP server 'kit' failed: .*BROWSER.*\n$/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse((await cli(['status', '--json'])).stdout).servers[0].state).toBe('logged_out');
  });

  it('1 with --verbose: debug logs and the stack trace on stderr', async () => {
    await configureKit();
    const result = await cli(['--verbose', 'login', 'kit'], { BROWSER: 'false' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`[mcp-oauth] debug home ${home}`);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('2: a configuration error names the file', async () => {
    const file = await writeConfig(
      home,
      'servers:\n  kit:\n    url: 42\n    oauth:\n      redirect_port: nope\n',
    );
    const result = await cli(['status']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: /);
    expect(result.stderr).toContain(file);
  });

  it('2: a home folder that others can write is refused, with the fix', async () => {
    await configureKit();
    await chmod(home, 0o770);
    for (const args of [['status'], ['token', 'kit']]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `error: Refusing to use ${home}: it is writable by its group (mode 770). Fix it with: chmod 700 ${home}\n`,
      );
    }
  });

  it('2: an unknown server, with the command that adds it', async () => {
    await configureKit();
    for (const args of [
      ['token', 'nosuch'],
      ['status', 'nosuch'],
      ['login', 'nosuch'],
    ]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain("error: Unknown server 'nosuch'");
      expect(result.stderr).toContain('mcp-oauth servers add nosuch <url>');
    }
  });

  it('2: usage errors (missing argument, unknown option, bad value, conflicting flags, no command)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['login'], /error: missing required argument 'server'/],
      [['status', '--bogus'], /error: unknown option '--bogus'/],
      [['servers', 'add', 'x', bed.mcp.url, '--redirect-port', 'abc'], /port number/],
      [['login', 'kit', '--device', '--no-browser'], /cannot be used together/],
      [['frobnicate'], /error: unknown command 'frobnicate'/],
      [[], /Usage: mcp-oauth/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((result, i) => {
      const [args, pattern] = cases[i]!;
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(pattern);
      expect(result.stdout, args.join(' ')).toBe('');
    });
  });

  it('3: needs a new login: nothing on stdout, the exact login command on stderr', async () => {
    await configureKit();
    const [token, refresh] = await Promise.all([cli(['token', 'kit']), cli(['refresh', 'kit'])]);
    for (const result of [token, refresh]) {
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `error: MCP server 'kit' needs a new login (not logged in). Run: mcp-oauth --home ${home} login kit\n`,
      );
    }
  });

  it('the home comes from MCP_OAUTH_HOME when --home is not given', async () => {
    await configureKit();
    const result = await runCli(['--json', 'servers', 'list'], { env: { MCP_OAUTH_HOME: home } });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).servers.map((s: { name: string }) => s.name)).toEqual(['kit']);
  });
});

describe('--help', () => {
  const commands = [
    [],
    ['login'],
    ['logout'],
    ['status'],
    ['token'],
    ['refresh'],
    ['servers'],
    ['servers', 'add'],
    ['servers', 'remove'],
    ['servers', 'list'],
  ];
  it('every command has an example, on stdout with exit 0', async () => {
    const results = await Promise.all(commands.map((command) => runCli([...command, '--help'])));
    results.forEach((result, i) => {
      const name = ['mcp-oauth', ...commands[i]!].join(' ');
      expect(result.code, name).toBe(0);
      expect(result.stdout, name).toContain(`Usage: ${name}`);
      expect(result.stdout, name).toContain('Example');
      const examples = result.stdout.slice(result.stdout.indexOf('Example'));
      expect(examples, name).toMatch(/\$ .*mcp-oauth/);
      expect(examples, name).toContain(commands[i]!.join(' '));
    });
  });
});
