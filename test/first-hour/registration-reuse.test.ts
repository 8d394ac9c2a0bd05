import { describe, expect, it } from 'vitest';
import { runCli, startCli, useCliTestbed } from '../cli/harness.js';
import { scriptedDeviceApproval } from '../kit/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';

// Item 7: one registration serves the browser, paste and device flows; registrations are counted
// at the kit's authorization server (oidc-provider).

const t = useCliTestbed();
const openBrowser = scriptedBrowserHook();

async function deviceLogin(home: string) {
  const cli = startCli(['--home', home, 'login', 'kit', '--device', '--force'], {
    env: { BROWSER: 'false' },
  });
  const [, complete] = await cli.waitForStderr(/Or open this URL, which carries the code:\n\n {2}(\S+)\n/);
  expect((await scriptedDeviceApproval(complete!)).status).toBe(200);
  return cli.result;
}

describe('a registered client is reused across flows', () => {
  it('browser, device, browser again: exactly one registration', async () => {
    await t.configureKit();
    const before = t.bed.as.stats.registrations;
    const first = await t.cli(['login', 'kit'], { openBrowser });
    expect(first.code, first.stderr).toBe(0);
    expect(t.bed.as.stats.registrations - before).toBe(1);
    const device = await deviceLogin(t.home);
    expect(device.code, device.stderr).toBe(0);
    const again = await t.cli(['login', 'kit', '--force'], { openBrowser });
    expect(again.code, again.stderr).toBe(0);
    expect(t.bed.as.stats.registrations - before).toBe(1);
    const status = await runCli(['--home', t.home, 'status', 'kit', '--json']);
    expect(JSON.parse(status.stdout).servers[0]).toMatchObject({ state: 'valid', clientKind: 'dcr' });
  });

  it('device first, then the browser: one more registration (a redirect URI is needed), then none', async () => {
    await t.configureKit();
    const before = t.bed.as.stats.registrations;
    expect((await deviceLogin(t.home)).code).toBe(0);
    expect(t.bed.as.stats.registrations - before).toBe(1);
    expect((await t.cli(['login', 'kit', '--force'], { openBrowser })).code).toBe(0);
    expect(t.bed.as.stats.registrations - before).toBe(2);
    expect((await deviceLogin(t.home)).code).toBe(0);
    expect((await t.cli(['login', 'kit', '--force'], { openBrowser })).code).toBe(0);
    expect(t.bed.as.stats.registrations - before).toBe(2);
  });

  it('a login that failed after registering keeps its client: the next login registers nothing', async () => {
    await t.configureKit();
    const before = t.bed.as.stats.registrations;
    // The browser command fails, the paste flow finds stdin closed: the login fails after its
    // registration, with nothing to commit.
    const failed = await t.cli(['login', 'kit'], { env: { BROWSER: 'false' }, input: '' });
    expect(failed.code).toBe(1);
    expect(t.bed.as.stats.registrations - before).toBe(1);
    const status = await runCli(['--home', t.home, 'status', 'kit', '--json']);
    expect(JSON.parse(status.stdout).servers[0]).toMatchObject({ state: 'logged_out', clientKind: 'dcr' });
    const again = await t.cli(['login', 'kit'], { openBrowser });
    expect(again.code, again.stderr).toBe(0);
    expect(t.bed.as.stats.registrations - before).toBe(1);
    // A device login after that reuses the same client too.
    expect((await deviceLogin(t.home)).code).toBe(0);
    expect(t.bed.as.stats.registrations - before).toBe(1);
  });
});
