import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEntry, REPO_ROOT, scriptedBrowserCommand, useCliTestbed } from '../cli/harness.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';

// Item 9 (part): `login --scope`, `servers add NAME URL --login`, and in a terminal a question
// before a working credential is replaced (`--force` skips it; never asked without a TTY).

const run = promisify(execFile);
const t = useCliTestbed();
const openBrowser = scriptedBrowserHook();

describe('login --scope and servers add --login', () => {
  it('login --scope asks for exactly those scopes (plus offline_access where listed)', async () => {
    await t.configureKit();
    const result = await t.cli(['login', 'kit', '--scope', 'mcp:read'], { openBrowser });
    expect(result.code, result.stderr).toBe(0);
    // Not a terminal: a line per phase instead of a spinner.
    for (const phase of ['metadata discovery', 'client registration', 'token exchange'])
      expect(result.stderr).toContain(`kit: ${phase}...\n`);
    const status = JSON.parse((await t.cli(['status', 'kit', '--json'])).stdout).servers[0];
    expect(status.scopes).toContain('mcp:read');
    expect(status.scopes).not.toContain('mcp:write');
  });

  it('servers add NAME URL --login: added, then logged in, in one command (exit 0)', async () => {
    const before = t.bed.as.stats.authorizations;
    const result = await t.cli(['servers', 'add', 'kit', t.bed.mcp.url, '--login'], { openBrowser });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Added kit');
    expect(result.stdout).toMatch(/✓ Logged in to kit/);
    expect(t.bed.as.stats.authorizations - before).toBe(1);
    const status = JSON.parse((await t.cli(['status', 'kit', '--json'])).stdout).servers[0];
    expect(status.state).toBe('valid');
  });

  it('without a terminal, a working credential is replaced without asking', async () => {
    await t.configureKit();
    expect((await t.cli(['login', 'kit'], { openBrowser })).code).toBe(0);
    const before = t.bed.as.stats.authorizations;
    const again = await t.cli(['login', 'kit'], { openBrowser });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('Log in again and replace it?');
    expect(t.bed.as.stats.authorizations - before).toBe(1);
  });
});

const tmux = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

describe.skipIf(!tmux)('in a terminal (tmux): replacing a working credential is asked first', () => {
  const socket = `mcp-oauth-first-${process.pid}`;
  const tmuxCmd = (...args: string[]) =>
    run(tmux!, ['-u', '-L', socket, ...args], {
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
    });
  const capture = async () => (await tmuxCmd('capture-pane', '-p', '-t', 'cli')).stdout;
  async function waitForPane(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const screen = await capture();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`pane never showed ${pattern}; it shows:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  afterAll(async () => {
    await tmuxCmd('kill-server').catch(() => {});
  });

  async function loginInPane(extra: string) {
    await tmuxCmd('kill-session', '-t', 'cli').catch(() => {});
    const env = `export BROWSER='${await scriptedBrowserCommand()}'; export NO_COLOR=1; export TERM=xterm-256color;`;
    const script = `cd '${REPO_ROOT}'; ${env} '${process.execPath}' '${await cliEntry()}' --home '${t.home}' login kit ${extra}; echo "[exit $?]"; sleep 60`;
    await tmuxCmd('-f', '/dev/null', 'new-session', '-d', '-s', 'cli', '-x', '160', '-y', '30', script);
  }

  it('asks; "n" keeps the credential (exit 0, no authorization); --force does not ask', async () => {
    await t.configureKit();
    expect((await t.cli(['login', 'kit'], { openBrowser })).code).toBe(0);
    const before = t.bed.as.stats.authorizations;

    await loginInPane('');
    await waitForPane(
      /kit already has a working credential \(expires in [^)]*\)\. Log in again and replace it\? \[y\/N\]/,
    );
    await tmuxCmd('send-keys', '-t', 'cli', 'n', 'Enter');
    const kept = await waitForPane(/\[exit \d+\]/);
    expect(kept).toContain('Kept the current credential of kit; nothing changed');
    expect(kept).toContain('[exit 0]');
    expect(t.bed.as.stats.authorizations).toBe(before);

    await loginInPane('--force');
    const forced = await waitForPane(/\[exit \d+\]/);
    expect(forced).not.toContain('replace it?');
    expect(forced).toMatch(/✓ Logged in to kit/);
    expect(forced).toContain('[exit 0]');
    expect(t.bed.as.stats.authorizations - before).toBe(1);
  });
});
