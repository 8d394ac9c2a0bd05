/**
 * `npm start`: the embedded demo. Starts a real authorization server (oidc-provider) and a real
 * MCP server (the SDK's) on 127.0.0.1, logs in through a scripted browser, and shows the manager
 * at work through `connect()`. Leaves nothing running. Until you configure real servers, this is
 * the main job.
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
import { scriptedBrowserHook } from '../test/support/browser-hook.js';

const HERD = 200;
const root = fileURLToPath(new URL('../', import.meta.url));
const step = (n: number, text: string) => console.log(`\n${n}. ${text}`);
const detail = (text: string) => console.log(`   ${text}`);

/** The demo's clock: real time plus a jump, so "an hour later" takes no hour. */
class DemoClock implements Clock {
  offset = 0;
  now() {
    return Date.now() + this.offset;
  }
}

async function main(): Promise<void> {
  const parent = await mkdtemp(join(tmpdir(), 'mcp-oauth-demo-'));
  const home = join(parent, 'home');
  const as = await startAuthorizationServer();
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  const clock = new DemoClock();
  const manager = new OAuthManager({ home, clock, interactive: 'never', openBrowser: scriptedBrowserHook() });
  const events: string[] = [];
  manager.on('credentials-changed', (e) => events.push(`credentials-changed (${e.reason})`));
  manager.on('needs-reauth', () => events.push('needs-reauth'));
  try {
    console.log('mcp-oauth-manager demo: everything below runs on 127.0.0.1 and stops by itself.');
    detail(
      `authorization server  ${as.issuer}  (oidc-provider: DCR, PKCE S256, rotating refresh tokens with reuse detection)`,
    );
    detail(`MCP server            ${mcp.url}  (MCP SDK, bearer auth, RFC 9728 metadata)`);
    detail(`home folder           ${home}`);
    await addServer(home, { name: 'demo', url: mcp.url });

    step(1, 'Log in: discovery, dynamic client registration, PKCE, loopback callback (a scripted browser)');
    await manager.login('demo');
    const status = await manager.status('demo');
    detail(
      `state=${status.state}  expires in ${status.expiresIn} s  scopes=${status.scopes.join(' ')}  client=${status.clientKind}`,
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
    const cli = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', '--home', home, 'refresh', 'demo'],
      { cwd: root },
    );
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
      if (i === 0 && error instanceof NeedsReauthError) detail(`NeedsReauthError: ${error.message}`);
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
    console.log('\nDone: every server above is stopped and the demo home folder removed.');
  } finally {
    await manager.close();
    await mcp.close();
    await as.close();
    await rm(parent, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
