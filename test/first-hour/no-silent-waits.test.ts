import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, NeedsReauthError, OAuthManager } from '../../src/index.js';
import { startCli, useCliTestbed, writeKitConfig } from '../cli/harness.js';
import { scriptedBrowse, scriptedDeviceApproval, startTestbed } from '../kit/index.js';

// Item 2: no silent waits. The default opener knows when no browser can come up (a BROWSER that
// is not an executable, no opener, no display, a BROWSER command that fails): the CLI goes on
// with the paste flow and says so; the library's implicit login prints what it waits for on
// stderr, uses the device flow where offered, else raises NeedsReauthError. The opener reads the
// process environment, so these in-process runs set BROWSER on process.env (restored after).

const t = useCliTestbed();
const savedBrowser = process.env.BROWSER;
afterEach(() => {
  if (savedBrowser === undefined) delete process.env.BROWSER;
  else process.env.BROWSER = savedBrowser;
  vi.restoreAllMocks();
});

async function pasteThrough(cli: ReturnType<typeof startCli>, issuer: string) {
  const [url] = await cli.waitForStderr(new RegExp(`${issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\S+`));
  const { callbackUrl } = await scriptedBrowse(url, { loadCallback: false });
  cli.stdin.end(`${callbackUrl}\n`);
  return cli.result;
}

describe('the CLI falls back to the paste flow when no browser can open', () => {
  it('BROWSER is not an executable: says so before waiting, then the paste flow logs in (exit 0)', async () => {
    await t.configureKit();
    const cli = startCli(['--home', t.home, 'login', 'kit'], { env: { BROWSER: '/nonexistent/browser' } });
    const result = await pasteThrough(cli, t.bed.as.issuer);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      'No browser can be opened here (BROWSER is set to "/nonexistent/browser", but /nonexistent/browser is not an executable on PATH); continuing with the paste flow instead.',
    );
    expect(result.stderr).not.toContain('Opening your browser');
    expect(result.stderr).toContain('paste it here');
  });

  it('a BROWSER command that exits non-zero at once: the paste flow takes over (exit 0)', async () => {
    await t.configureKit();
    const cli = startCli(['--home', t.home, 'login', 'kit'], { env: { BROWSER: 'false' } });
    const result = await pasteThrough(cli, t.bed.as.issuer);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Opening your browser');
    expect(result.stderr).toContain('No browser can be opened here (the BROWSER command exited with 1)');
  });
});

describe("connect() never waits silently and never reads the host's stdin", () => {
  it('no browser: the device flow, its code printed on stderr; connected once approved', async () => {
    await t.configureKit();
    process.env.BROWSER = '/nonexistent/browser';
    const written: string[] = [];
    let approve: Promise<unknown> | undefined;
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      const text = String(chunk);
      written.push(text);
      const complete = /or open (\S+)/.exec(text)?.[1];
      if (complete) approve ??= scriptedDeviceApproval(complete);
      return true;
    });
    const manager = new OAuthManager({ home: t.home, interactive: 'always' });
    try {
      const client = await connect('kit', { manager });
      await client.close();
      expect(await approve).toMatchObject({ status: 200 });
      expect((await manager.status('kit')).state).toBe('valid');
    } finally {
      await manager.close();
    }
    const all = written.join('');
    expect(all).toContain('[mcp-oauth] kit: no browser can be opened here');
    expect(all).toMatch(/\[mcp-oauth\] kit needs a login: visit \S+ and enter the code \S+/);
    expect(t.bed.as.stats.authorizations).toBeGreaterThan(0);
  });

  it('no browser and no device flow: NeedsReauthError naming the reason and the command; nothing stored', async () => {
    const bed = await startTestbed({ as: { deviceFlow: false } });
    try {
      await writeKitConfig(t.home, bed.mcp.url);
      process.env.BROWSER = '/nonexistent/browser';
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const manager = new OAuthManager({ home: t.home, interactive: 'always' });
      try {
        const error = await connect('kit', { manager }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NeedsReauthError);
        expect((error as Error).message).toContain('no browser can be opened here');
        expect((error as NeedsReauthError).command).toContain('login kit');
        expect((await manager.status('kit')).state).toBe('logged_out');
      } finally {
        await manager.close();
      }
      expect(bed.as.stats.authorizations).toBe(0);
    } finally {
      await bed.close();
    }
  });

  it('with a browser: the authorization URL is printed on stderr as well as opened', async () => {
    await t.configureKit();
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const manager = new OAuthManager({
      home: t.home,
      interactive: 'always',
      openBrowser: async (url) => {
        await scriptedBrowse(url);
        return { failed: new Promise<never>(() => {}) };
      },
    });
    try {
      const client = await connect('kit', { manager });
      await client.close();
    } finally {
      await manager.close();
    }
    expect(written.join('')).toMatch(
      new RegExp(
        `kit needs a login: opening your browser\\. If it does not open, visit:\\n {2}${t.bed.as.issuer}/\\S+`,
      ),
    );
  });
});
