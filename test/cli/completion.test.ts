import { execFile } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cliEntry, cliEnv, runCli, useCliTestbed, writeConfig } from './harness.js';

const t = useCliTestbed({ servers: false });
const exec = promisify(execFile);

const config =
  'servers:\n  alpha:\n    url: https://alpha.example/mcp\n  beta:\n    url: https://beta.example/mcp\n';
const complete = async (...words: string[]) =>
  (await runCli(['__complete', ...words], { env: { MCP_OAUTH_HOME: t.home } })).stdout
    .split('\n')
    .filter(Boolean);

describe('shell completion', () => {
  it('offers the commands, the servers subcommands, the options, and server names where a server is expected', async () => {
    await writeConfig(t.home, config);
    expect(await complete('')).toEqual(
      expect.arrayContaining(['login', 'logout', 'status', 'token', 'servers', 'completion']),
    );
    expect(await complete('')).not.toContain('__complete');
    expect(await complete('servers', '')).toEqual(expect.arrayContaining(['add', 'list', 'remove']));
    expect(await complete('login', '')).toEqual(['alpha', 'beta']);
    expect(await complete('servers', 'rm', '')).toEqual(['alpha', 'beta']);
    // A new server's name is the user's to invent; a second argument is not a server.
    expect(await complete('servers', 'add', '')).toEqual([]);
    expect(await complete('login', 'alpha', '')).toEqual([]);
    const options = await complete('login', '--');
    expect(options).toEqual(expect.arrayContaining(['--home', '--json', '--help']));
  });

  it('reads the server names of the home given on the command line', async () => {
    const other = await mkdtemp(join(tmpdir(), 'mcp-oauth-completion-'));
    await chmod(other, 0o700);
    await writeConfig(other, 'servers:\n  gamma:\n    url: https://gamma.example/mcp\n');
    expect(await complete('--home', other, 'token', '')).toEqual(['gamma']);
    expect(await complete(`--home=${other}`, 'token', '')).toEqual(['gamma']);
  });

  it('a broken config.yaml offers no names and no error', async () => {
    await writeConfig(t.home, 'servers: [');
    const result = await runCli(['__complete', 'login', ''], { env: { MCP_OAUTH_HOME: t.home } });
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('the bash script completes through the real binary in a real bash', async () => {
    await writeConfig(t.home, config);
    const bin = await mkdtemp(join(tmpdir(), 'mcp-oauth-bin-'));
    await writeFile(
      join(bin, 'mcp-oauth'),
      `#!/bin/sh\nexec "${process.execPath}" "${await cliEntry()}" "$@"\n`,
      {
        mode: 0o755,
      },
    );
    const script = [
      'eval "$(mcp-oauth completion bash)"',
      'COMP_WORDS=(mcp-oauth logi); COMP_CWORD=1; _mcp_oauth; declare -p COMPREPLY',
      'COMP_WORDS=(mcp-oauth login b); COMP_CWORD=2; _mcp_oauth; declare -p COMPREPLY',
    ].join('\n');
    const { stdout } = await exec('bash', ['-c', script], {
      env: cliEnv({ MCP_OAUTH_HOME: t.home, PATH: `${bin}:${process.env.PATH}` }),
    });
    expect(stdout).toBe('declare -a COMPREPLY=([0]="login")\ndeclare -a COMPREPLY=([0]="beta")\n');
  });

  it('prints a script for zsh and fish that calls back the same command, and refuses another shell', async () => {
    for (const shell of ['zsh', 'fish']) {
      const result = await runCli(['completion', shell]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('mcp-oauth __complete');
    }
    const bad = await runCli(['completion', 'powershell']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bash, zsh, fish');
  });
});
