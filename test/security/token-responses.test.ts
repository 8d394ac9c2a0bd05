import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OAuthManager } from '../../src/index.js';
import { fileNameFor } from '../../src/store/file-names.js';
import { startAuthorizationServer, TOKEN_PATH } from '../kit/authorization-server.js';
import { startMcpServer } from '../kit/mcp-server.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { FakeClock } from '../support/fake-clock.js';
import { tempHome } from '../support/temp-home.js';
import { startBed, useCleanups } from '../support/testbed.js';
import { startRewritingProxy } from './support/rewriting-proxy.js';

// The kit's real oidc-provider rotates the refresh token at every refresh and revokes the grant
// when an old one is replayed; a rewriting proxy in front of it turns its token responses into
// hostile ones. Whatever the client makes of such a response, the rotated refresh token must be
// kept, or the next refresh replays the old one and the person is logged out.

const cleanups = useCleanups();
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** The kit's authorization server behind the rewriting proxy (its public issuer), an MCP server, a manager. */
async function startRewrittenBed() {
  const proxy = await startRewritingProxy();
  cleanups.push(() => proxy.close());
  const as = await startAuthorizationServer({ issuer: proxy.url });
  cleanups.push(() => as.close());
  proxy.setTarget(as.listenUrl);
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  cleanups.push(() => mcp.close());
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const clock = new FakeClock();
  const manager = new OAuthManager({ home, clock, interactive: 'never', openBrowser: scriptedBrowserHook() });
  cleanups.push(() => manager.close());
  const provider = manager.getOrBuildProvider('demo', mcp.url, {});
  const recordPath = join(home, 'credentials', `${fileNameFor({ server: 'demo' })}.json`);
  const record = async () => JSON.parse(await readFile(recordPath, 'utf8'));
  return { proxy, as, mcp, home, clock, manager, provider, record };
}

async function bedBehindRewriter() {
  const bed = await startRewrittenBed();
  const { proxy } = bed;
  await bed.manager.login('demo');
  bed.as.resetStats();
  /** Rewrites successful token responses with `mutate`; returns the refresh tokens they carried. */
  const rewriteTokens = (mutate: (body: Record<string, unknown>) => Record<string, unknown>) => {
    const rotated: string[] = [];
    proxy.setRewrite((path, status, body) => {
      if (path !== TOKEN_PATH || status !== 200) return undefined;
      if (typeof body.refresh_token === 'string') rotated.push(body.refresh_token);
      return mutate({ ...body });
    });
    return rotated;
  };
  return { ...bed, proxy, rewriteTokens };
}

const hostile: Array<[string, (b: Record<string, unknown>) => Record<string, unknown>, RegExp | null]> = [
  ['expires_in 3600.0001', (b) => ({ ...b, expires_in: 3600.0001 }), null],
  ['expires_in 1e20', (b) => ({ ...b, expires_in: 1e20 }), null],
  ['token_type BEARER', (b) => ({ ...b, token_type: 'BEARER' }), null],
  [
    'no token_type',
    (b) => {
      delete b.token_type;
      return b;
    },
    /no token_type/,
  ],
  ['token_type DPoP', (b) => ({ ...b, token_type: 'DPoP' }), /DPoP is not supported yet/],
  [
    'no access_token',
    (b) => {
      delete b.access_token;
      return b;
    },
    /no access_token/,
  ],
];

describe('a hostile token response never loses a rotated refresh token', () => {
  it.each(hostile)(
    '%s: the next refresh presents the rotated token; no reuse detected',
    async (_, mutate, refused) => {
      const { manager, as, clock, proxy, record, rewriteTokens } = await bedBehindRewriter();
      const rotated = rewriteTokens(mutate);
      const first = await manager.refreshNow('demo').then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      if (refused) {
        expect(first?.message).toMatch(refused);
        expect(first?.message).not.toContain(rotated[0]!);
      } else {
        expect(first).toBeUndefined();
      }
      expect(rotated).toHaveLength(1);
      expect((await record()).tokens.refreshToken).toBe(rotated[0]);

      proxy.setRewrite(undefined);
      clock.advance(5 * 60_000); // past any back-off
      await manager.refreshNow('demo');
      expect(as.stats.refreshTokensSeen).toHaveLength(2);
      expect(as.stats.refreshTokensSeen[1]).toBe(rotated[0]);
      expect(as.stats.invalidGrant).toBe(0);
      expect(as.stats.refreshSuccesses).toBe(2);
      expect((await manager.status('demo')).state).toBe('valid');
    },
  );

  it('expires_in is stored as whole seconds, clamped to one year', async () => {
    const { manager, clock, record, rewriteTokens } = await bedBehindRewriter();
    rewriteTokens((b) => ({ ...b, expires_in: 1e20 }));
    await manager.refreshNow('demo');
    const tokens = (await record()).tokens;
    expect(Number.isInteger(tokens.expiresAt)).toBe(true);
    expect(tokens.expiresAt - tokens.obtainedAt).toBe(ONE_YEAR_MS);
    const status = await manager.status('demo');
    expect(new Date(status.expiresAt!).getTime()).toBe(tokens.expiresAt);
    rewriteTokens((b) => ({ ...b, expires_in: 3600.0001 }));
    clock.advance(1000);
    await manager.refreshNow('demo');
    const next = (await record()).tokens;
    expect(next.expiresAt - next.obtainedAt).toBe(3600_000);
  });
});

describe('expires_in that says nothing usable means "expiry unknown", not "expired"', () => {
  it.each([
    ['0', 0],
    ['-5', -5],
    ['null', null],
  ])('expires_in %s: expiresAt null, and calls do not refresh again', async (_, value) => {
    const { manager, as, clock, provider, record, rewriteTokens } = await bedBehindRewriter();
    rewriteTokens((b) => ({ ...b, expires_in: value }));
    await manager.refreshNow('demo');
    expect((await record()).tokens.expiresAt).toBeNull();
    expect(as.stats.refreshRequests).toBe(1);
    for (let i = 0; i < 20; i++) {
      clock.advance(10 * 60_000);
      expect(await provider.token()).toBeTypeOf('string');
    }
    expect(as.stats.refreshRequests).toBe(1);
    const status = await manager.status('demo');
    expect(status.expiresAt).toBeNull();
    expect(status.state).toBe('valid');
  });
});

describe('an expiry beyond what a Date can hold', () => {
  it('a login answered with expires_in 1e20 commits, and status works', async () => {
    const { manager, proxy } = await startRewrittenBed();
    proxy.setRewrite((path, status, body) =>
      path === TOKEN_PATH && status === 200 ? { ...body, expires_in: 1e20 } : undefined,
    );
    const result = await manager.login('demo');
    expect(result.status.state).toBe('valid');
    expect(result.status.expiresIn).toBe(ONE_YEAR_MS / 1000);
  });

  it('a stored record an older build wrote with an expiresAt past the last Date reads as expiry unknown; status does not throw', async () => {
    const { home, clock, mcp, record, recordPath } = await startBed(cleanups);
    const stored = await record();
    stored.tokens.expiresAt = 8_700_000_000_000_000; // a safe integer, past the last Date (8.64e15)
    await writeFile(recordPath, JSON.stringify(stored), { mode: 0o600 });
    const other = new OAuthManager({ home, clock, interactive: 'never' });
    cleanups.push(() => other.close());
    other.getOrBuildProvider('demo', mcp.url, {});
    const status = await other.status('demo');
    expect(status.error).toBeNull();
    expect(status.state).toBe('valid');
    expect(status.expiresAt).toBeNull();
  });
});
