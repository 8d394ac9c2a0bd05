/**
 * A confidential client registered at the kit's authorization server out of band, as an
 * administrator does in a console before writing `client_id` and the secret into `config.yaml`:
 * for tests of configured clients (test/security/rogue-authorization-server.test.ts,
 * secret-registry.test.ts).
 */
import { createServer } from 'node:net';
import { callbackPath } from '../../../src/oauth/authorization-code-flow.js';
import type { TestAuthorizationServer } from '../../kit/authorization-server.js';

/** A port on 127.0.0.1 that was free a moment ago (the client's fixed redirect port). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** What the configuration of a pre-registered confidential client holds. */
export interface ConfidentialClient {
  clientId: string;
  clientSecret: string;
  redirectPort: number;
}

/**
 * Registers a confidential client (`client_secret_basic`) at `as` for the loopback redirect of
 * server `server` on a fixed port, through the server's registration endpoint.
 */
export async function preRegisterConfidentialClient(
  as: TestAuthorizationServer,
  server: string,
): Promise<ConfidentialClient> {
  const redirectPort = await freePort();
  const response = await fetch(`${as.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'pre-registered confidential client',
      application_type: 'native',
      redirect_uris: [`http://127.0.0.1:${redirectPort}${callbackPath(server)}`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  });
  if (response.status !== 201) throw new Error(`registration answered ${response.status}`);
  const body = (await response.json()) as { client_id: string; client_secret: string };
  return { clientId: body.client_id, clientSecret: body.client_secret, redirectPort };
}
