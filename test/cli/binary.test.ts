import { describe, expect, it } from 'vitest';
import { FileCredentialStore } from '../../src/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { runBinary, spawnCli, useCliTestbed } from './harness.js';

// The binary itself, spawned (dist's bundle, built as `npm run build` builds it): what only a real
// process shows. Everything else about the commands runs in-process (the other files).
const t = useCliTestbed();
const login = async () => {
  await t.configureKit();
  const result = await t.cli(['login', 'kit'], { openBrowser: scriptedBrowserHook() });
  expect(result.code, result.stderr).toBe(0);
};

describe('the mcp-oauth binary', () => {
  it('exits 0 for --version, 2 for a usage error, 3 when a login is needed (nothing on stdout)', async () => {
    const version = await runBinary(['--version']);
    expect(version).toMatchObject({ code: 0, stderr: '' });
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);

    const usage = await runBinary(['--home', t.home, 'status', '--bogus']);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toContain("error: unknown option '--bogus'");

    await t.configureKit();
    const token = await runBinary(['--home', t.home, 'token', 'kit']);
    expect(token.code).toBe(3);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain(`Run: mcp-oauth --home ${t.home} login kit`);
  });

  it('token on a pipe: the token alone, the same one the command prints in-process', async () => {
    await login();
    const piped = await runBinary(['--home', t.home, 'token', 'kit']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
    const inProcess = await t.cli(['token', 'kit']);
    expect(piped.stdout).toBe(inProcess.stdout);
    expect(piped.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it('SIGINT exits 130 and SIGTERM 143 while a refresh waits for the lock; the credential stays usable', async () => {
    await login();
    const before = await t.cli(['token', 'kit']);
    // Another holder of the credential's lock: the refresh below waits for it.
    const store = new FileCredentialStore({ home: t.home, watch: false });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      void store.withLock({ server: 'kit' }, () => {
        resolve();
        return new Promise<void>((r) => {
          release = r;
        });
      });
    });
    await held;
    try {
      for (const [signal, code] of [
        ['SIGINT', 130],
        ['SIGTERM', 143],
      ] as const) {
        const cli = await spawnCli(['--home', t.home, '--verbose', 'refresh', 'kit']);
        // Printed once the command runs (its signal handling is in place by then).
        await cli.waitForStderr(/\[mcp-oauth\] debug home /);
        cli.child.kill(signal);
        const result = await cli.result;
        expect(result.code, `${signal}: ${result.stderr}`).toBe(code);
        expect(result.stdout).toBe('');
      }
    } finally {
      release();
      await store.close();
    }
    const after = await t.cli(['token', 'kit']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe(before.stdout);
  });
});
