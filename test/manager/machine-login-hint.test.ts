import { describe, expect, it } from 'vitest';
import type { OpenBrowser } from '../../src/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { startBed, useCleanups } from '../support/testbed.js';

const cleanups = useCleanups();

describe('oauth.login_hint', () => {
  it('is sent with the authorization request (OIDC Core §3.1.2.1)', async () => {
    const opened: URL[] = [];
    const browser = scriptedBrowserHook();
    const openBrowser: OpenBrowser = (url) => {
      opened.push(new URL(url));
      return browser(url);
    };
    await startBed(cleanups, { config: { loginHint: 'alice@example.com' }, manager: { openBrowser } });
    expect(opened).toHaveLength(1);
    expect(opened[0]!.searchParams.get('login_hint')).toBe('alice@example.com');
  }, 60_000);
});
