import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));

describe('npm start (the embedded demo)', () => {
  it('exits 0 and its output shows the counts it claims', async () => {
    const { stdout } = await promisify(execFile)(`${root}node_modules/.bin/tsx`, ['demo/main.ts'], {
      cwd: root,
      timeout: 120_000,
    });
    const lines = stdout.split('\n').map((l) => l.trim());
    const has = (text: string) => expect(lines).toContain(text);
    // The first line comes before the servers start (demo/main.ts prints it before loading anything).
    expect(lines[0]).toMatch(/^mcp-oauth-manager demo: starting/);
    // Step 1 is the CLI's own login output.
    has('$ mcp-oauth login demo');
    expect(lines.some((l) => /^✓ Logged in to demo \(expires in 1 h/.test(l))).toBe(true);
    has('mcp-oauth status');
    has('succeeded: 200/200');
    expect(lines.filter((l) => l === 'succeeded: 200/200')).toHaveLength(2);
    has('refresh requests at the authorization server: 1, invalid_grant: 0');
    has("refresh requests at the authorization server: 1 (the other process's; this one sent none)");
    has('this process saw credentials-changed; its token changed: yes');
    expect(lines.some((l) => /^401s answered: \d+, refresh requests: 1, invalid_grant: 0$/.test(l))).toBe(
      true,
    );
    has('5 calls: refresh requests 1 (no retry loop), requests reaching the MCP server 0');
    has('state=needs_reauth');
    has('echo -> "back again"  state=valid');
    expect(stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  }, 150_000);

  it('Ctrl-C stops its servers, removes its home folder and exits 130', async () => {
    // `npm start` runs tsx, which runs the demo in a child node: Ctrl-C in a terminal signals the
    // whole process group, so the test does the same (a group of its own, signalled by -pid).
    const child = spawn(`${root}node_modules/.bin/tsx`, ['demo/main.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      while (!/\n2\. /.test(stdout)) {
        if (child.exitCode !== null) throw new Error(`the demo ended early: ${stdout}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const home = /home folder +(\S+)/.exec(stdout)![1]!;
      expect(existsSync(home)).toBe(true);
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(130);
      expect(stdout).toContain("Interrupted: the demo's servers are stopped and its home folder removed.");
      expect(existsSync(home)).toBe(false);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 150_000);
});
