/**
 * A server that demands a scope the authorization server never grants must not turn every call
 * into browser logins. After a step-up whose grant still lacks the scope, the refusal is noted in
 * the stored credential for SCOPE_REFUSAL_MS: every call, in every process on the same home, then
 * fails at once with InsufficientScopeError, until the note expires or a person logs in by hand.
 * Real servers: the kit's authorization server (it grants only the scopes it knows) and its MCP
 * server (`toolScopes` makes `count` answer 403 insufficient_scope for mcp:admin).
 */
import { rename, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { connect, InsufficientScopeError, OAuthManager } from '../../src/index.js';
import { SCOPE_REFUSAL_MS } from '../../src/manager/scope-refusal.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { textOf } from '../support/mcp-client.js';
import { startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

/** The authorization server's resource scopes: a test adds mcp:admin to play the administrator. */
async function bed() {
  const asScopes = ['mcp:read', 'mcp:write'];
  const parts = await startBed(cleanups, {
    as: { scopes: asScopes },
    mcp: { scopesSupported: ['mcp:read'], toolScopes: { count: ['mcp:admin'] } },
    manager: { interactive: 'always' },
  });
  parts.opened.opened = 0;
  const client = await open(parts.manager, parts.mcp.url);
  const count = () => client.callTool({ name: 'count', arguments: {} });
  return { ...parts, asScopes, client, count };
}

async function open(manager: OAuthManager, url: string) {
  const client = await connect('demo', { manager, url });
  cleanups.push(() => client.close());
  return client;
}

async function refusedCall(call: () => Promise<unknown>): Promise<InsufficientScopeError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InsufficientScopeError);
  return error as InsufficientScopeError;
}

describe('a scope the authorization server never grants', () => {
  it('3 calls: one step-up login in all, then InsufficientScopeError at once, saying until when and what to do', async () => {
    const { as, mcp, opened, clock, record, count, manager } = await bed();
    const started = clock.now();
    const errors = [await refusedCall(count), await refusedCall(count), await refusedCall(count)];
    expect(as.stats.authorizations).toBe(1);
    expect(opened.opened).toBe(1);
    expect(mcp.stats.toolCalls.count ?? 0).toBe(0);
    for (const error of errors) {
      expect(error.missingScopes).toEqual(['mcp:admin']);
      expect(error.message).toContain(`did not grant them at ${new Date(started).toISOString()}`);
      expect(error.message).toContain(
        `no new login is attempted for them before ${new Date(started + SCOPE_REFUSAL_MS).toISOString()}`,
      );
      expect(error.message).toContain("Ask the server's administrator");
      expect(error.message).toContain(`then run: ${manager.reloginCommandFor('demo')}`);
      expect(manager.reloginCommandFor('demo')).toMatch(/mcp-oauth .*login demo$/);
    }
    const stored = await record();
    expect(stored.refusedScopes).toEqual({
      scopes: ['mcp:admin'],
      at: started,
      until: started + SCOPE_REFUSAL_MS,
    });
    expect(stored.tokens.scope).not.toContain('mcp:admin');
  });

  it('another manager on the same home fails at once too: no authorization, no browser', async () => {
    const { as, mcp, home, clock, count } = await bed();
    await refusedCall(count);
    expect(as.stats.authorizations).toBe(1);
    const opened = { opened: 0 };
    const other = new OAuthManager({
      home,
      clock,
      interactive: 'always',
      openBrowser: scriptedBrowserHook(opened),
    });
    cleanups.push(() => other.close());
    other.getOrBuildProvider('demo', mcp.url);
    const client = await open(other, mcp.url);
    for (let i = 0; i < 3; i++) {
      const error = await refusedCall(() => client.callTool({ name: 'count', arguments: {} }));
      expect(error.message).toContain('no new login is attempted');
    }
    expect(as.stats.authorizations).toBe(1);
    expect(opened.opened).toBe(0);
    expect(mcp.stats.toolCalls.count ?? 0).toBe(0);
  });

  it('after 10 minutes one step-up is tried again, and refused, noted again', async () => {
    const { as, opened, clock, record, count, manager } = await bed();
    await refusedCall(count);
    clock.advance(SCOPE_REFUSAL_MS - 1);
    await refusedCall(count);
    expect(as.stats.authorizations).toBe(1);
    clock.advance(1);
    expect(await manager.scopeRefusal('demo')).toBeUndefined();
    await refusedCall(count);
    await refusedCall(count);
    expect(as.stats.authorizations).toBe(2);
    expect(opened.opened).toBe(2);
    expect((await record()).refusedScopes).toEqual({
      scopes: ['mcp:admin'],
      at: clock.now(),
      until: clock.now() + SCOPE_REFUSAL_MS,
    });
  });

  it('the note outlives a refresh and a login a request started; the step-up is still not retried', async () => {
    const { as, clock, record, count, manager, client } = await bed();
    await refusedCall(count);
    const note = (await record()).refusedScopes;
    await manager.refreshNow('demo');
    expect((await record()).refusedScopes).toEqual(note);
    // A login started by a request (the server's 401 after the tokens were dropped) keeps it.
    await manager.logout('demo');
    clock.advance(1000);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'back' } }))).toBe('back');
    expect(as.stats.authorizations).toBe(2);
    expect((await record()).refusedScopes).toEqual(note);
    await refusedCall(count);
    expect(as.stats.authorizations).toBe(2);
  });

  it('a login by hand clears the note; once the scope is granted the next call steps up once and runs', async () => {
    const { as, mcp, asScopes, record, count, manager } = await bed();
    await refusedCall(count);
    // The administrator grants mcp:admin; the person logs in by hand, as the error says.
    asScopes.push('mcp:admin');
    await manager.login('demo');
    expect(await manager.scopeRefusal('demo')).toBeUndefined();
    expect((await record()).refusedScopes).toBeUndefined();
    expect(textOf(await count())).toBe('1');
    expect(as.stats.authorizations).toBe(3); // the refused step-up, the login by hand, one step-up
    expect(mcp.stats.toolCalls.count).toBe(1);
    expect((await record()).tokens.scope).toContain('mcp:admin');
  });

  it('a step-up login whose grant includes the noted scopes drops them from the note', async () => {
    const { asScopes, record, count, manager } = await bed();
    await refusedCall(count);
    await manager.noteRefusedScopes('demo', ['mcp:billing']);
    expect((await manager.scopeRefusal('demo'))?.scopes).toEqual(['mcp:billing', 'mcp:admin']);
    asScopes.push('mcp:admin');
    const granted = await manager.login('demo', { scope: 'mcp:read mcp:admin' });
    expect(granted.status.scopes).toContain('mcp:admin');
    expect((await record()).refusedScopes.scopes).toEqual(['mcp:billing']);
    expect(textOf(await count())).toBe('1');
  });

  it('a malformed note in the record file reads as none: the credential stays usable', async () => {
    const { record, recordPath, manager, client } = await bed();
    // Replaced the way the store writes (a rename), so the watcher never sees a half-written file.
    const hostile = { ...(await record()), refusedScopes: { scopes: 'x' } };
    await writeFile(`${recordPath}.tmp`, JSON.stringify(hostile), { mode: 0o600 });
    await rename(`${recordPath}.tmp`, recordPath);
    expect(await manager.scopeRefusal('demo')).toBeUndefined();
    expect((await manager.status('demo')).state).toBe('valid');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'ok' } }))).toBe('ok');
  });
});
