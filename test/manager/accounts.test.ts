import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CredentialRecord, connect, OAuthManager } from '../../src/index.js';
import { fileNameFor } from '../../src/store/file-names.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '../kit/authorization-server.js';
import { startMcpServer, type TestMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { FakeClock } from '../support/fake-clock.js';
import { connectV2, textOf } from '../support/mcp-client.js';
import { tempHome } from '../support/temp-home.js';

const HOUR = 3600_000;

describe('accounts: one key per (account, server)', () => {
  let as: TestAuthorizationServer;
  let mcp: TestMcpServer;
  let home: { home: string; cleanup: () => Promise<void> };
  let clock: FakeClock;
  let manager: OAuthManager;

  beforeEach(async () => {
    as = await startAuthorizationServer();
    mcp = await startMcpServer({ authorizationServer: as.issuer });
    home = await tempHome();
    clock = new FakeClock();
    manager = new OAuthManager({
      home: home.home,
      clock,
      interactive: 'never',
      openBrowser: scriptedBrowserHook(),
    });
  });

  afterEach(async () => {
    await manager.close();
    await mcp.close();
    await as.close();
    await home.cleanup();
  });

  it('the default account keeps the file name of a key without account (nothing to migrate)', () => {
    // The name every earlier version gave the record of server 'notion' (no account).
    expect(fileNameFor({ server: 'notion' })).toBe('notion-93281d83b6875e806ad8d970');
    expect(fileNameFor({ server: 'notion', account: 'work' })).toMatch(/^work-notion-[0-9a-f]{24}$/);
  });

  it('two accounts of one server: two credentials, each refreshed and logged out on its own', async () => {
    const work = manager.getOrBuildProvider('demo', mcp.url, {}, { account: 'work' });
    const personal = manager.getOrBuildProvider('demo', mcp.url, {}, { account: 'personal' });
    expect(manager.getOrBuildProvider('demo', mcp.url, {}, { account: 'work' })).toBe(work);
    expect(work).not.toBe(personal);
    await manager.login('demo', { account: 'work' });
    await manager.login('demo', { account: 'personal' });
    const files = (await readdir(join(home.home, 'credentials'))).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual([
      `${fileNameFor({ server: 'demo', account: 'personal' })}.json`,
      `${fileNameFor({ server: 'demo', account: 'work' })}.json`,
    ]);
    const workToken = (await work.token())!;
    const personalToken = (await personal.token())!;
    expect(workToken).not.toBe(personalToken);
    // The default account has nothing.
    expect((await manager.status('demo')).state).toBe('logged_out');
    expect((await manager.status('demo', { account: 'work' })).account).toBe('work');

    const workRecord = (await manager.store.get({ server: 'demo', account: 'work' }))!;
    const personalRecord = (await manager.store.get({ server: 'demo', account: 'personal' }))!;
    as.resetStats();
    clock.advance(HOUR + 1);

    // Work refreshes: one request, with work's refresh token; personal's is untouched.
    const client = await connectV2(mcp.url, work);
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'work' } });
    expect(textOf(echoed)).toBe('work');
    await client.close();
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.refreshTokensSeen).toEqual([workRecord.tokens!.refreshToken]);
    expect((await manager.status('demo', { account: 'personal' })).state).toBe('expired');

    // Personal refreshes on its own: one more request, with personal's token.
    const refreshedPersonal = await manager.accessToken('demo', { account: 'personal' });
    expect(refreshedPersonal).not.toBe(personalToken);
    expect(as.stats.refreshRequests).toBe(2);
    expect(as.stats.refreshTokensSeen[1]).toBe(personalRecord.tokens!.refreshToken);
    expect(as.stats.invalidGrant).toBe(0);

    // Logging out of work revokes work's grant only: personal still refreshes.
    const outcome = await manager.logout('demo', { account: 'work' });
    expect(outcome).toMatchObject({ tokensDeleted: true, revoked: true, revocation: 'revoked' });
    expect(as.stats.revocations).toBe(1);
    expect((await manager.status('demo', { account: 'work' })).state).toBe('logged_out');
    expect((await manager.status('demo', { account: 'personal' })).state).toBe('valid');
    clock.advance(HOUR + 1);
    await manager.accessToken('demo', { account: 'personal' });
    expect(as.stats.refreshRequests).toBe(3);
    expect(as.stats.invalidGrant).toBe(0);
    await expect(work.token()).rejects.toThrow(/--account work login demo/);

    // A second logout of work: nothing to do, nothing revoked.
    expect(await manager.logout('demo', { account: 'work' })).toMatchObject({
      tokensDeleted: false,
      revoked: false,
      revocation: 'not_needed',
    });
    expect(as.stats.revocations).toBe(1);
  });

  it('change events name the account; connect() takes one', async () => {
    manager.getOrBuildProvider('demo', mcp.url, {}, { account: 'work' });
    const events: unknown[] = [];
    manager.on('credentials-changed', (event) => events.push(event));
    await manager.login('demo', { account: 'work' });
    expect(events).toContainEqual({ server: 'demo', account: 'work', reason: 'login' });
    // connect() takes the account too: work's credential, not the (empty) default account's.
    const client = await connect('demo', { manager, url: mcp.url, account: 'work' });
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    await client.close();
    await expect(connect('demo', { manager, url: mcp.url })).rejects.toThrow(/login demo/);
  });
});

