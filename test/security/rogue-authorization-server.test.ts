/**
 * A configured client's secret goes only to the authorization server it belongs to. Real servers
 * on 127.0.0.1: the kit's authorization server with a confidential client registered out of band
 * (what `client_id` + `client_secret_env` configure), the kit's MCP server behind a proxy that is
 * its public origin, and a rogue authorization server on another origin that records every
 * request. The proxy rewrites the MCP server's 401 challenge so that its `resource_metadata`
 * points to the rogue's origin, whose protected-resource metadata names the rogue as the
 * authorization server of the MCP server: without a binding, the login followed it and sent the
 * client id, the secret (Basic auth) and the code to the rogue.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError, LoginError, type OAuthConfig, OAuthManager } from '../../src/index.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { connectV2, textOf } from '../support/mcp-client.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { preRegisterConfidentialClient } from './support/confidential-client.js';
import {
  type RogueAuthorizationServer,
  startChallengeRewritingProxy,
  startRogueAuthorizationServer,
} from './support/rogue-authorization-server.js';

const cleanups = useCleanups();
const SERVER = 'demo';

async function bed(options: { issuer?: 'kit' } = {}) {
  const as = await startAuthorizationServer();
  cleanups.push(() => as.close());
  const proxy = await startChallengeRewritingProxy();
  cleanups.push(() => proxy.close());
  const mcp = await startMcpServer({ authorizationServer: as.issuer, publicOrigin: proxy.origin });
  cleanups.push(() => mcp.close());
  proxy.setTarget(mcp.listenUrl);
  const rogue = await startRogueAuthorizationServer();
  cleanups.push(() => rogue.close());
  rogue.resource = mcp.url;
  const client = await preRegisterConfidentialClient(as, SERVER);
  const config: OAuthConfig = {
    ...client,
    ...(options.issuer === 'kit' ? { issuer: as.issuer } : {}),
  };
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const opened = { opened: 0 };
  const manager = new OAuthManager({
    home,
    interactive: 'always',
    openBrowser: scriptedBrowserHook(opened),
  });
  cleanups.push(() => manager.close());
  const provider = manager.getOrBuildProvider(SERVER, mcp.url, config);
  return { as, proxy, mcp, rogue, client, config, manager, provider, opened };
}

/** Everything the rogue received that carries the client's credentials, a code or a token. */
function leaks(rogue: RogueAuthorizationServer, secret: string, clientId: string): string[] {
  const found: string[] = [];
  for (const r of rogue.requests) {
    const basic = /^basic\s+(\S+)/i.exec(r.authorization ?? '')?.[1];
    const decoded = basic ? Buffer.from(basic, 'base64').toString('utf8') : '';
    const everything = `${r.query} ${r.body} ${r.authorization ?? ''} ${decoded} ${decodeURIComponent(r.body)}`;
    if (everything.includes(secret)) found.push(`${r.method} ${r.path}: the client secret`);
    if (everything.includes(clientId)) found.push(`${r.method} ${r.path}: the client id`);
    if (/(^|[?&])(code|code_verifier|refresh_token|access_token)=/.test(`${r.query}&${r.body}`))
      found.push(`${r.method} ${r.path}: a code or token`);
  }
  return found;
}

