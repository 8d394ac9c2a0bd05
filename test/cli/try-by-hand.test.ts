import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { REPO_ROOT, runCli } from './harness.js';

// The README's "try it by hand": `npm run kit` prints servers and commands; the commands it
// prints work as printed, and Ctrl-C stops everything and removes the home folder it made.
describe('npm run kit', () => {
  it('prints URLs and commands that work, and stops cleanly on Ctrl-C', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/kit.ts')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      while (!stdout.includes('Ctrl-C stops')) {
        if (child.exitCode !== null) throw new Error(`kit exited: ${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stdout.startsWith('Starting the test kit')).toBe(true);
      const home = /export MCP_OAUTH_HOME=(\S+)/.exec(stdout)![1]!;
      const add = /mcp-oauth (servers add kit \S+)/.exec(stdout)![1]!.split(' ');
      const env = { MCP_OAUTH_HOME: home };
      expect((await runCli(add, { env })).code).toBe(0);
      const login = await runCli(['login', 'kit'], { env, openBrowser: scriptedBrowserHook() });
      expect(login.code).toBe(0);
      const status = await runCli(['status', '--json'], { env });
      expect(JSON.parse(status.stdout).servers[0]).toMatchObject({ name: 'kit', state: 'valid' });
      expect((await runCli(['token', 'kit'], { env })).code).toBe(0);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stdout).toContain('Test kit stopped');
      expect(existsSync(home)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