const ACCOUNTS = 1000;
const CALLS = 10;
const WAVE = 50;

describe('a gateway: one manager serving many accounts of one server', () => {
  let as: TestAuthorizationServer;
  let mcp: TestMcpServer;
  let home: { home: string; cleanup: () => Promise<void> };

  beforeEach(async () => {
    as = await startAuthorizationServer();
    mcp = await startMcpServer({ authorizationServer: as.issuer });
    home = await tempHome();
  });

  afterEach(async () => {
    await mcp.close();
    await as.close();
    await home.cleanup();
  });

  it(`${ACCOUNTS} accounts x ${CALLS} calls after expiry: exactly ${ACCOUNTS} refresh requests, 0 invalid_grant, every call succeeds`, async () => {
    const clock = new FakeClock();
    const manager = new OAuthManager({
      home: home.home,
      clock,
      interactive: 'never',
      openBrowser: scriptedBrowserHook(),
      requestTimeoutMs: 120_000,
    });
    try {
      // One real login gives the client registration and the binding every account shares...
      manager.getOrBuildProvider('demo', mcp.url);
      await manager.login('demo');
      const template = (await manager.store.get({ server: 'demo' }))!;
      const clientId = (template.client!.information as { client_id: string }).client_id;
      // ...and the kit grants each account its own refresh token, as a login would.
      const refreshTokens = await as.issueRefreshTokens(clientId, template.binding.resource!, ACCOUNTS);
      const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `user-${i}`);
      const now = clock.now();
      for (let start = 0; start < ACCOUNTS; start += 50) {
        await Promise.all(
          accounts.slice(start, start + 50).map((account, j) => {
            const record: CredentialRecord = {
              ...template,
              account,
              recordId: randomUUID(),
              generation: 1,
              tokens: {
                ...template.tokens!,
                accessToken: `seeded-${account}`,
                refreshToken: refreshTokens[start + j]!,
                obtainedAt: now,
                expiresAt: now + HOUR,
              },
              updatedAt: now,
            };
            return manager.store.put({ server: 'demo', account }, record, null);
          }),
        );
      }
      const providers = accounts.map((account) =>
        manager.getOrBuildProvider('demo', mcp.url, {}, { account }),
      );
      as.resetStats();
      clock.advance(HOUR + 1);

      // In waves of accounts (each account's calls all at once), so a loaded test machine is not
      // asked for a thousand token requests in the same second; what is counted is the same.
      const results: PromiseSettledResult<string | undefined>[] = [];
      for (let start = 0; start < ACCOUNTS; start += WAVE) {
        results.push(
          ...(await Promise.allSettled(
            providers
              .slice(start, start + WAVE)
              .flatMap((provider) => Array.from({ length: CALLS }, () => provider.token())),
          )),
        );
      }
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed).toEqual([]);
      const tokens = results.map((r) => (r as PromiseFulfilledResult<string>).value);
      expect(tokens.some((t) => t.startsWith('seeded-'))).toBe(false);
      // Each account's 10 calls share one token; no two accounts share one.
      for (let i = 0; i < ACCOUNTS; i++) {
        expect(new Set(tokens.slice(i * CALLS, (i + 1) * CALLS)).size).toBe(1);
      }
      expect(new Set(tokens).size).toBe(ACCOUNTS);
      expect(as.stats.refreshRequests).toBe(ACCOUNTS);
      expect(as.stats.invalidGrant).toBe(0);
      expect(new Set(as.stats.refreshTokensSeen)).toEqual(new Set(refreshTokens));

      // The refreshed tokens are real: the MCP server accepts a sample of them.
      for (const index of [0, 499, 999]) {
        const client = await connectV2(mcp.url, providers[index]!);
        const echoed = await client.callTool({ name: 'echo', arguments: { text: `user ${index}` } });
        expect(textOf(echoed)).toBe(`user ${index}`);
        await client.close();
      }
      expect(as.stats.refreshRequests).toBe(ACCOUNTS);
    } finally {
      await manager.close();
    }
  }, 600_000);
});
