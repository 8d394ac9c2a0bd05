/**
 * `npm start`: the embedded demo. Starts a real authorization server (oidc-provider) and a real
 * MCP server (the SDK's) on 127.0.0.1, logs in through a scripted browser, and shows the manager
 * at work. Leaves nothing running. Until you configure real servers, this is the main job.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { type Clock, NeedsReauthError, OAuthManager } from '../src/index.js';
import { startAuthorizationServer } from '../test/kit/authorization-server.js';
import { startMcpServer } from '../test/kit/mcp-server.js';
import { scriptedBrowserHook } from '../test/support/browser-hook.js';

const HERD = 200;
const step = (n: number, text: string) => console.log(`\n${n}. ${text}`);
const detail = (text: string) => console.log(`   ${text}`);

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
  try {
    console.log('mcp-oauth-manager demo: everything below runs on 127.0.0.1 and stops by itself.');
    detail(`authorization server  ${as.issuer}  (oidc-provider: DCR, PKCE S256, rotating refresh tokens)`);
    detail(`MCP server            ${mcp.url}  (MCP SDK, bearer auth, RFC 9728 metadata)`);
    detail(`credential home       ${home}`);

    step(1, 'Log in (discovery, dynamic client registration, PKCE, loopback callback, scripted browser)');
    const provider = manager.getOrBuildProvider('demo', mcp.url);
    await manager.login('demo');
    const status = await manager.status('demo');
    detail(
      `state=${status.state}  expires in ${status.expiresIn} s  scopes=${status.scopes.join(' ')}  client=${status.clientKind}`,
    );

    step(2, 'Call a tool through the MCP SDK v2 client with { authProvider: p, fetch: p.fetch }');
    const client = new Client({ name: 'demo-host', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider, fetch: provider.fetch }),
    );
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hello through OAuth' } });
    detail(`echo -> ${JSON.stringify((echoed.content as Array<{ text?: string }>)[0]?.text)}`);

    step(3, `The access token expires; ${HERD} concurrent calls arrive at once`);
    as.resetStats();
    clock.offset += 3600_000 + 1000;
    let results = await Promise.allSettled(
      Array.from({ length: HERD }, (_, i) =>
        client.callTool({ name: 'echo', arguments: { text: String(i) } }),
      ),
    );
    detail(`succeeded: ${results.filter((r) => r.status === 'fulfilled').length}/${HERD}`);
    detail(
      `refresh requests at the authorization server: ${as.stats.refreshRequests} (npm run bench compares the SDK alone)`,
    );

    step(4, `The MCP server rejects the current token early (401); ${HERD} calls hit it at once`);
    as.resetStats();
    mcp.resetStats();
    mcp.rejectToken(await provider.token());
    results = await Promise.allSettled(
      Array.from({ length: HERD }, (_, i) =>
        client.callTool({ name: 'echo', arguments: { text: String(i) } }),
      ),
    );
    detail(`succeeded: ${results.filter((r) => r.status === 'fulfilled').length}/${HERD}`);
    detail(
      `401s answered: ${mcp.stats.unauthorized}, refresh requests: ${as.stats.refreshRequests}, invalid_grant: ${as.stats.invalidGrant}`,
    );

    step(5, 'The grant is revoked at the server, then the token expires');
    as.resetStats();
    await as.revokeAllGrants();
    clock.offset += 3600_000 + 1000;
    for (let i = 0; i < 5; i++) {
      const error = await provider.token().catch((e: unknown) => e);
      if (i === 0 && error instanceof NeedsReauthError) detail(`NeedsReauthError: ${error.message}`);
    }
    detail(
      `5 calls, refresh requests: ${as.stats.refreshRequests} (no retry loop); state=${(await manager.status('demo')).state}`,
    );

    step(6, 'A new login brings the server back');
    await manager.login('demo');
    const again = await client.callTool({ name: 'echo', arguments: { text: 'back again' } });
    detail(
      `echo -> ${JSON.stringify((again.content as Array<{ text?: string }>)[0]?.text)}  state=${(await manager.status('demo')).state}`,
    );
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
