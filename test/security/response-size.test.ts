import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoginError, OAuthManager } from '../../src/index.js';
import { MAX_OAUTH_RESPONSE_BYTES } from '../../src/oauth/bounded-fetch.js';
import {
  STORED_AUTHORIZATION_SERVER_FIELDS,
  STORED_RESOURCE_METADATA_FIELDS,
} from '../../src/oauth/discovery.js';
import { fileNameFor } from '../../src/store/file-names.js';
import { startAuthorizationServer } from '../kit/authorization-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { FakeClock } from '../support/fake-clock.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { startScriptedHttpServer } from './support/scripted-http-server.js';

// Metadata was stored verbatim: 10 MB of protected-resource metadata plus 10 MB of
// authorization-server metadata made a 21 MB record, rewritten at every refresh. Every response
// body is now read up to MAX_OAUTH_RESPONSE_BYTES, and only the fields the code uses are stored.

const cleanups = useCleanups();
const PRM = '/.well-known/oauth-protected-resource';
const TEN_MB = 10 * 1024 * 1024;

async function setup() {
  const as = await startAuthorizationServer();
  cleanups.push(() => as.close());
  const server = await startScriptedHttpServer();
  cleanups.push(() => server.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const manager = new OAuthManager({
    home,
    clock: new FakeClock(),
    interactive: 'never',
    openBrowser: scriptedBrowserHook(),
  });
  cleanups.push(() => manager.close());
  manager.getOrBuildProvider('demo', `${server.url}/mcp`, {});
  const recordPath = join(home, 'credentials', `${fileNameFor({ server: 'demo' })}.json`);
  return { as, server, manager, recordPath };
}

describe('response size limits', () => {
  it('10 MB of protected-resource metadata: LoginError naming the URL and the limit; nothing stored', async () => {
    const { as, server, manager, recordPath } = await setup();
    server.on(`${PRM}/mcp`, {
      json: { resource: `${server.url}/mcp`, authorization_servers: [as.issuer] },
      padBytes: TEN_MB,
    });
    const error = await manager.login('demo').then(
      () => new Error('the login succeeded'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(LoginError);
    expect(error.message).toContain(`${server.url}${PRM}/mcp`);
    expect(error.message).toContain(`${MAX_OAUTH_RESPONSE_BYTES / 1024} KiB`);
    await expect(stat(recordPath)).rejects.toThrow(/ENOENT/);
  });

  it('10 MB of authorization-server metadata: LoginError naming the URL and the limit', async () => {
    const { server, manager } = await setup();
    server.on(`${PRM}/mcp`, { json: { resource: `${server.url}/mcp`, authorization_servers: [server.url] } });
    server.on('/.well-known/oauth-authorization-server', {
      json: { issuer: server.url, token_endpoint: `${server.url}/token` },
      padBytes: TEN_MB,
    });
    const error = await manager.login('demo').then(
      () => new Error('the login succeeded'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(LoginError);
    expect(error.message).toContain(`${server.url}/.well-known/oauth-authorization-server`);
    expect(error.message).toContain(`${MAX_OAUTH_RESPONSE_BYTES / 1024} KiB`);
  });

  it('only the metadata fields the code uses are stored', async () => {
    const { as, server, manager, recordPath } = await setup();
    server.on(`${PRM}/mcp`, {
      json: { resource: `${server.url}/mcp`, authorization_servers: [as.issuer], resource_name: 'x' },
      padBytes: 100 * 1024,
    });
    await manager.login('demo');
    const record = JSON.parse(await readFile(recordPath, 'utf8'));
    const asKeys = Object.keys(record.discovery.authorizationServerMetadata);
    expect(asKeys.length).toBeGreaterThan(3);
    for (const key of asKeys) expect(STORED_AUTHORIZATION_SERVER_FIELDS).toContain(key);
    for (const key of Object.keys(record.discovery.resourceMetadata))
      expect(STORED_RESOURCE_METADATA_FIELDS).toContain(key);
    expect((await stat(recordPath)).size).toBeLessThan(16 * 1024);
  });
});
