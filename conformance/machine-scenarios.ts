/**
 * The conformance suite's extension scenarios for machine and enterprise identities
 * (io.modelcontextprotocol/oauth-client-credentials, enterprise-managed-authorization, auth/wif),
 * configured the way a user configures them: a config.yaml with the `oauth:` keys and `idps:` of
 * the README's "Machines and enterprises" section, built from what the scenario hands the client in
 * MCP_CONFORMANCE_CONTEXT (read from the scenario sources of @modelcontextprotocol/conformance
 * 0.2.0-alpha.12, src/scenarios/client/auth/{client-credentials,enterprise-managed-authorization,
 * wif-jwt-bearer}.ts). Secrets go where users keep them: a key file, a workload token file, an
 * environment variable named by `client_secret_env`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CredentialRecord, configPath, FileCredentialStore } from '../src/index.js';

/** What the machine scenarios put in MCP_CONFORMANCE_CONTEXT. */
export interface MachineContext {
  client_id?: string;
  client_secret?: string;
  /** client-credentials-jwt: the client's ES256 key (PKCS#8 PEM) and its algorithm. */
  private_key_pem?: string;
  signing_algorithm?: string;
  /** enterprise-managed-authorization: the IdP, the client's id there, and an ID token it issued. */
  idp_issuer?: string;
  idp_client_id?: string;
  idp_id_token?: string;
  idp_token_endpoint?: string;
  /** wif-jwt-bearer: the workload's JWT (and two bad ones the scenario does not ask us to send). */
  valid_jwt?: string;
}

/** The scenarios configured here (every other one keeps the authorization-code setup). */
export const MACHINE_SCENARIOS = new Set([
  'auth/client-credentials-basic',
  'auth/client-credentials-jwt',
  'auth/enterprise-managed-authorization',
  'auth/wif-jwt-bearer',
]);

/** The server's name in config.yaml, and the IdP's under `idps:`. */
export const SERVER_NAME = 'conformance';
const IDP_NAME = 'conformance-idp';
const SECRET_ENV = 'MCP_CONFORMANCE_CLIENT_SECRET';

/**
 * Writes `home`/config.yaml for `scenario` (JSON, which YAML reads as it is), plus the files it
 * names under `parent`. For enterprise-managed authorization, the scenario's ID token is stored as
 * the IdP sign-in (the credential `idp:<name>`), as `mcp-oauth login --idp` would leave it: the
 * scenario's IdP has a token endpoint but no login page.
 */
export async function writeMachineConfig(
  scenario: string,
  context: MachineContext,
  serverUrl: string,
  parent: string,
  home: string,
): Promise<void> {
  const need = (key: keyof MachineContext): string => {
    const value = context[key];
    if (!value) throw new Error(`${scenario}: MCP_CONFORMANCE_CONTEXT has no ${key}`);
    return value;
  };
  const oauth: Record<string, unknown> = { client_id: need('client_id') };
  const config: Record<string, unknown> = { servers: { [SERVER_NAME]: { url: serverUrl, oauth } } };
  if (context.client_secret) {
    process.env[SECRET_ENV] = context.client_secret;
    oauth.client_secret_env = SECRET_ENV;
  }
  switch (scenario) {
    case 'auth/client-credentials-basic':
      Object.assign(oauth, {
        grant: 'client_credentials',
        token_endpoint_auth_method: 'client_secret_basic',
      });
      break;
    case 'auth/client-credentials-jwt': {
      const keyFile = join(parent, 'client-key.pem');
      await writeFile(keyFile, need('private_key_pem'), { mode: 0o600 });
      Object.assign(oauth, {
        grant: 'client_credentials',
        token_endpoint_auth_method: 'private_key_jwt',
        private_key_file: keyFile,
      });
      break;
    }
    case 'auth/wif-jwt-bearer': {
      const tokenFile = join(parent, 'workload-token.jwt');
      await writeFile(tokenFile, need('valid_jwt'), { mode: 0o600 });
      Object.assign(oauth, {
        grant: 'jwt_bearer',
        token_endpoint_auth_method: 'none',
        workload_token_file: tokenFile,
      });
      break;
    }
    case 'auth/enterprise-managed-authorization': {
      Object.assign(oauth, {
        grant: 'jwt_bearer',
        token_endpoint_auth_method: 'client_secret_basic',
        idp: IDP_NAME,
      });
      config.idps = { [IDP_NAME]: { issuer: need('idp_issuer'), client_id: need('idp_client_id') } };
      break;
    }
    default:
      throw new Error(`${scenario} is not a machine scenario`);
  }
  await mkdir(home, { recursive: true, mode: 0o700 });
  await writeFile(configPath(home), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  if (scenario === 'auth/enterprise-managed-authorization') {
    await storeIdpSignIn(home, need('idp_issuer'), need('idp_client_id'), need('idp_id_token'));
  }
}

/** Stores `idToken` as the sign-in to the scenario's IdP, the record `login --idp` writes. */
async function storeIdpSignIn(
  home: string,
  issuer: string,
  clientId: string,
  idToken: string,
): Promise<void> {
  const server = `idp:${IDP_NAME}`;
  const now = Date.now();
  const exp = (
    JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number }
  ).exp;
  const record: CredentialRecord = {
    schemaVersion: 1,
    recordId: randomUUID(),
    generation: 0,
    server,
    binding: { serverUrl: issuer, issuer, clientId },
    client: { kind: 'preregistered', information: { client_id: clientId } },
    tokens: {
      accessToken: idToken,
      tokenType: 'N_A',
      expiresAt: typeof exp === 'number' ? exp * 1000 : null,
      obtainedAt: now,
    },
    state: 'valid',
    updatedAt: now,
  };
  const store = new FileCredentialStore({ home, watch: false });
  try {
    const result = await store.put({ server }, record, null);
    if (!result.ok) throw new Error(`could not store the IdP sign-in for ${server}`);
  } finally {
    await store.close();
  }
}
