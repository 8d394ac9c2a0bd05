import { describe, expect, it } from 'vitest';
import {
  JWT_BEARER_GRANT_TYPE,
  machineClient,
  startAuthorizationServer,
  startIdentityProvider,
  startMcpServer,
} from '../kit/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { runCli, writeConfig } from './harness.js';

const cleanups = useCleanups();

describe('mcp-oauth with machine and enterprise grants', () => {
  it('login of a client-credentials server mints once and reports; status shows the grant; token prints it', async () => {
    const as = await startAuthorizationServer({
      clients: [
        machineClient({ clientId: 'cc-basic', authMethod: 'client_secret_basic', secret: 'basic-secret' }),
      ],
    });
    cleanups.push(() => as.close());
    const mcp = await startMcpServer({ authorizationServer: as.issuer });
    cleanups.push(() => mcp.close());
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await writeConfig(
      home,
      `servers:\n  demo:\n    url: ${mcp.url}\n    oauth: { grant: client_credentials, client_id: cc-basic, client_secret_env: CC_SECRET }\n`,
    );
    const env = { CC_SECRET: 'basic-secret' };
    const login = await runCli(['--home', home, 'login', 'demo'], { env });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('Obtained a token for demo (client_credentials');
    expect(as.stats.grantSuccesses.client_credentials).toBe(1);

    const status = await runCli(['--home', home, '--json', 'status'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).servers[0]).toMatchObject({
      name: 'demo',
      state: 'valid',
      grant: 'client_credentials',
    });
    const token = await runCli(['--home', home, 'token', 'demo'], { env });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim().length).toBeGreaterThan(20);
    expect(as.stats.tokenRequests).toBe(1);
    for (const out of [login, status].flatMap((r) => [r.stdout, r.stderr]))
      expect(out).not.toContain('basic-secret');
  }, 120_000);

  it('login --idp signs in at the identity provider; servers with oauth.idp then get tokens with no browser', async () => {
    const idp = await startIdentityProvider();
    cleanups.push(() => idp.close());
    const as = await startAuthorizationServer({
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
    const mcp = await startMcpServer({ authorizationServer: as.issuer });
    cleanups.push(() => mcp.close());
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await writeConfig(
      home,
      [
        'idps:',
        `  corp: { issuer: "${idp.issuer}", client_id: ${idp.clientId}, client_secret_env: IDP_SECRET }`,
        'servers:',
        '  chat:',
        `    url: ${mcp.url}`,
        '    oauth: { idp: corp, client_id: xaa-client, client_secret_env: XAA_SECRET }',
        '',
      ].join('\n'),
    );
    const env = { IDP_SECRET: 'kit-idp-secret', XAA_SECRET: 'xaa-secret' };
    const before = await runCli(['--home', home, 'token', 'chat'], { env });
    expect(before.code).toBe(3);
    expect(before.stderr).toContain('login --idp corp');

    const login = await runCli(['--home', home, 'login', '--idp', 'corp'], {
      env,
      openBrowser: scriptedBrowserHook(),
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('Signed in at identity provider corp');
    expect(idp.stats.authorizations).toBe(1);

    const token = await runCli(['--home', home, 'token', 'chat'], { env });
    expect(token.code, token.stderr).toBe(0);
    expect(idp.stats.exchanges).toBe(1);
    const status = await runCli(['--home', home, '--json', 'status', 'chat'], { env });
    expect(JSON.parse(status.stdout).servers[0]).toMatchObject({ state: 'valid', grant: 'id_jag' });

    const unknown = await runCli(['--home', home, 'login', '--idp', 'nope'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('corp');
  }, 120_000);
});
