import type { OpenBrowser } from '../../src/oauth/browser.js';
import { scriptedBrowse } from '../kit/scripted-browser.js';

/** An in-process browser hook: the scripted browser follows the pages and hits the callback. */
export function scriptedBrowserHook(counter?: { opened: number }): OpenBrowser {
  return async (url) => {
    if (counter) counter.opened++;
    const done = scriptedBrowse(url);
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
