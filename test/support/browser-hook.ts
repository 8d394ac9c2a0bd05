import type { OpenBrowser } from '../../src/oauth/browser.js';
import { scriptedBrowse } from '../kit/scripted-browser.js';

/** An in-process browser hook: the scripted browser follows the pages and hits the callback. */
export function scriptedBrowserHook(
  counter?: { opened: number },
  options: { delayMs?: number; favicon?: 'before' | 'after' } = {},
): OpenBrowser {
  return async (url) => {
    if (counter) counter.opened++;
    const done = (async () => {
      // A person takes a while in the browser: lets tests overlap two logins.
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      return scriptedBrowse(url, options.favicon ? { favicon: options.favicon } : {});
    })();
    return {
      failed: done.then(
        (r) =>
          r.callbackStatus >= 400
            ? Promise.reject(new Error(`callback answered ${r.callbackStatus}`))
            : new Promise<never>(() => {}),
        (error: unknown) => Promise.reject(error),
      ),
    };
  };
}
