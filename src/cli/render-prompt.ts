import type { LoginPrompt } from '../index.js';
import { displayText } from '../terminal-text.js';
import { humanDuration } from './duration.js';
import type { Style } from './style.js';

/** A URL from a server, on one line and without control characters, never shortened (it is copied). */
const url = (text: string) => displayText(text, Number.POSITIVE_INFINITY);

/**
 * What the person must see during a login, as text for stderr (stdout is for the result and
 * `--json`). The authorization URL always stands alone on its own line, so that it can be copied
 * from a terminal (and found by a program reading stderr) whatever else is printed. Every value
 * in a prompt comes from a server (the URLs, the user code, the reason a pasted address was
 * ignored): each is shown on its own one line without control characters (see terminal-text.ts),
 * so no server can clear the screen, retitle the window or forge a line of this prompt.
 */
export function renderPrompt(raw: LoginPrompt, style: Style): string {
  const prompt = { ...raw, server: displayText(raw.server) } as LoginPrompt;
  switch (prompt.kind) {
    case 'open-url':
      return [
        `Opening your browser to log in to ${prompt.server}. If it does not open, visit:`,
        '',
        `  ${url(prompt.url)}`,
        '',
        ...(prompt.sshHint ? [style.dim(prompt.sshHint), ''] : []),
      ].join('\n');
    case 'paste-url':
      return [
        `To log in to ${prompt.server}, open this URL in a browser on any machine:`,
        '',
        `  ${url(prompt.url)}`,
        '',
        'After you approve, the browser is sent to an http://127.0.0.1 address (the page may fail to',
        'load: that is expected). Copy that whole address from the address bar and paste it here:',
        '',
      ].join('\n');
    case 'device-code':
      return [
        `To log in to ${prompt.server}, visit ${url(prompt.verificationUri)} and enter the code:`,
        '',
        `  ${style.bold(displayText(prompt.userCode))}`,
        '',
        ...(prompt.verificationUriComplete
          ? [`Or open this URL, which carries the code:`, '', `  ${url(prompt.verificationUriComplete)}`, '']
          : []),
        `The code expires in ${humanDuration(prompt.expiresInSeconds, 'long')}.`,
        '',
      ].join('\n');
    case 'paste-ignored': {
      // The reason is a whole clause ("that address belongs to another login attempt ...").
      const reason = displayText(prompt.reason);
      return `${reason.charAt(0).toUpperCase()}${reason.slice(1)}. Paste the address again:\n`;
    }
    case 'no-browser':
      return `No browser can be opened here (${displayText(prompt.reason)}); ${
        prompt.fallback === 'paste'
          ? 'continuing with the paste flow instead.'
          : 'continuing with the device flow instead.'
      }\n`;
    case 'waiting-for-other-login':
      return `Another process is already logging in to ${prompt.server}; waiting for its result instead of opening a second login.\n`;
    default: {
      // A prompt kind this CLI does not know yet: a compile error here, nothing printed at run time.
      prompt satisfies never;
      return '';
    }
  }
}
