/**
 * The demo's steps (demo/main.ts prints its first line, then loads this). Starts a real
 * authorization server (oidc-provider) and a real MCP server (the SDK's) on 127.0.0.1, logs in
 * with the real CLI through a scripted browser, and shows the manager at work through
 * `connect()`. Each thing it starts is registered in `cleanups`, which main.ts also runs on
 * Ctrl-C, so nothing is left running or on disk.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { addServer, type Clock, connect, NeedsReauthError, OAuthManager } from '../src/index.js';
import { startAuthorizationServer } from '../test/kit/authorization-server.js';
import { startMcpServer } from '../test/kit/mcp-server.js';
import { BROWSER_COMMAND } from '../test/kit/scripted-browser.js';
import { scriptedBrowserHook } from '../test/support/browser-hook.js';

const HERD = 200;
const root = fileURLToPath(new URL('../', import.meta.url));
const step = (n: number, text: string) => console.log(`\n${n}. ${text}`);
const detail = (text: string) => console.log(text ? `   ${text}` : '');

/** The demo's clock: real time plus a jump, so "an hour later" takes no hour. */
class DemoClock implements Clock {
  offset = 0;
  now() {
    return Date.now() + this.offset;
  }
}

/** Undo steps, run last-registered first, by the walkthrough's end or by Ctrl-C. */
export type Cleanups = Array<() => Promise<unknown>>;

const execFileAsync = promisify(execFile);
/** The CLI of this checkout, as `mcp-oauth` would run. */
const cliArgs = (home: string, ...args: string[]) => [
  '--import',
  'tsx',
  'src/cli/main.ts',
  '--home',
  home,
  ...args,
];

export async function runDemo(cleanups: Cleanups): Promise<void> {
  const parent = await mkdtemp(join(tmpdir(), 'mcp-oauth-demo-'));
  cleanups.push(() => rm(parent, { recursive: true, force: true }));
  const home = join(parent, 'home');
  const as = await startAuthorizationServer();
  cleanups.push(() => as.close());
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  cleanups.push(() => mcp.close());
  const clock = new DemoClock();
  const manager = new OAuthManager({ home, clock, interactive: 'never', openBrowser: scriptedBrowserHook() });
  cleanups.push(() => manager.close());
  const events: string[] = [];
  manager.on('credentials-changed', (e) => events.push(`credentials-changed (${e.reason})`));
  manager.on('needs-reauth', () => events.push('needs-reauth'));
  {
    detail(
      `authorization server  ${as.issuer}  (oidc-provider: DCR, PKCE S256, rotating refresh tokens with reuse detection)`,
    );
    detail(`MCP server            ${mcp.url}  (MCP SDK, bearer auth, RFC 9728 metadata)`);
    detail(`home folder           ${home}`);
    await addServer(home, { name: 'demo', url: mcp.url });

    step(1, 'Log in with the CLI, as a person would (a scripted browser stands in for yours)');
    detail(`$ mcp-oauth login demo`);
    const login = await execFileAsync(process.execPath, cliArgs(home, 'login', 'demo'), {
      cwd: root,
      env: { ...process.env, BROWSER: BROWSER_COMMAND, NO_COLOR: '1' },
    });
    for (const line of `${login.stderr}${login.stdout}`.trim().split('\n'))
      detail(line ? `  ${shorten(line)}` : '');
    detail(
      '(discovery, dynamic client registration, PKCE S256, the loopback callback: all in that one command)',
    );
    const status = await manager.status('demo');
    detail(
      `this process reads the same credential: state=${status.state}  expires in ${status.expiresIn} s  scopes=${status.scopes.join(' ')}  client=${status.clientKind}`,
    );

    step(2, "connect('demo'): an SDK v2 client authenticated by the manager");
    const client = await connect('demo', { manager });
    const echo = async (text: string) =>
      ((await client.callTool({ name: 'echo', arguments: { text } })).content as Array<{ text?: string }>)[0]
        ?.text;
    detail(`echo -> ${JSON.stringify(await echo('hello through OAuth'))}`);
    const herd = async () =>
      (await Promise.allSettled(Array.from({ length: HERD }, (_, i) => echo(String(i))))).filter(
        (r) => r.status === 'fulfilled',
      ).length;

    step(3, `An hour later the access token has expired; ${HERD} calls arrive at once`);
    as.resetStats();
    clock.offset += 3600_000 + 1000;
    detail(`succeeded: ${await herd()}/${HERD}`);
    detail(
      `refresh requests at the authorization server: ${as.stats.refreshRequests}, invalid_grant: ${as.stats.invalidGrant}`,
    );
    clock.offset = 0; // back to real time: the refreshed token is valid either way, and the CLI below runs on real time

    step(4, 'Another process refreshes (`mcp-oauth refresh demo`); this one adopts its token');
    as.resetStats();
    const before = await manager.accessToken('demo');
    const changed = new Promise((resolve) => manager.once('credentials-changed', resolve));
    const cli = await execFileAsync(process.execPath, cliArgs(home, 'refresh', 'demo'), { cwd: root });
    detail(`other process: ${cli.stdout.trim().split('\n')[0]}`);
    await changed;
    const after = await manager.accessToken('demo');
    detail(`this process saw credentials-changed; its token changed: ${after !== before ? 'yes' : 'no'}`);
    detail(`echo -> ${JSON.stringify(await echo('with the adopted token'))}`);
    detail(
      `refresh requests at the authorization server: ${as.stats.refreshRequests} (the other process's; this one sent none)`,
    );

    step(5, `The MCP server rejects the current token early (401); ${HERD} calls hit it at once`);
    as.resetStats();
    mcp.resetStats();
    mcp.rejectToken(await manager.accessToken('demo'));
    detail(`succeeded: ${await herd()}/${HERD}`);
    detail(
      `401s answered: ${mcp.stats.unauthorized}, refresh requests: ${as.stats.refreshRequests}, invalid_grant: ${as.stats.invalidGrant}`,
    );

    step(6, 'The grant is revoked at the server, then the token expires');
    as.resetStats();
    mcp.resetStats();
    await as.revokeAllGrants();
    clock.offset += 3600_000 + 1000;
    for (let i = 0; i < 5; i++) {
      const error = await echo('x').catch((e: unknown) => e);
      if (i === 0 && error instanceof NeedsReauthError) {
        detail(`NeedsReauthError: ${error.message}`);
        detail("(that command is illustrative: the demo's home folder is removed at the end)");
      }
    }
    detail(
      `5 calls: refresh requests ${as.stats.refreshRequests} (no retry loop), requests reaching the MCP server ${mcp.stats.requests}`,
    );
    detail(`state=${(await manager.status('demo')).state}`);

    step(7, 'A new login brings the server back, with no reconnect code in the host');
    await manager.login('demo');
    detail(
      `echo -> ${JSON.stringify(await echo('back again'))}  state=${(await manager.status('demo')).state}`,
    );
    detail(`events seen: ${[...new Set(events)].join(', ')}`);
    await client.close();
  }
}

/** A line of the CLI's output, its long authorization URL cut to what is readable. */
function shorten(line: string): string {
  return line.length > 110 ? `${line.slice(0, 100)}…` : line;
}
