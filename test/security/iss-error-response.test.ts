/**
 * RFC 9207 on error responses (MCP 2026-07-28, SEP-2468): an authorization response whose `iss`
 * does not name the authorization server the login started at (or lacks it where the server
 * advertises `authorization_response_iss_parameter_supported`) is not acted on, and its `error`,
 * `error_description` and `error_uri` are shown nowhere: neither in the page the loopback answers
 * nor in the login's error, nor in a pasted line's error. The login fails with the issuer error.
 * With the right `iss`, the server's (cleaned) error is still shown.
 *
 * Real parts: the kit's authorization server (it advertises the parameter) and MCP server. The
 * "browser" is a hook that sends the redirect the test wants to the loopback listener.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LoginError } from '../../src/index.js';
import type { OpenBrowser } from '../../src/oauth/browser.js';
import { startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

/** A browser that answers the authorization request with `params` (plus the right state). */
function redirectingBrowser(params: Record<string, string>, pages: string[]): OpenBrowser {
  return async (url) => {
    const authorization = new URL(url);
    const callback = new URL(authorization.searchParams.get('redirect_uri') ?? '');
    for (const [k, v] of Object.entries(params)) callback.searchParams.set(k, v);
    callback.searchParams.set('state', authorization.searchParams.get('state') ?? '');
    const response = await fetch(callback);
    pages.push(await response.text());
    return { failed: new Promise<never>(() => {}) };
  };
}

async function loginError(promise: Promise<unknown>): Promise<LoginError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LoginError);
  return error as LoginError;
}

const PLANTED = { error: 'access_denied', error_description: 'PLANTED', error_uri: 'https://evil/PLANTED' };

describe('RFC 9207 iss on error responses', () => {
  it.each([
    ['a wrong iss', { iss: 'https://evil' }],
    ['no iss although the server advertises it', {}],
  ])('loopback: %s -> issuer error, the server text is shown nowhere', async (_label, iss) => {
    const { as, manager } = await startBed(cleanups, { login: false });
    const pages: string[] = [];
    const error = await loginError(
      manager.login('demo', { openBrowser: redirectingBrowser({ ...PLANTED, ...iss }, pages) }),
    );
    expect(error.message).toContain(`the authorization response did not come from ${as.issuer}`);
    expect(`${error.message} ${error.stack}`).not.toContain('PLANTED');
    expect(error.message).not.toContain('access_denied');
    expect(pages).toHaveLength(1);
    expect(pages[0]).not.toContain('PLANTED');
    expect(pages[0]).not.toContain('access_denied');
    expect(as.stats.tokenRequests).toBe(0);
  });

  it('loopback: the right iss still shows the cleaned error', async () => {
    const { as, manager } = await startBed(cleanups, { login: false });
    const pages: string[] = [];
    const error = await loginError(
      manager.login('demo', {
        openBrowser: redirectingBrowser(
          { error: 'access_denied', error_description: 'You said no\u001b[31m', iss: as.issuer },
          pages,
        ),
      }),
    );
    expect(error.message).toContain('access_denied');
    expect(pages[0]).toContain('You said no');
    expect(pages[0]).not.toContain('\u001b');
  });

  it('paste: a wrong iss -> issuer error without the server text; the right one shows it', async () => {
    const { as, manager } = await startBed(cleanups, { login: false });
    const run = async (iss: string) => {
      const input = new PassThrough();
      let prompts = '';
      const login = manager.login('demo', {
        flow: 'paste',
        input,
        prompt: (p) => {
          prompts += `${JSON.stringify(p)}\n`;
          if (p.kind === 'paste-url') {
            const authorization = new URL(p.url);
            const callback = new URL(authorization.searchParams.get('redirect_uri') ?? '');
            for (const [k, v] of Object.entries({ ...PLANTED, iss })) callback.searchParams.set(k, v);
            callback.searchParams.set('state', authorization.searchParams.get('state') ?? '');
            input.write(`${callback.href}\n`);
          }
        },
      });
      const error = await loginError(login);
      return { error, prompts };
    };
    const wrong = await run('https://evil');
    expect(wrong.error.message).toContain(`the authorization response did not come from ${as.issuer}`);
    expect(`${wrong.error.message} ${wrong.prompts}`).not.toContain('PLANTED');
    const right = await run(as.issuer);
    expect(right.error.message).toContain('access_denied (PLANTED)');
    expect(as.stats.tokenRequests).toBe(0);
  });
});
