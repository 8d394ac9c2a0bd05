import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MACHINE_SCENARIOS, SERVER_NAME, writeMachineConfig } from '../../conformance/machine-scenarios.js';
import { loadConfig } from '../../src/index.js';

// The conformance client's machine scenarios write a config.yaml the library must accept as it
// stands (the suite only shows that later, as a failed scenario): each one, from a context shaped
// like the suite's, loads into the OAuthConfig the grant needs.

const SERVER = 'http://localhost:4100/mcp';
const CONTEXTS: Record<string, Record<string, string>> = {
  'auth/client-credentials-basic': {
    client_id: 'conformance-test-client',
    client_secret: 'conformance-test-secret',
  },
  'auth/client-credentials-jwt': {
    client_id: 'conformance-test-client',
    private_key_pem: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n',
    signing_algorithm: 'ES256',
  },
  'auth/wif-jwt-bearer': { client_id: 'conformance-wif-workload', valid_jwt: 'h.eyJleHAiOjF9.s' },
  'auth/enterprise-managed-authorization': {
    client_id: 'conformance-test-xaa-client',
    client_secret: 'conformance-test-xaa-secret',
    idp_client_id: 'conformance-test-idp-client',
    idp_id_token: `h.${Buffer.from(JSON.stringify({ exp: 4102444800 })).toString('base64url')}.s`,
    idp_issuer: 'http://localhost:4101',
    idp_token_endpoint: 'http://localhost:4101/token',
  },
};

describe('conformance machine scenarios: the config.yaml they write', () => {
  let parent: string | undefined;
  afterEach(async () => {
    if (parent) await rm(parent, { recursive: true, force: true });
    delete process.env.MCP_CONFORMANCE_CLIENT_SECRET;
  });

  it('covers every machine scenario', () => {
    expect([...MACHINE_SCENARIOS].sort()).toEqual(Object.keys(CONTEXTS).sort());
  });

  it.each(Object.keys(CONTEXTS))('%s: loads with the grant it needs', async (scenario) => {
    parent = await mkdtemp(join(tmpdir(), 'conformance-machine-'));
    const home = join(parent, 'home');
    await writeMachineConfig(scenario, CONTEXTS[scenario] ?? {}, SERVER, parent, home);
    const config = await loadConfig(home);
    const server = config.servers.get(SERVER_NAME);
    expect(server?.error).toBeUndefined();
    expect(server?.url).toBe(SERVER);
    const oauth = server?.oauth ?? {};
    switch (scenario) {
      case 'auth/client-credentials-basic':
        expect(oauth).toMatchObject({
          grant: 'client_credentials',
          tokenEndpointAuthMethod: 'client_secret_basic',
          clientId: 'conformance-test-client',
          clientSecret: 'conformance-test-secret',
        });
        break;
      case 'auth/client-credentials-jwt':
        expect(oauth).toMatchObject({
          grant: 'client_credentials',
          tokenEndpointAuthMethod: 'private_key_jwt',
        });
        expect(await readFile(oauth.privateKeyFile ?? '', 'utf8')).toContain('BEGIN PRIVATE KEY');
        break;
      case 'auth/wif-jwt-bearer':
        expect(oauth).toMatchObject({ grant: 'jwt_bearer', tokenEndpointAuthMethod: 'none' });
        expect(await readFile(oauth.workloadTokenFile ?? '', 'utf8')).toBe('h.eyJleHAiOjF9.s');
        break;
      default:
        expect(oauth).toMatchObject({
          grant: 'jwt_bearer',
          identityProvider: {
            name: 'conformance-idp',
            issuer: 'http://localhost:4101',
            clientId: 'conformance-test-idp-client',
          },
        });
    }
  });
});
