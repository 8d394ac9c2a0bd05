import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Logger,
  redact,
  redactingLogger,
  redactText,
  registeredSecretCount,
  registerSecret,
} from '../../src/logger.js';
import { plantSecrets, runCli, writeConfig } from '../cli/harness.js';
import { expectNoSecrets, findSecret } from '../support/no-secrets.js';
import { tempHome } from '../support/temp-home.js';
import {
  type HostileOAuthServer,
  hostileServerConfig,
  startHostileOAuthServer,
} from './support/hostile-oauth-server.js';

// Secrets in output: a token endpoint that echoes its input in an error body (a 422, as many web
// frameworks answer) must not make the CLI print the client secret, the authorization code, the
// PKCE verifier or a token, with or without --verbose. Redaction works two ways: by value (every
// secret the process holds is registered with the redactor) and by pattern (a second net for
// values never registered: JSON pairs, Basic and DPoP authorization values, form parameters).

const planted = (what: string) => `${what}-${randomBytes(18).toString('base64url')}`;

describe('redactText: the patterns the redactor missed', () => {
  it('masks JSON pairs of secret fields, escaped or not', () => {
    const refresh = planted('rt');
    const secret = planted('cs');
    const text = `Raw body: {"grant_type":"refresh_token","refresh_token":"${refresh}", "client_secret" : "${secret}"}`;
    const out = redactText(text);
    expect(findSecret(out, [refresh, secret])).toBeUndefined();
    expect(out).toContain('"grant_type":"refresh_token"');
    // A JSON document carried inside a JSON string (a log line of a log line).
    const nested = JSON.stringify({ body: `{"code_verifier":"${secret}","code":"${refresh}"}` });
    expect(findSecret(redactText(nested), [refresh, secret])).toBeUndefined();
  });

  it('masks Basic and DPoP authorization values, not only Bearer', () => {
    const basic = Buffer.from(`client:${planted('cs')}`).toString('base64');
    const dpop = planted('dpop');
    const out = redactText(`authorization: Basic ${basic}; Authorization: DPoP ${dpop}`);
    expect(out).not.toContain(basic);
    expect(out).not.toContain(dpop);
    // Plain English after the word "basic" is left alone.
    expect(redactText('uses basic authentication')).toBe('uses basic authentication');
  });

  it('masks a secret that is the first form parameter of a body, not only one after &', () => {
    const secret = planted('cs');
    const code = planted('code');
    const out = redactText(`client_secret=${secret}&grant_type=x and body code=${code}&state=s`);
    expect(findSecret(out, [secret, code])).toBeUndefined();
    expect(out).toContain('grant_type=x');
  });

  it('masks every registered value wherever it appears, including its URL-encoded form', () => {
    const value = `${planted('opaque')}+/=`;
    const before = registeredSecretCount();
    registerSecret(value);
    const after = registeredSecretCount();
    // The value and its URL-encoded form; registering it again adds nothing.
    expect(after).toBe(before + 2);
    registerSecret(value);
    expect(registeredSecretCount()).toBe(after);
    const text = `free text ${value} and ${encodeURIComponent(value)} in a URL`;
    expect(findSecret(redactText(text), [value])).toBeUndefined();
    expect(redact({ detail: { nested: [`x${value}y`] } })).toEqual({ detail: { nested: ['x[redacted]y'] } });
    // Too short to be a secret: registering it must not mask ordinary words everywhere.
    registerSecret('abc');
    expect(redactText('abc')).toBe('abc');
  });

  it('redactingLogger masks registered values in messages and fields', () => {
    const value = planted('token');
    registerSecret(value);
    const lines: string[] = [];
    const sink: Logger = {
      debug: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
      info: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
      warn: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
      error: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
    };
    redactingLogger(sink).warn(`failed with ${value}`, { body: `x=${value}` });
    expectNoSecrets(lines.join('\n'), [value]);
  });
});

