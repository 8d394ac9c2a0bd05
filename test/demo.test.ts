import { execFile } from 'node:child_process';
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
});
