import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scriptedBrowse, scriptedDeviceApproval, type Testbed } from '../kit/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import {
  runCli,
  scriptedBrowserCommand,
  spawnCli,
  startCli,
  storedSecrets,
  useCliTestbed,
  writeKitConfig,
} from './harness.js';

// One kit for the file, a home per test. Logins run in-process, except where two processes or a
// signal are the point (those spawn the binary).
const t = useCliTestbed();
let home: string;
beforeEach(() => {
  home = t.home;
});

// A short login deadline: if a flow is not implemented and the login falls back to waiting for
// a browser, the test fails in seconds instead of at the library's 300 s default. BROWSER=false
// makes such a fallback fail at once.
const configure = (bed: Testbed) => writeKitConfig(home, bed.mcp.url);

describe('login --no-browser (paste the redirected URL; stdin is a pipe)', () => {
  let bed: Testbed;
  beforeAll(() => {
    bed = t.bed;
  });

  it('prints the authorization URL on stderr, reads the redirected URL on stdin, logs in', async () => {
    await configure(bed);
    const cli = startCli(['--home', home, 'login', 'kit', '--no-browser'], {
      env: { BROWSER: 'false' },
    });
    const [url] = await cli.waitForStderr(new RegExp(`${escapeRegExp(bed.as.issuer)}/\\S+`));
    // The URL is alone on its line, so a person can copy it from the terminal.
    expect(cli.stderr).toContain(`\n  ${url}\n`);
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');

    const { callbackUrl: redirected } = await scriptedBrowse(url, { loadCallback: false });
    expect(new URL(redirected).searchParams.get('code')).toBeTruthy();
    cli.stdin.end(`${redirected}\n`);

    const result = await cli.result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^✓ Logged in to kit \(expires in \d+ (min|h), scopes: .*\)\n$/);
    expect(result.stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    const status = await runCli(['--home', home, 'status', 'kit', '--json']);
    expect(JSON.parse(status.stdout).servers[0].state).toBe('valid');
  });

  it('a pasted URL with the wrong state fails with exit 1 and changes nothing', async () => {
    await configure(bed);
    const cli = startCli(['--home', home, 'login', 'kit', '--no-browser'], {
      env: { BROWSER: 'false' },
    });
    const [url] = await cli.waitForStderr(new RegExp(`${escapeRegExp(bed.as.issuer)}/\\S+`));
    const redirected = new URL((await scriptedBrowse(url, { loadCallback: false })).callbackUrl);
    redirected.searchParams.set('state', 'forged');
    cli.stdin.end(`${redirected.href}\n`);
    const result = await cli.result;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('That address belongs to another login attempt');
    expect(result.stderr).toContain('Paste the address again:');
    expect(result.stderr).toMatch(/^error: Login to MCP server 'kit' failed/m);
    const status = await runCli(['--home', home, 'status', 'kit', '--json']);
    expect(JSON.parse(status.stdout).servers[0].state).toBe('logged_out');
  });
});

