import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LoginError, type LoginPrompt } from '../../src/index.js';
import { TOKEN_PATH } from '../kit/authorization-server.js';
import { startBed, useCleanups } from '../support/testbed.js';

// oauth.timeout bounds the whole login: every phase that talks to a server (discovery, client
// registration, the code exchange, the device flow) ends with it, and so does the caller's
// AbortSignal. The servers here accept the request and never answer (the fault proxy's 'hang').

const cleanups = useCleanups();
const TIMEOUT_SECONDS = 3;

async function loginError(promise: Promise<unknown>): Promise<LoginError> {
  const error = await promise.then(
    () => new Error('the login succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LoginError);
  return error as LoginError;
}

describe('oauth.timeout bounds every phase of a login', () => {
  it('metadata discovery against a server that never answers: LoginError naming the phase, lock free, record unchanged', async () => {
    const { manager, proxy, recordPath } = await startBed(cleanups, {
      proxy: 'mcp',
      config: { timeoutSeconds: TIMEOUT_SECONDS },
    });
    const before = await readFile(recordPath);
    proxy!.setFault('hang', { path: /^\/\.well-known\// });
    const prompts: LoginPrompt[] = [];
    const error = await loginError(manager.login('demo', { prompt: (p) => prompts.push(p) }));
    expect(error.message).toContain('metadata discovery');
    expect(error.message).toContain(`${TIMEOUT_SECONDS} s (oauth.timeout)`);
    expect(Buffer.compare(await readFile(recordPath), before)).toBe(0);
    // The login lock was released: a second login runs its own flow instead of waiting for one.
    proxy!.setFault('pass');
    const second = await manager.login('demo', { prompt: (p) => prompts.push(p) });
    expect(second.joined).toBe(false);
    expect(prompts.map((p) => p.kind)).not.toContain('waiting-for-other-login');
    expect(second.status.state).toBe('valid');
  }, 30_000);

  it('client registration that never answers ends with the deadline; nothing is stored', async () => {
    const { manager, proxy, record } = await startBed(cleanups, {
      proxy: 'as',
      login: false,
      config: { timeoutSeconds: TIMEOUT_SECONDS },
    });
    proxy!.setFault('hang', { path: '/reg' });
    const error = await loginError(manager.login('demo'));
    expect(error.message).toContain('client registration');
    expect(error.message).toContain(`${TIMEOUT_SECONDS} s`);
    await expect(record()).rejects.toThrow(/ENOENT/);
  }, 30_000);

  it('the code-for-token exchange that never answers ends with the deadline; the old record stays', async () => {
    const { manager, proxy, recordPath } = await startBed(cleanups, {
      proxy: 'as',
      config: { timeoutSeconds: TIMEOUT_SECONDS },
    });
    const before = await readFile(recordPath);
    proxy!.setFault('hang', { path: TOKEN_PATH });
    const error = await loginError(manager.login('demo'));
    expect(error.message).toContain('token exchange');
    expect(Buffer.compare(await readFile(recordPath), before)).toBe(0);
    proxy!.setFault('pass');
    expect((await manager.login('demo')).status.state).toBe('valid');
  }, 30_000);

  it('the device authorization request that never answers ends with the deadline', async () => {
    const { manager, proxy, recordPath } = await startBed(cleanups, {
      proxy: 'as',
      config: { timeoutSeconds: TIMEOUT_SECONDS },
    });
    const before = await readFile(recordPath);
    proxy!.setFault('hang', { path: '/device/auth' });
    const error = await loginError(manager.login('demo', { flow: 'device' }));
    expect(error.message).toMatch(/device authorization request|client registration/);
    expect(error.message).toContain(`${TIMEOUT_SECONDS} s`);
    expect(Buffer.compare(await readFile(recordPath), before)).toBe(0);
  }, 30_000);

  it("LoginOptions.signal cancels the phase in progress (the CLI's Ctrl-C) well before oauth.timeout", async () => {
    const { manager, proxy, recordPath } = await startBed(cleanups, { proxy: 'as' }); // default 300 s
    const before = await readFile(recordPath);
    proxy!.setFault('hang', { path: TOKEN_PATH });
    const controller = new AbortController();
    const requestsBefore = proxy!.stats.faulted;
    const watcher = setInterval(() => {
      if (proxy!.stats.faulted > requestsBefore) controller.abort();
    }, 20);
    cleanups.push(async () => clearInterval(watcher));
    const error = await loginError(manager.login('demo', { signal: controller.signal }));
    expect(error.message).toContain('cancelled during the token exchange');
    expect(Buffer.compare(await readFile(recordPath), before)).toBe(0);
    proxy!.setFault('pass');
    expect((await manager.login('demo')).joined).toBe(false);
  }, 30_000);
});
