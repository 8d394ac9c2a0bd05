import { execFile, execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BROWSER_COMMAND } from '../kit/index.js';
import { cliEntry, REPO_ROOT, useCliTestbed, writeConfig } from './harness.js';

const run = promisify(execFile);

/** tmux, installed if missing (apt-get, as .ci/run would); undefined when it cannot be had. */
function findTmux(): string | undefined {
  const which = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const found = which();
  if (found) return found;
  try {
    execFileSync('sh', ['-c', 'apt-get install -y tmux || (apt-get update && apt-get install -y tmux)'], {
      stdio: 'ignore',
      timeout: 120_000,
    });
  } catch {
    return undefined;
  }
  return which();
}

const tmux = findTmux();
if (!tmux)
  console.warn('terminal.test.ts: SKIPPED: tmux is not installed and `apt-get install -y tmux` failed');

const SPINNER_FRAME = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for [^\n]* \((\d+m )?\d+s\)/;
// Any SGR sequence that sets a colour (30-37, 90-97, 38;..., and backgrounds).
const COLOUR_CODE = new RegExp(
  `${String.fromCharCode(27)}\\[(?:\\d+;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;\\d+)*m`,
);

describe.skipIf(!tmux)('login in a terminal (tmux)', () => {
  const t = useCliTestbed();
  const socket = `mcp-oauth-test-${process.pid}`;
  const tmuxCmd = (...args: string[]) =>
    run(tmux!, ['-u', '-L', socket, ...args], {
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
    });
  const capture = async (withEscapes = false) =>
    (await tmuxCmd('capture-pane', '-p', ...(withEscapes ? ['-e'] : []), '-t', 'cli')).stdout;
  async function waitForPane(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 30_000;
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

  it('shows a spinner with the elapsed time while the browser is out, then the success line', async () => {
    const { bed, home } = t;
    await writeConfig(home, `servers:\n  kit:\n    url: ${bed.mcp.url}\n`);
    const go = join(dirname(home), 'browser-may-go');
    const env = {
      BROWSER: BROWSER_COMMAND,
      BROWSER_WAIT_FILE: go,
      NO_COLOR: '1',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TERM: 'xterm-256color',
    };
    const exports = Object.entries(env)
      .map(([k, v]) => `export ${k}='${v}';`)
      .join(' ');
    // The pane outlives the command (sleep), so the final screen can still be captured.
    const script = `cd '${REPO_ROOT}'; ${exports} '${process.execPath}' '${await cliEntry()}' --home '${home}' login kit; echo "[exit $?]"; sleep 60`;
    await tmuxCmd('-f', '/dev/null', 'new-session', '-d', '-s', 'cli', '-x', '120', '-y', '30', script);

    // The scripted browser is waiting for the file: the login is waiting for the person.
    const waiting = await waitForPane(SPINNER_FRAME);
    expect(waiting).toMatch(SPINNER_FRAME);
    // NO_COLOR: not one colour code on the screen, even on a terminal.
    expect(await capture(true)).not.toMatch(COLOUR_CODE);

    await writeFile(go, '');
    const done = await waitForPane(/\[exit \d+\]/);
    expect(done).toMatch(/✓ Logged in to kit \(expires in \d+ (min|h), scopes: [^)]+\)\n\[exit 0\]/);
    // The spinner line was erased, not left behind above the result.
    expect(done).not.toMatch(SPINNER_FRAME);
  });
});