describe('login through the browser: one authorization per server, transactional', () => {
  let bed: Testbed;
  // The spawned logins' BROWSER; the in-process ones use the hook.
  let browser: string;
  const openBrowser = scriptedBrowserHook();
  beforeAll(async () => {
    bed = t.bed;
    browser = await scriptedBrowserCommand();
  });

  it('two concurrent logins for one server: one authorization, the second process joins it', async () => {
    await configure(bed);
    const go = join(dirname(home), 'browser-may-go');
    const env = { BROWSER: browser, BROWSER_WAIT_FILE: go };
    const authorizations = bed.as.stats.authorizations;
    const first = await spawnCli(['--home', home, 'login', 'kit'], { env });
    const second = await spawnCli(['--home', home, 'login', 'kit'], { env });
    // Both are under way: one has opened the (waiting) browser, the other waits for it.
    await Promise.race([
      first.waitForStderr(/Opening your browser/),
      second.waitForStderr(/Opening your browser/),
    ]);
    const waiting = await Promise.race([
      first.waitForStderr(/Another process is already logging in to kit/).then(() => first),
      second.waitForStderr(/Another process is already logging in to kit/).then(() => second),
    ]);
    const opener = waiting === first ? second : first;
    expect(waiting.stderr).not.toContain('Opening your browser');
    await writeFile(go, '');

    const [openerResult, waitingResult] = await Promise.all([opener.result, waiting.result]);
    expect(openerResult.code, openerResult.stderr).toBe(0);
    expect(waitingResult.code, waitingResult.stderr).toBe(0);
    expect(openerResult.stdout).toMatch(/^✓ Logged in to kit \(/);
    expect(waitingResult.stdout).toMatch(
      /^✓ Logged in to kit through the login another process was running \(/,
    );
    expect(bed.as.stats.authorizations).toBe(authorizations + 1);
  });

  it('login --json prints one object with the status and no token', async () => {
    await configure(bed);
    const login = await runCli(['--home', home, '--json', 'login', 'kit'], { openBrowser });
    expect(login.code, login.stderr).toBe(0);
    const result = JSON.parse(login.stdout);
    expect(result).toMatchObject({ server: 'kit', joined: false, status: { name: 'kit', state: 'valid' } });
    for (const secret of await storedSecrets(home)) expect(login.stdout).not.toContain(secret);
  });

  it('Ctrl-C cancels a login waiting for the browser: exit 130, says so, nothing stored', async () => {
    await configure(bed);
    const go = join(dirname(home), 'browser-may-go');
    const cli = await spawnCli(['--home', home, 'login', 'kit'], {
      env: { BROWSER: browser, BROWSER_WAIT_FILE: go },
    });
    await cli.waitForStderr(/Opening your browser/);
    cli.child.kill('SIGINT');
    const result = await cli.result;
    // Let the waiting browser go on: it meets a closed callback and exits.
    await writeFile(go, '');
    // The first Ctrl-C cancels the login and exits 130 (it was 1 before: the issue asks for 130).
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/^Login cancelled; the stored credential was not changed\.$/m);
    const status = await runCli(['--home', home, 'status', 'kit', '--json']);
    expect(JSON.parse(status.stdout).servers[0].state).toBe('logged_out');
  });

  it('a failed login leaves the previous credential byte for byte', async () => {
    await configure(bed);
    const first = await runCli(['--home', home, 'login', 'kit'], { openBrowser });
    expect(first.code, first.stderr).toBe(0);
    const credentials = join(home, 'credentials');
    const snapshot = async () => {
      const files = (await readdir(credentials)).filter((f) => f.endsWith('.json')).sort();
      return Promise.all(files.map(async (f) => [f, await readFile(join(credentials, f), 'utf8')]));
    };
    const before = await snapshot();
    expect(before).toHaveLength(1);

    const failed = await runCli(['--home', home, 'login', 'kit'], { env: { BROWSER: 'false' } });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('The previous credential, if any, is unchanged.');
    expect(await snapshot()).toEqual(before);
    const status = await runCli(['--home', home, 'status', 'kit', '--json']);
    expect(JSON.parse(status.stdout).servers[0].state).toBe('valid');
  });
});

describe('login --device (RFC 8628)', () => {
  let bed: Testbed;
  beforeAll(() => {
    bed = t.bed;
  });

  it('prints the verification URI and the user code, then logs in once the code is approved', async () => {
    await configure(bed);
    const cli = startCli(['--home', home, 'login', 'kit', '--device'], { env: { BROWSER: 'false' } });
    const [, verificationUri, userCode] = await cli.waitForStderr(
      /visit (\S+) and enter the code:\n\n {2}(\S+)\n/,
    );
    expect(verificationUri!.startsWith(bed.as.issuer)).toBe(true);
    const [, complete] = await cli.waitForStderr(/Or open this URL, which carries the code:\n\n {2}(\S+)\n/);
    expect(cli.stderr).toMatch(/The code expires in \d+ min\./);
    expect(cli.stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);

    const approval = await scriptedDeviceApproval(complete!);
    expect(approval.status).toBe(200);
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^✓ Logged in to kit \(expires in \d+ (min|h), scopes: .*\)\n$/);
    expect(userCode).toBeTruthy();
    const status = JSON.parse((await runCli(['--home', home, 'status', 'kit', '--json'])).stdout).servers[0];
    expect(status).toMatchObject({ state: 'valid', clientKind: 'dcr' });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
