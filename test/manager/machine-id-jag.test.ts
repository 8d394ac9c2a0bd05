import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { NeedsReauthError, OAuthManager } from '../../src/index.js';
import {
  JWT_BEARER_GRANT_TYPE,
  machineClient,
  startAuthorizationServer,
  startIdentityProvider,
  startMcpServer,
  type TestMcpServer,
} from '../kit/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { FakeClock } from '../support/fake-clock.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { machineChildren, machineRound, writeConfig } from './machine-setup.js';

const cleanups = useCleanups();
const SERVERS = ['s1', 's2', 's3'];

/**
 * One enterprise IdP, one MCP authorization server trusting it, three MCP servers behind that
 * authorization server, every one configured with `oauth.idp: corp`; a manager on a fake clock.
 */
async function enterpriseBed() {
  process.env.MACHINE_IDP_SECRET = 'kit-idp-secret';
  process.env.MACHINE_XAA_SECRET = 'xaa-secret';
  // The assertion outlives the access tokens: an expiry of the latter is not one of the former.
  const idp = await startIdentityProvider({ idTokenTtlSeconds: 7200 });
  cleanups.push(() => idp.close());
  const as = await startAuthorizationServer({
    accessTokenTtlSeconds: 600,
    clients: [
      machineClient({
        clientId: 'xaa-client',
        authMethod: 'client_secret_basic',
        secret: 'xaa-secret',
        grantTypes: [JWT_BEARER_GRANT_TYPE],
      }),
    ],
    trustedIdentityProviders: [idp.trustedIssuer],
  });
  cleanups.push(() => as.close());
  idp.setClientIdAt(as.issuer, 'xaa-client');
  const mcps: TestMcpServer[] = [];
  for (const _ of SERVERS) {
    const mcp = await startMcpServer({ authorizationServer: as.issuer });
    cleanups.push(() => mcp.close());
    mcps.push(mcp);
  }
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  await writeConfig(home, {
    idps: { corp: { issuer: idp.issuer, client_id: idp.clientId, client_secret_env: 'MACHINE_IDP_SECRET' } },
    servers: Object.fromEntries(
      SERVERS.map((name, i) => [
        name,
        {
          url: mcps[i]!.url,
          oauth: { idp: 'corp', client_id: 'xaa-client', client_secret_env: 'MACHINE_XAA_SECRET' },
        },
      ]),
    ),
  });
  const clock = new FakeClock();
  const manager = new OAuthManager({ home, clock, interactive: 'never', openBrowser: scriptedBrowserHook() });
  cleanups.push(() => manager.close());
  const config = await loadConfig(home);
  for (const server of config.servers.values())
    manager.getOrBuildProvider(server.name, server.url, server.oauth);
  const corp = config.idps.get('corp');
  if (!corp || corp instanceof Error) throw new Error('idps.corp did not load');
  return { idp, as, mcps, home, clock, manager, corp };
}

describe('enterprise-managed authorization (ID-JAG)', () => {
  it('3 servers trusting one IdP, 8 processes after expiry: one IdP sign-in, at most 1 exchange per server, the assertion reused', async () => {
    const { idp, as, home, manager, corp } = await enterpriseBed();
    // Before the sign-in: the command to run is named, no request is sent.
    const before = await manager.accessToken('s1').catch((e: unknown) => e);
    expect(before).toBeInstanceOf(NeedsReauthError);
    expect((before as NeedsReauthError).command).toContain('login --idp corp');
    expect(idp.stats.exchangeRequests).toBe(0);

    const signedIn = await manager.loginIdentityProvider(corp);
    expect(signedIn).toMatchObject({ idp: 'corp', issuer: idp.issuer });
    for (const server of SERVERS) await manager.accessToken(server);
    expect(idp.stats.exchanges).toBe(3);
    expect((await manager.status('s1')).grant).toBe('id_jag');
    const expiry = Math.max(
      ...(await Promise.all(SERVERS.map(async (s) => Date.parse((await manager.status(s)).expiresAt!)))),
    );

    const kids = await machineChildren(cleanups, 8, home);
    idp.resetStats();
    as.resetStats();
    for (const server of SERVERS) {
      const results = await machineRound(kids, expiry + 1000, server, 3);
      for (const result of results) expect(result, result.errors.join('; ')).toMatchObject({ failed: 0 });
    }
    for (const mcpResource of Object.keys(idp.stats.exchangesByResource))
      expect(idp.stats.exchangesByResource[mcpResource]).toBeLessThanOrEqual(1);
    expect(idp.stats.exchanges).toBe(3);
    expect(as.stats.grantRequests[JWT_BEARER_GRANT_TYPE]).toBe(3);
    // One sign-in, one assertion for every exchange.
    expect(idp.stats.authorizations).toBe(0);
    expect(new Set(idp.stats.subjectTokenDigests).size).toBe(1);
  }, 600_000);

  it('an expired IdP assertion: NeedsReauthError naming `mcp-oauth login --idp corp`, no exchange sent', async () => {
    const { idp, clock, manager, corp } = await enterpriseBed();
    await manager.loginIdentityProvider(corp);
    expect(idp.stats.authorizations).toBe(1);
    await manager.accessToken('s2');
    idp.resetStats();
    clock.set(Date.now() + 8000 * 1000);
    const error = await manager.accessToken('s2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeedsReauthError);
    expect((error as NeedsReauthError).command).toMatch(/mcp-oauth --home .* login --idp corp$/);
    expect((error as Error).message).toContain("identity provider 'corp'");
    expect(idp.stats.exchangeRequests).toBe(0);
  }, 120_000);
});
