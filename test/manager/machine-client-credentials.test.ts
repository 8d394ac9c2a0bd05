import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError, OAuthManager } from '../../src/index.js';
import { machineClient, startAuthorizationServer, startMcpServer } from '../kit/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { machineChildren, machineRound, writeConfig } from './machine-setup.js';

const cleanups = useCleanups();

async function clientKey(alg = 'ES256') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg }] };
  return { pem: await exportPKCS8(privateKey), jwks };
}

/** The kit AS with the given machine clients, an MCP server trusting it, and a home whose config names it. */
async function machineBed(clients: Parameters<typeof machineClient>[0][], oauth: Record<string, unknown>) {
  const as = await startAuthorizationServer({ clients: clients.map(machineClient) });
  cleanups.push(() => as.close());
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  cleanups.push(() => mcp.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  await writeConfig(home, { servers: { demo: { url: mcp.url, oauth } } });
  const clock = new FakeClock();
  const manager = new OAuthManager({ home, clock, interactive: 'never' });
  cleanups.push(() => manager.close());
  const server = (await loadConfig(home)).servers.get('demo')!;
  manager.getOrBuildProvider('demo', server.url, server.oauth);
  return { as, mcp, home, clock, manager };
}

describe('client credentials: minted through the refresh transaction', () => {
  it('16 processes after expiry: exactly 1 token request at the authorization server, every call succeeds', async () => {
    process.env.MACHINE_TEST_SECRET = 'basic-secret';
    const { as, home, manager } = await machineBed(
      [{ clientId: 'cc-basic', authMethod: 'client_secret_basic', secret: 'basic-secret' }],
      { grant: 'client_credentials', client_id: 'cc-basic', client_secret_env: 'MACHINE_TEST_SECRET' },
    );
    // `login` of a client-credentials server mints once and reports; no browser.
    const login = await manager.login('demo');
    expect(login.status).toMatchObject({ state: 'valid', grant: 'client_credentials' });
    expect(as.stats.grantSuccesses.client_credentials).toBe(1);
    const expiresAt = Date.parse(login.status.expiresAt!);
    const kids = await machineChildren(cleanups, 16, home);
    as.resetStats();
    const results = await machineRound(kids, expiresAt + 1000, 'demo', 5);
    for (const result of results)
      expect(result, result.errors.join('; ')).toMatchObject({ failed: 0, ok: 5 });
    expect(as.stats.grantRequests.client_credentials).toBe(1);
    expect(as.stats.tokenRequests).toBe(1);
  }, 600_000);

  it('client_secret_post: the secret goes in the body; status shows the grant', async () => {
    process.env.MACHINE_TEST_POST = 'post-secret';
    const { as, manager } = await machineBed(
      [{ clientId: 'cc-post', authMethod: 'client_secret_post', secret: 'post-secret' }],
      {
        grant: 'client_credentials',
        client_id: 'cc-post',
        client_secret_env: 'MACHINE_TEST_POST',
        token_endpoint_auth_method: 'client_secret_post',
      },
    );
    await manager.accessToken('demo');
    expect(as.stats.grantSuccesses.client_credentials).toBe(1);
    expect(await manager.status('demo')).toMatchObject({
      state: 'valid',
      grant: 'client_credentials',
      clientKind: 'preregistered',
    });
  }, 60_000);

  it('a wrong secret is a ConfigError naming the server and the client id, never a login', async () => {
    process.env.MACHINE_TEST_WRONG = 'not-the-secret';
    const { manager } = await machineBed(
      [{ clientId: 'cc-basic', authMethod: 'client_secret_basic', secret: 'basic-secret' }],
      { grant: 'client_credentials', client_id: 'cc-basic', client_secret_env: 'MACHINE_TEST_WRONG' },
    );
    const error = await manager.accessToken('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("'demo'");
    expect((error as Error).message).toContain('cc-basic');
    expect((error as Error).message).not.toContain('not-the-secret');
  }, 60_000);
});

describe('private_key_jwt', () => {
  it('every mint sends a fresh assertion: iss = sub = client_id, aud the issuer, short exp, jti never repeated', async () => {
    const key = await clientKey();
    const { home: keyHome, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await writeConfig(keyHome, {});
    const keyFile = join(keyHome, 'client-key.pem');
    await writeFile(keyFile, key.pem, { mode: 0o600 });
    const { as, clock, manager } = await machineBed(
      [{ clientId: 'cc-jwt', authMethod: 'private_key_jwt', jwks: key.jwks }],
      {
        grant: 'client_credentials',
        client_id: 'cc-jwt',
        token_endpoint_auth_method: 'private_key_jwt',
        private_key_file: keyFile,
        key_id: 'k1',
      },
    );
    const mints = 4;
    for (let i = 0; i < mints; i++) {
      await manager.accessToken('demo');
      // Past this token's expiry on the client's clock: the next call mints again.
      const status = await manager.status('demo');
      clock.set(Date.parse(status.expiresAt!) + 1000);
    }
    const assertions = as.stats.clientAssertions;
    expect(assertions).toHaveLength(mints);
    for (const a of assertions) {
      expect(a).toMatchObject({ iss: 'cc-jwt', sub: 'cc-jwt', status: 200, error: '' });
      expect([a.aud].flat()).toContain(as.issuer);
      expect(a.exp! - a.iat!).toBeLessThanOrEqual(60);
    }
    expect(new Set(assertions.map((a) => a.jti)).size).toBe(mints);
    expect(as.stats.replayedClientAssertions).toBe(0);
  }, 60_000);

  it('a wrong key is a ConfigError naming the key file; an unsafe key file is refused before any request', async () => {
    const registered = await clientKey();
    const other = await clientKey();
    const { home: keyHome, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await writeConfig(keyHome, {});
    const keyFile = join(keyHome, 'wrong-key.pem');
    await writeFile(keyFile, other.pem, { mode: 0o600 });
    const { as, manager } = await machineBed(
      [{ clientId: 'cc-jwt', authMethod: 'private_key_jwt', jwks: registered.jwks }],
      { grant: 'client_credentials', client_id: 'cc-jwt', private_key_file: keyFile },
    );
    const error = await manager.accessToken('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(keyFile);
    expect(as.stats.clientAssertions).toHaveLength(1);

    await chmod(keyFile, 0o666);
    as.resetStats();
    const unsafe = await manager.accessToken('demo').catch((e: unknown) => e);
    expect(unsafe).toBeInstanceOf(ConfigError);
    expect((unsafe as Error).message).toContain(keyFile);
    expect(as.stats.tokenRequests).toBe(0);
  }, 60_000);
});
