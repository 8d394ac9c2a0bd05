/**
 * Structural redaction: every secret the library holds is registered with the redactor where the
 * library first holds it, so `redactText` masks it as a bare value in any text, where no pattern
 * (a `name=value` pair, a JSON field, an authorization header) would find it. A real login and a
 * real refresh through the manager: the kit's authorization server with a confidential client
 * whose secret `config.yaml` names by `client_secret_env`, and the kit's MCP server. What went
 * over the wire is seen through the manager's `fetch` option (it passes every request on).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FetchLike } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { OAuthManager } from '../../src/index.js';
import { redactText, registeredSecretCount } from '../../src/logger.js';
import { startAuthorizationServer, TOKEN_PATH } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { preRegisterConfidentialClient } from './support/confidential-client.js';

const cleanups = useCleanups();
const SERVER = 'demo';

interface TokenExchange {
  form: URLSearchParams;
  response: Record<string, unknown>;
}

/** A fetch that passes everything on and keeps each token request's form and JSON answer. */
function recordingFetch(exchanges: TokenExchange[]): FetchLike {
  return async (url, init) => {
    const response = await fetch(url, init);
    const href = typeof url === 'string' ? url : url.href;
    const body = init?.body;
    if (
      new URL(href).pathname === TOKEN_PATH &&
      (typeof body === 'string' || body instanceof URLSearchParams)
    ) {
      exchanges.push({
        form: new URLSearchParams(body),
        response: (await response.clone().json()) as Record<string, unknown>,
      });
    }
    return response;
  };
}

/** The values of `values` that `redactText` leaves readable when they stand alone in free text. */
function unmasked(values: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    expect(value, name).toEqual(expect.any(String));
    const text = `while talking to the server: ${value} (and more)`;
    if (redactText(text).includes(value as string)) out.push(name);
  }
  return out;
}

describe('the secret registry after a real login and refresh', () => {
  it('masks the code verifier, the code, the tokens and the client secret as bare values', async () => {
    const as = await startAuthorizationServer();
    cleanups.push(() => as.close());
    const mcp = await startMcpServer({ authorizationServer: as.issuer });
    cleanups.push(() => mcp.close());
    const client = await preRegisterConfidentialClient(as, SERVER);
    const variable = `MCP_OAUTH_TEST_SECRET_${randomBytes(4).toString('hex').toUpperCase()}`;
    process.env[variable] = client.clientSecret;
    cleanups.push(async () => {
      delete process.env[variable];
    });
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    await mkdir(home, { mode: 0o700 });
    await writeFile(
      join(home, 'config.yaml'),
      [
        'servers:',
        `  ${SERVER}:`,
        `    url: ${mcp.url}`,
        '    oauth:',
        `      client_id: ${client.clientId}`,
        `      client_secret_env: ${variable}`,
        `      redirect_port: ${client.redirectPort}`,
        `      issuer: ${as.issuer}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const exchanges: TokenExchange[] = [];
    const manager = new OAuthManager({
      home,
      interactive: 'never',
      openBrowser: scriptedBrowserHook(),
      fetch: recordingFetch(exchanges),
    });
    cleanups.push(() => manager.close());
    const before = registeredSecretCount();

    await manager.login(SERVER);
    await manager.refreshNow(SERVER);

    expect(as.stats.authorizationCodeGrants).toBe(1);
    expect(as.stats.refreshSuccesses).toBe(1);
    expect(exchanges.map((e) => e.form.get('grant_type'))).toEqual(['authorization_code', 'refresh_token']);
    const [login, refresh] = exchanges as [TokenExchange, TokenExchange];
    // Opaque values (the JWT access tokens are masked by pattern too, so they prove less).
    expect(
      unmasked({
        clientSecret: client.clientSecret,
        code: login.form.get('code') ?? undefined,
        codeVerifier: login.form.get('code_verifier') ?? undefined,
        loginAccessToken: login.response.access_token as string,
        loginRefreshToken: login.response.refresh_token as string,
        presentedRefreshToken: refresh.form.get('refresh_token') ?? undefined,
        refreshAccessToken: refresh.response.access_token as string,
        rotatedRefreshToken: refresh.response.refresh_token as string,
      }),
    ).toEqual([]);
    // The rotation really happened: the refresh presented the login's token and got a new one.
    expect(refresh.form.get('refresh_token')).toBe(login.response.refresh_token);
    expect(refresh.response.refresh_token).not.toBe(login.response.refresh_token);
    expect(registeredSecretCount()).toBeGreaterThan(before);
  });
});
