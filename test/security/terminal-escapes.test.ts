import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../cli/harness.js';
import { tempHome } from '../support/temp-home.js';
import {
  type HostileOAuthServer,
  hostileServerConfig,
  startHostileOAuthServer,
} from './support/hostile-oauth-server.js';

// Terminal escape injection: what a server sends (scope, issuer, OAuth error codes, the device
// flow's user code and URL, the callback's error) reaches the person's terminal only without
// control characters: no ESC (clear the screen, retitle the window, move the cursor), no BEL, no
// CR or LF that forges a line, no bidi control that shows text in another order than it is.

// Clear screen, set the window title, a forged line, a right-to-left override, a C1 CSI.
const HOSTILE = '\x1b[2J\x1b]0;owned\x07\r\nerror: fake line\u202Etxt.exe\u009b31m';
/** ESC, BEL, CR, C1 CSI, and the bidi embeddings, overrides and isolates. */
const forbidden = (c: string): boolean => {
  const code = c.codePointAt(0)!;
  return (
    code === 0x1b ||
    code === 0x07 ||
    code === 0x0d ||
    code === 0x9b ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
};

/** The output a person would see: no control character, no line the server forged. */
function expectClean(output: string): void {
  const bad = [...output].find(forbidden);
  expect(
    bad,
    bad ? `control character U+${bad.codePointAt(0)!.toString(16)} in: ${JSON.stringify(output)}` : '',
  ).toBeUndefined();
  expect(output).not.toMatch(/^error: fake line/m);
}

describe('server-supplied text reaches the terminal without control characters', () => {
  let server: HostileOAuthServer;
  let home: string;
  let cleanup: () => Promise<void>;
  const env = { EVIL_SECRET: 'a-client-secret-for-the-hostile-server' };

  beforeEach(async () => {
    server = await startHostileOAuthServer();
    ({ home, cleanup } = await tempHome());
    await writeConfig(home, hostileServerConfig(server));
  });
  afterEach(async () => {
    await server.close();
    await cleanup();
  });

  const login = (args: string[] = []) =>
    runCli(['--home', home, 'login', 'evil', ...args], {
      env,
      openBrowser: server.browser({ code: 'a-planted-authorization-code' }),
    });

  it('scope and issuer: the login line and the status table are clean; --json keeps the exact values', async () => {
    // No protected-resource metadata: the metadata's own issuer is bound (the 2025-03-26 fallback).
    server.resourceMetadata = null;
    const issuer = `${server.origin}${HOSTILE}`;
    server.metadata = { issuer };
    server.token = {
      json: {
        access_token: 'an-access-token-of-the-hostile-server',
        token_type: 'Bearer',
        expires_in: 3600,
        scope: `mcp:read ${HOSTILE}`,
      },
    };
    const loggedIn = await login();
    expect(loggedIn.code, loggedIn.stderr).toBe(0);
    expect(loggedIn.stdout).toMatch(/^✓ Logged in to evil \(expires in 1 h, scopes: mcp:read .*\)\n$/);
    expectClean(loggedIn.stdout + loggedIn.stderr);

    const status = await runCli(['--home', home, 'status'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('evil');
    expect(status.stdout).toContain('owned');
    expectClean(status.stdout + status.stderr);

    // --json: still JSON, escaped by JSON.stringify (and the C1 and bidi controls it would leave).
    const json = await runCli(['--home', home, '--json', 'status'], { env });
    expectClean(json.stdout);
    const row = JSON.parse(json.stdout).servers[0];
    expect(row.issuer).toBe(issuer);
    expect(row.scopes).toContain('mcp:read');
    expect(row.scopes.join(' ')).toContain('\x1b[2J');
  });

  it('an OAuth error code and description from the token endpoint (login and refresh --verbose)', async () => {
    server.token = { status: 400, json: { error: `invalid_thing${HOSTILE}`, error_description: HOSTILE } };
    const failed = await login();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("Login to MCP server 'evil' failed");
    expectClean(failed.stdout + failed.stderr);

    server.token = {
      json: {
        access_token: 'an-access-token-of-the-hostile-server',
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: 'a-refresh-token-of-the-hostile-server',
      },
    };
    expect((await login()).code).toBe(0);
    server.token = { status: 400, json: { error: `temporarily${HOSTILE}`, error_description: HOSTILE } };
    const refresh = await runCli(['--home', home, '--verbose', 'refresh', 'evil'], { env });
    expect(refresh.code).toBe(1);
    expect(refresh.stderr).toContain('error: ');
    expectClean(refresh.stdout + refresh.stderr);
  });

  it("the callback's error parameter", async () => {
    const result = await runCli(['--home', home, 'login', 'evil'], {
      env,
      openBrowser: server.browser({ error: `access_denied${HOSTILE}`, errorDescription: HOSTILE }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('access_denied');
    expectClean(result.stdout + result.stderr);
  });

  it('the device flow: user code and verification URI in the prompt, then an error code while polling', async () => {
    server.deviceAnswer = {
      user_code: `WDJB-MJHT${HOSTILE}`,
      verification_uri: `${server.origin}/activate${HOSTILE}`,
      verification_uri_complete: `${server.origin}/activate?code=WDJB${HOSTILE}`,
    };
    server.token = { status: 400, json: { error: `access_denied${HOSTILE}` } };
    const result = await runCli(['--home', home, 'login', 'evil', '--device'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('WDJB-MJHT');
    expectClean(result.stdout + result.stderr);
  });
});