async function failure(work: Promise<unknown>): Promise<Error> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('a configured client and a challenge that points to another origin', () => {
  it('first use: the secret is not sent to the rogue named by a challenge on another origin', async () => {
    const { as, proxy, mcp, rogue, client, manager, provider, opened } = await bed();
    proxy.setResourceMetadata(rogue.prmUrl);

    const error = await failure(connectV2(mcp.url, provider));

    expect(proxy.rewritten).toBeGreaterThanOrEqual(1);
    expect(leaks(rogue, client.clientSecret, client.clientId)).toEqual([]);
    expect(rogue.actionRequests().map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(opened.opened).toBe(0);
    const login = await failure(manager.login(SERVER, { resourceMetadataUrl: new URL(rogue.prmUrl) }));
    expect(login).toBeInstanceOf(LoginError);
    for (const message of [error.message, login.message]) {
      expect(message).toContain(rogue.issuer);
      expect(message).toContain(as.issuer);
      expect(message).toContain('oauth.issuer');
    }
    expect(rogue.actionRequests()).toEqual([]);
    expect((await manager.status(SERVER)).state).toBe('logged_out');
    expect(as.stats.tokenRequests).toBe(0);
  });

  it('first use: a challenge on another origin that names the same authorization server logs in', async () => {
    const { as, proxy, mcp, rogue, manager, provider, opened } = await bed();
    rogue.namedIssuer = as.issuer;
    proxy.setResourceMetadata(rogue.prmUrl);

    const client = await connectV2(mcp.url, provider);
    cleanups.push(() => client.close());
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    expect(opened.opened).toBe(1);
    expect(as.stats.authorizationCodeGrants).toBe(1);
    expect(rogue.actionRequests()).toEqual([]);
    expect((await manager.status(SERVER)).issuer).toBe(as.issuer);
  });

  it('oauth.issuer: a login that discovers another issuer fails naming both, for every flow', async () => {
    const { as, proxy, mcp, rogue, client, manager, provider, opened } = await bed({ issuer: 'kit' });
    proxy.setResourceMetadata(rogue.prmUrl);

    const viaChallenge = await failure(connectV2(mcp.url, provider));
    const device = await failure(
      manager.login(SERVER, { flow: 'device', resourceMetadataUrl: new URL(rogue.prmUrl) }),
    );

    expect(device).toBeInstanceOf(LoginError);
    for (const message of [viaChallenge.message, device.message]) {
      expect(message).toContain(rogue.issuer);
      expect(message).toContain(as.issuer);
      expect(message).toContain('oauth.issuer');
    }
    expect(leaks(rogue, client.clientSecret, client.clientId)).toEqual([]);
    expect(rogue.actionRequests()).toEqual([]);
    expect(opened.opened).toBe(0);
  });

  it('bound by its first login: the server later naming another issuer fails, the credential is kept', async () => {
    const { as, proxy, mcp, rogue, client, manager, opened } = await bed();
    await manager.login(SERVER);
    expect((await manager.status(SERVER)).issuer).toBe(as.issuer);
    const token = await manager.accessToken(SERVER);
    // The server's own metadata (its own origin, no challenge involved) now names the rogue.
    proxy.setOwnResourceMetadata({ resource: mcp.url, authorization_servers: [rogue.issuer] });

    const error = await failure(manager.login(SERVER));

    expect(error).toBeInstanceOf(LoginError);
    expect(error.message).toContain(rogue.issuer);
    expect(error.message).toContain(as.issuer);
    expect(error.message).toContain('oauth.issuer');
    expect(error.message).toContain(`mcp-oauth logout ${SERVER} --reset`);
    expect(leaks(rogue, client.clientSecret, client.clientId)).toEqual([]);
    expect(rogue.actionRequests()).toEqual([]);
    expect(opened.opened).toBe(1);
    expect(await manager.accessToken(SERVER)).toBe(token);
  });
});

describe('oauth.issuer in config.yaml', () => {
  async function load(issuerLine: string) {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await mkdir(home, { mode: 0o700 });
    await writeFile(
      join(home, 'config.yaml'),
      `servers:\n  demo:\n    url: https://mcp.example.com/mcp\n    oauth:\n      client_id: my-client\n      ${issuerLine}\n`,
      { mode: 0o600 },
    );
    return loadConfig(home, {});
  }

  it('is read into OAuthConfig.issuer', async () => {
    const loaded = await load('issuer: https://auth.example.com');
    expect(loaded.servers.get('demo')?.oauth).toEqual({
      clientId: 'my-client',
      issuer: 'https://auth.example.com',
    });
  });

  it.each([
    'issuer: http://auth.example.com',
    'issuer: https://auth.example.com/?tenant=a',
    'issuer: https://auth.example.com/#x',
    'issuer: auth.example.com',
    'issuer: ""',
  ])('refuses %s with the rule', async (line) => {
    const error = await load(line).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('oauth.issuer must be the issuer identifier');
  });
});
