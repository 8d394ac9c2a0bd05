import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MemoryCredentialStore,
  NeedsReauthError,
  OAuthManager,
  type OAuthManagerOptions,
  TransientAuthError,
} from '../../src/index.js';
import { startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

async function setup(options: { proxy?: boolean; manager?: Partial<OAuthManagerOptions> } = {}) {
  const bed = await startBed(cleanups, {
    ...(options.proxy ? { proxy: 'as' as const } : {}),
    manager: options.manager ?? {},
  });
  const events: Array<{ type: string; server: string; reason?: string; command?: string }> = [];
  bed.manager.on('needs-reauth', (e) => events.push({ type: 'needs-reauth', ...e }));
  bed.manager.on('credentials-changed', (e) => events.push({ type: 'credentials-changed', ...e }));
  return { ...bed, events };
}

describe('a refresh token revoked at the server', () => {
  it('gives one needs-reauth event, NeedsReauthError naming the login command, a kept needs_reauth record, and no retry loop', async () => {
    const { as, clock, manager, provider, events, home, recordPath } = await setup();
    await as.revokeAllGrants();
    clock.advance(3600_000 + 1);
    const error = await provider.token().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeedsReauthError);
    expect((error as NeedsReauthError).command).toBe(`mcp-oauth --home ${home} login demo`);
    expect((error as NeedsReauthError).message).toContain(`mcp-oauth --home ${home} login demo`);
    for (let i = 0; i < 10; i++) await expect(provider.token()).rejects.toBeInstanceOf(NeedsReauthError);
    expect(await manager.handle401('demo')).toBe(false);
    expect(as.stats.refreshRequests).toBe(1);
    expect(as.stats.invalidGrant).toBe(1);
    expect(events.filter((e) => e.type === 'needs-reauth')).toHaveLength(1);
    const stored = JSON.parse(await readFile(recordPath, 'utf8'));
    expect(stored.state).toBe('needs_reauth');
    expect(stored.tokens.refreshToken).toBeTruthy();
    expect((await manager.status('demo')).state).toBe('needs_reauth');
    // A new login brings the server back.
    await manager.login('demo');
    expect((await manager.status('demo')).state).toBe('valid');
    await expect(provider.token()).resolves.toMatch(/^eyJ/);
  });
});

describe('a transient failure of the authorization server during a refresh', () => {
  for (const mode of ['status500', 'drop', 'hang'] as const) {
    it(`${mode}: TransientAuthError, the record unchanged byte for byte, success after the back-off`, async () => {
      const { proxy, as, clock, provider, recordPath } = await setup({
        proxy: true,
        manager: { requestTimeoutMs: 500, backoff: { initialMs: 5_000 } },
      });
      const before = await readFile(recordPath);
      proxy!.setFault(mode, { path: /token/ });
      clock.advance(3600_000 + 1);
      const error = await provider.token().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientAuthError);
      expect((error as TransientAuthError).retryAfterMs).toBe(5_000);
      expect(Buffer.compare(await readFile(recordPath), before)).toBe(0);
      // Inside the back-off window: no new request.
      const faultedSoFar = proxy!.stats.faulted;
      await expect(provider.token()).rejects.toBeInstanceOf(TransientAuthError);
      expect(proxy!.stats.faulted).toBe(faultedSoFar);
      proxy!.setFault('pass');
      clock.advance(5_001);
      await expect(provider.token()).resolves.toMatch(/^eyJ/);
      expect(as.stats.refreshSuccesses).toBe(1);
      expect(Buffer.compare(await readFile(recordPath), before)).not.toBe(0);
    });
  }
});

describe('credential binding and provider identity', () => {
  it('getOrBuildProvider is idempotent and rebuilds when the URL changes; a credential bound to another URL is never sent', async () => {
    const { manager, mcp, provider } = await setup();
    expect(manager.getOrBuildProvider('demo', mcp.url)).toBe(provider);
    const other = manager.getOrBuildProvider('demo', mcp.url.replace('/mcp', '/other'));
    expect(other).not.toBe(provider);
    const error = await other.token().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeedsReauthError);
    expect((error as Error).message).toContain('belongs to');
  });

  it('refuses plain http to a non-loopback host, and the provider is not an OAuthClientProvider', async () => {
    const manager = new OAuthManager({ store: new MemoryCredentialStore(), interactive: 'never' });
    expect(() => manager.getOrBuildProvider('x', 'http://example.com/mcp')).toThrow(/https/);
    const p = manager.getOrBuildProvider('x', 'https://example.com/mcp') as unknown as Record<
      string,
      unknown
    >;
    expect(typeof p.token).toBe('function');
    expect(typeof p.onUnauthorized).toBe('function');
    expect(typeof p.fetch).toBe('function');
    expect(p.tokens).toBeUndefined();
    expect(p.clientInformation).toBeUndefined();
    await expect(manager.accessToken('x')).rejects.toBeInstanceOf(NeedsReauthError);
    await manager.close();
  });
});

describe('cold load and corrupt records', () => {
  it('a corrupt record: status reports it, token() raises NeedsReauthError, and the bytes are kept aside', async () => {
    const { manager, recordPath, home } = await setup();
    await writeFile(recordPath, '{"schemaVersion":1, "truncated');
    await manager.invalidateIfDiskChanged('demo');
    const status = await manager.status('demo');
    expect(status.state).toBe('needs_reauth');
    expect(status.error).toMatch(/unreadable/);
    await expect(manager.accessToken('demo')).rejects.toBeInstanceOf(NeedsReauthError);
    const { readdir } = await import('node:fs/promises');
    const kept = (await readdir(join(home, 'credentials'))).filter((f) => f.includes('corrupt'));
    expect(kept).toHaveLength(1);
    expect(await readFile(join(home, 'credentials', kept[0]!), 'utf8')).toBe(
      '{"schemaVersion":1, "truncated',
    );
  });

  it('a record without discovery metadata runs discovery before its first refresh (split-origin)', async () => {
    const { as, clock, recordPath, home, mcp } = await setup();
    const record = JSON.parse(await readFile(recordPath, 'utf8'));
    delete record.discovery;
    await writeFile(recordPath, JSON.stringify(record));
    const fresh = new OAuthManager({ home, clock, interactive: 'never' });
    cleanups.push(() => fresh.close());
    const provider = fresh.getOrBuildProvider('demo', mcp.url);
    clock.advance(3600_000 + 1);
    await expect(provider.token()).resolves.toMatch(/^eyJ/);
    expect(as.stats.refreshSuccesses).toBe(1);
    expect(
      JSON.parse(await readFile(recordPath, 'utf8')).discovery.authorizationServerMetadata.token_endpoint,
    ).toBe(`${as.issuer}/token`);
  });
});

describe('remove()', () => {
  it('revokes at the server (RFC 7009), deletes tokens and client registration, and evicts', async () => {
    const { as, manager, recordPath, provider } = await setup();
    const token = await provider.token();
    await manager.remove('demo');
    expect(as.stats.revocations).toBe(1);
    await expect(readFile(recordPath)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(manager.handle401('demo', token)).rejects.toThrow(/Unknown MCP server/);
  });
});
