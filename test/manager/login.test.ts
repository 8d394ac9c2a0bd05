import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  LoginError,
  type LoginPrompt,
  NeedsReauthError,
  type OAuthConfig,
  type OAuthManagerOptions,
} from '../../src/index.js';
import { callbackPath } from '../../src/oauth/authorization-code-flow.js';
import { scriptedDeviceApproval } from '../kit/device-approval.js';
import { scriptedBrowse } from '../kit/scripted-browser.js';
import { startChild } from '../support/children.js';
import { FakeClock } from '../support/fake-clock.js';
import { connectV2, textOf } from '../support/mcp-client.js';
import { startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

const bed = (options: { manager?: Partial<OAuthManagerOptions>; config?: OAuthConfig } = {}) =>
  startBed(cleanups, { login: false, ...options });

async function callEcho(url: string, provider: Parameters<typeof connectV2>[1], text: string) {
  const client = await connectV2(url, provider);
  try {
    return textOf(await client.callTool({ name: 'echo', arguments: { text } }));
  } finally {
    await client.close();
  }
}

describe('login through the browser', () => {
  it('ignores favicon and wrong-state requests on the callback and finishes on the matching one', async () => {
    const { manager, mcp, provider, as } = await bed();
    const prompts: LoginPrompt[] = [];
    const result = await manager.login('demo', {
      prompt: (p) => prompts.push(p),
      openBrowser: async (url) => {
        const redirect = new URL(new URL(url).searchParams.get('redirect_uri')!);
        // Stray requests first, as browsers and scanners send them.
        expect((await fetch(new URL('/favicon.ico', redirect))).status).toBe(404);
        const wrong = new URL(redirect);
        wrong.searchParams.set('code', 'forged');
        wrong.searchParams.set('state', 'not-the-state');
        expect((await fetch(wrong)).status).toBe(400);
        const done = scriptedBrowse(url, { favicon: 'after' });
        return { failed: done.then(() => new Promise<never>(() => {})) };
      },
    });
    expect(result.joined).toBe(false);
    expect(result.status.state).toBe('valid');
    expect(prompts.map((p) => p.kind)).toEqual(['open-url']);
    expect(as.stats.authorizationCodeGrants).toBe(1);
    expect(await callEcho(mcp.url, provider, 'hi')).toBe('hi');
  });

  it('a DCR client keeps its port and registration across logins', async () => {
    const { manager, as, record } = await bed();
    await manager.login('demo');
    const first = await record();
    await manager.login('demo');
    const second = await record();
    expect(as.stats.registrations).toBe(1);
    expect(second.client.information.client_id).toBe(first.client.information.client_id);
    expect(second.client.redirectUri).toBe(first.client.redirectUri);
    expect(second.client.redirectUri).toContain(callbackPath('demo'));
    expect(second.recordId).not.toBe(first.recordId);
  });

  it('a configured port that is in use is a ConfigError naming oauth.redirect_port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as { port: number }).port;
    const { manager } = await bed({ config: { redirectPort: port } });
    const error = await manager.login('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('oauth.redirect_port');
    expect((error as Error).message).toContain(`Port ${port}`);
  });
});

describe('a failed login keeps the previous credential', () => {
  it('byte for byte, whether the browser fails or the flow times out', async () => {
    const { manager, recordPath, mcp, provider } = await bed({ config: { timeoutSeconds: 1 } });
    await manager.login('demo');
    const before = await readFile(recordPath);
    const failing = await manager
      .login('demo', {
        openBrowser: async () => ({ failed: Promise.reject(new Error('the BROWSER command exited with 1')) }),
      })
      .catch((e: unknown) => e);
    expect(failing).toBeInstanceOf(LoginError);
    expect((failing as Error).message).toMatch(/exited with 1.*--no-browser/);
    const timedOut = await manager
      .login('demo', { openBrowser: async () => ({ failed: new Promise<never>(() => {}) }) })
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(LoginError);
    expect((timedOut as Error).message).toMatch(/before the deadline|within 1 s/);
    expect(Buffer.compare(await readFile(recordPath), before)).toBe(0);
    expect(await callEcho(mcp.url, provider, 'still works')).toBe('still works');
  });
});

describe('paste-back (--no-browser)', () => {
  it('reads the redirected address from a pipe, skipping a line from another attempt', async () => {
    const { manager, mcp, provider, opened } = await bed();
    const stdin = new PassThrough();
    const prompts: LoginPrompt[] = [];
    const login = manager.login('demo', {
      flow: 'paste',
      input: stdin,
      prompt: async (p) => {
        prompts.push(p);
        if (p.kind !== 'paste-url') return;
        const { callbackUrl } = await scriptedBrowse(p.url, { loadCallback: false });
        const other = new URL(callbackUrl);
        other.searchParams.set('state', 'another-attempt');
        stdin.write(`${other.href}\n`);
        stdin.write(`  ${callbackUrl}  \n`);
      },
    });
    const result = await login;
    expect(result.status.state).toBe('valid');
    expect(opened.opened).toBe(0);
    expect(prompts.map((p) => p.kind)).toEqual(['paste-url', 'paste-ignored']);
    expect(await callEcho(mcp.url, provider, 'pasted')).toBe('pasted');
  });

  it('an input that ends without an address fails the login and keeps no token (only its client registration)', async () => {
    const { manager, record } = await bed();
    const stdin = new PassThrough();
    stdin.end('not a url\n');
    await expect(manager.login('demo', { flow: 'paste', input: stdin })).rejects.toThrow(/input ended/);
    // The client it registered is kept for the next login (issue 15: no new registration after a
    // failed or cancelled login); no token, so the server shows as logged out.
    const kept = await record();
    expect(kept.tokens).toBeUndefined();
    expect(kept.client?.kind).toBe('dcr');
    expect((await manager.status('demo')).state).toBe('logged_out');
  });
});

describe('device flow (RFC 8628)', () => {
  it('shows the user code, polls until approved, and the token works', async () => {
    const { manager, mcp, provider, opened, as } = await bed();
    let approval: Promise<unknown> | undefined;
    const result = await manager.login('demo', {
      flow: 'device',
      prompt: (p) => {
        if (p.kind === 'device-code') {
          expect(p.userCode).toMatch(/\S/);
          approval = scriptedDeviceApproval(p.verificationUriComplete!);
        }
      },
    });
    await approval;
    expect(result.status.state).toBe('valid');
    expect(result.status.clientKind).toBe('dcr');
    expect(opened.opened).toBe(0);
    expect(as.stats.registrations).toBe(1);
    expect(await callEcho(mcp.url, provider, 'device')).toBe('device');
  }, 30_000);
});

describe('client identity', () => {
  it('a DCR client the server forgot: refresh gives needs_reauth, the next login registers a new client', async () => {
    const clock = new FakeClock();
    const { manager, as, record, provider, mcp } = await bed({ manager: { clock } });
    await manager.login('demo');
    const first = await record();
    as.deleteClient(first.client.information.client_id);
    clock.advance(3600_000 + 1);
    await expect(provider.token()).rejects.toBeInstanceOf(NeedsReauthError);
    const rejected = await record();
    expect(rejected.state).toBe('needs_reauth');
    expect(rejected.client.rejectedAt).toBeTypeOf('number');
    await manager.login('demo');
    const second = await record();
    expect(as.stats.registrations).toBe(2);
    expect(second.client.information.client_id).not.toBe(first.client.information.client_id);
    expect(await callEcho(mcp.url, provider, 'new client')).toBe('new client');
  });

  it('refuses an authorization server whose metadata does not advertise PKCE S256', async () => {
    // oidc-provider always advertises S256; the metadata is rewritten in flight (a fault a real
    // server cannot produce on demand).
    const withoutS256: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = String(input instanceof Request ? input.url : input);
      if (
        !url.includes('/.well-known/oauth-authorization-server') &&
        !url.includes('/.well-known/openid-configuration')
      ) {
        return response;
      }
      const body = await response.json();
      delete body.code_challenge_methods_supported;
      return new Response(JSON.stringify(body), {
        status: response.status,
        headers: { 'content-type': 'application/json' },
      });
    };
    const { manager, opened, as } = await bed({ manager: { fetch: withoutS256 } });
    const error = await manager.login('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    expect((error as Error).message).toContain('PKCE S256');
    expect(opened.opened).toBe(0);
    expect(as.stats.registrations).toBe(0);
  });
});

describe('implicit login', () => {
  it("interactive 'never' (and 'auto' without a TTY) never opens a browser: NeedsReauthError names the command", async () => {
    for (const interactive of ['never', 'auto'] as const) {
      const { manager, provider, opened, home } = await bed({ manager: { interactive } });
      // Never logged in: a transport's request goes out bare (a server without authentication
      // answers it: no_auth); a 401 then raises NeedsReauthError. accessToken() raises it at once.
      expect(await provider.token()).toBeUndefined();
      const error = await manager.accessToken('demo').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NeedsReauthError);
      expect((error as NeedsReauthError).command).toBe(`mcp-oauth --home ${home} login demo`);
      expect(opened.opened).toBe(0);
    }
  });

  it("interactive 'always': concurrent accessToken() callers share one login", async () => {
    const { manager, provider, opened, as } = await bed({ manager: { interactive: 'always' } });
    // A transport's token() sends the first request without a token: the 401 drives the login.
    expect(await provider.token()).toBeUndefined();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => manager.accessToken('demo')));
    expect(new Set(tokens).size).toBe(1);
    expect(opened.opened).toBe(1);
    expect(as.stats.authorizations).toBe(1);
  });

  it("interactive 'always': concurrent calls without a credential go out bare, and their 401s share one login that uses the challenge", async () => {
    const { manager, mcp, opened, as, record } = await bed({ manager: { interactive: 'always' } });
    const { connectV2 } = await import('../support/mcp-client.js');
    const client = await connectV2(mcp.url, manager.getOrBuildProvider('demo', mcp.url));
    cleanups.push(() => client.close());
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: String(i) } })),
    );
    expect(results.map(textOf)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(opened.opened).toBe(1);
    expect(as.stats.authorizations).toBe(1);
    expect(mcp.stats.unauthorized).toBeGreaterThanOrEqual(1);
    expect((await record()).discovery.resourceMetadataUrl).toBe(mcp.resourceMetadataUrl);
  });
});

describe('one login per server across processes', () => {
  it('two processes logging in at once: one authorization, the other joins it', async () => {
    const { as, mcp, home } = await bed();
    const env = { CHILD_HOME: home, CHILD_MCP_URL: mcp.url, CHILD_BROWSER_DELAY_MS: '1500' };
    const [a, b] = await Promise.all([startChild(env), startChild(env)]);
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    const results = await Promise.all([
      a.request<{ joined: boolean; prompts: string[] }>({ type: 'login' }, 'logged-in'),
      b.request<{ joined: boolean; prompts: string[] }>({ type: 'login' }, 'logged-in'),
    ]);
    expect(results.map((r) => r.joined).sort()).toEqual([false, true]);
    const joiner = results.find((r) => r.joined)!;
    expect(joiner.prompts).toEqual(['waiting-for-other-login']);
    expect(as.stats.authorizations).toBe(1);
    expect(as.stats.registrations).toBe(1);
    const tokens = await Promise.all([
      a.request<{ token: string }>({ type: 'token' }, 'token'),
      b.request<{ token: string }>({ type: 'token' }, 'token'),
    ]);
    expect(tokens[0].token).toBe(tokens[1].token);
  }, 60_000);
});
