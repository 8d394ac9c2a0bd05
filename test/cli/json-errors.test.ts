import { describe, expect, it } from 'vitest';
import { runCli, useCliTestbed, writeConfig } from './harness.js';

// With --json an error is one JSON object on stdout as well as text on stderr, with the same exit
// code: a program reading stdout never gets an empty answer.
const t = useCliTestbed();

const errorOf = (stdout: string) =>
  JSON.parse(stdout).error as { code: string; message: string; hint: string | null };

describe('--json errors', () => {
  it('a configuration error: exit 2, code CONFIG, the file in the hint', async () => {
    const file = await writeConfig(t.home, 'servers:\n  kit:\n    url: 42\n');
    const result = await t.cli(['status', '--json']);
    expect(result.code).toBe(2);
    const error = errorOf(result.stdout);
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain(file);
    expect(error.hint).toContain(file);
    expect(result.stderr).toMatch(/^error: /);
  });

  it('a needed login: exit 3, code NEEDS_REAUTH, the exact command as the hint', async () => {
    await t.configureKit();
    const result = await t.cli(['token', 'kit', '--json']);
    expect(result.code).toBe(3);
    const error = errorOf(result.stdout);
    expect(error.code).toBe('NEEDS_REAUTH');
    expect(error.hint).toMatch(/^run: mcp-oauth .*login kit$/);
  });

  it('an unknown server: exit 2 with a JSON error', async () => {
    await t.configureKit();
    const result = await t.cli(['--json', 'logout', 'nope']);
    expect(result.code).toBe(2);
    expect(errorOf(result.stdout).code).toBe('CONFIG');
  });

  it('a usage error (unknown option) is JSON too, exit 2, code USAGE', async () => {
    const result = await runCli(['--json', 'status', '--no-such-option'], {
      env: { MCP_OAUTH_HOME: t.home },
    });
    expect(result.code).toBe(2);
    const error = errorOf(result.stdout);
    expect(error).toMatchObject({ code: 'USAGE', hint: 'see: mcp-oauth --help' });
    expect(error.message).toContain('--no-such-option');
  });

  it('without --json, stdout stays empty on an error', async () => {
    await writeConfig(t.home, 'servers:\n  kit:\n    url: 42\n');
    const result = await t.cli(['status']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
  });
});