describe('the CLI against a token endpoint that echoes its input in a 422', () => {
  let server: HostileOAuthServer;
  let home: string;
  let cleanup: () => Promise<void>;
  let clientSecret: string;

  beforeEach(async () => {
    server = await startHostileOAuthServer();
    ({ home, cleanup } = await tempHome());
    clientSecret = planted('client-secret');
    await writeConfig(home, hostileServerConfig(server));
  });
  afterEach(async () => {
    await server.close();
    await cleanup();
  });

  for (const verbose of [false, true]) {
    it(`login${verbose ? ' --verbose' : ''} prints neither the client secret, the code nor the PKCE verifier (client_secret_post)`, async () => {
      const code = planted('code');
      server.token = { echo: true };
      const result = await runCli(['--home', home, ...(verbose ? ['--verbose'] : []), 'login', 'evil'], {
        env: { EVIL_SECRET: clientSecret },
        openBrowser: server.browser({ code }),
      });
      expect(result.code).toBe(1);
      // The request reached the server with every secret in it, and was echoed back.
      expect(server.tokenRequests).toHaveLength(1);
      const sent = server.tokenRequests[0]!.form;
      expect(sent).toMatchObject({ code, client_secret: clientSecret });
      const verifier = sent.code_verifier!;
      expect(verifier.length).toBeGreaterThanOrEqual(43);
      expect(result.stderr).toContain("Login to MCP server 'evil' failed");
      expectNoSecrets(result.stdout + result.stderr, [clientSecret, code, verifier]);
    });
  }

  it('refresh --verbose prints neither the refresh token, the access token nor the client secret (client_secret_basic)', async () => {
    server.metadata = { token_endpoint_auth_methods_supported: ['client_secret_basic'] };
    const accessToken = planted('access');
    const refreshToken = planted('refresh');
    server.token = {
      json: {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: refreshToken,
        scope: 'mcp:read',
      },
    };
    const env = { EVIL_SECRET: clientSecret };
    const login = await runCli(['--home', home, 'login', 'evil'], {
      env,
      openBrowser: server.browser({ code: planted('code') }),
    });
    expect(login.code, login.stderr).toBe(0);

    server.token = { echo: true };
    const refresh = await runCli(['--home', home, '--verbose', 'refresh', 'evil'], { env });
    expect(refresh.code).toBe(1);
    const sent = server.tokenRequests.at(-1)!;
    expect(sent.form.refresh_token).toBe(refreshToken);
    expect(sent.authorization).toMatch(/^Basic /);
    // The echo reached the CLI (it printed the chain of causes), with every secret masked.
    expect(refresh.stderr).toContain('caused by:');
    expectNoSecrets(refresh.stdout + refresh.stderr, [clientSecret, accessToken, refreshToken]);
    expectNoSecrets(login.stdout + login.stderr, [clientSecret, accessToken, refreshToken]);
  });

  it('an error body from the server is shown truncated: a 20 kB echo does not reach the terminal whole', async () => {
    server.token = (request) => ({
      status: 422,
      json: { detail: 'Unprocessable Entity', echo: request.raw, padding: 'x'.repeat(20_000) },
    });
    const result = await runCli(['--home', home, 'login', 'evil'], {
      env: { EVIL_SECRET: clientSecret },
      openBrowser: server.browser({ code: planted('code') }),
    });
    expect(result.code).toBe(1);
    const errorLine = result.stderr.split('\n').find((line) => line.startsWith('error: '))!;
    expect(errorLine).toContain("Login to MCP server 'evil' failed");
    // The advice at the end of the message survives the cut.
    expect(errorLine).toContain('The previous credential, if any, is unchanged.');
    expect(errorLine.length).toBeLessThanOrEqual(1000);
    expect(result.stderr.length).toBeLessThan(2000);
  });
});

describe('the CLI harness checks the output of every command it runs', () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ home, cleanup } = await tempHome());
  });
  afterEach(async () => {
    await cleanup();
  });

  it('a command that prints a planted secret fails the test, also base64- or URL-encoded', async () => {
    const secret = planted('planted');
    plantSecrets(secret);
    // `servers add` echoes the URL it was given: here it carries the secret in its query.
    await expect(
      runCli(['--home', home, 'servers', 'add', 'a', `http://127.0.0.1:9/mcp?key=${secret}`]),
    ).rejects.toThrow(/stdout of mcp-oauth .* contains a planted secret/);
    const encoded = Buffer.from(`user:${secret}`).toString('base64');
    await expect(
      runCli(['--home', home, 'servers', 'add', 'b', `http://127.0.0.1:9/mcp?basic=${encoded}`]),
    ).rejects.toThrow(/contains a planted secret \(encoded\)/);
  });

  it("a secret passed in the command's environment counts as planted", async () => {
    const secret = planted('env');
    await expect(
      runCli(['--home', home, 'servers', 'add', 'c', `http://127.0.0.1:9/mcp?x=${secret}`], {
        env: { SOME_CLIENT_SECRET: secret },
      }),
    ).rejects.toThrow(/contains a planted secret/);
  });
});
