import type { LoginPrompt } from '../index.js';
import { humanDuration } from './duration.js';
import type { Style } from './style.js';

/**
 * What the person must see during a login, as text for stderr (stdout is for the result and
 * `--json`). The authorization URL always stands alone on its own line, so that it can be copied
 * from a terminal (and found by a program reading stderr) whatever else is printed.
 */
export function renderPrompt(prompt: LoginPrompt, style: Style): string {
  switch (prompt.kind) {
    case 'open-url':
      return [
        `Opening your browser to log in to ${prompt.server}. If it does not open, visit:`,
        '',
        `  ${prompt.url}`,
        '',
        ...(prompt.sshHint ? [style.dim(prompt.sshHint), ''] : []),
      ].join('\n');
    case 'paste-url':
      return [
        `To log in to ${prompt.server}, open this URL in a browser on any machine:`,
        '',
        `  ${prompt.url}`,
        '',
        'After you approve, the browser is sent to an http://127.0.0.1 address (the page may fail to',
        'load: that is expected). Copy that whole address from the address bar and paste it here:',
        '',
      ].join('\n');
    case 'device-code':
      return [
        `To log in to ${prompt.server}, visit ${prompt.verificationUri} and enter the code:`,
        '',
        `  ${style.bold(prompt.userCode)}`,
        '',
        ...(prompt.verificationUriComplete
          ? [`Or open this URL, which carries the code:`, '', `  ${prompt.verificationUriComplete}`, '']
          : []),
        `The code expires in ${humanDuration(prompt.expiresInSeconds, 'long')}.`,
        '',
      ].join('\n');
    case 'paste-ignored':
      // The reason is a whole clause ("that address belongs to another login attempt ...").
      return `${prompt.reason.charAt(0).toUpperCase()}${prompt.reason.slice(1)}. Paste the address again:\n`;
    case 'waiting-for-other-login':
      return `Another process is already logging in to ${prompt.server}; waiting for its result instead of opening a second login.\n`;
    default: {
      // A prompt kind this CLI does not know yet: a compile error here, nothing printed at run time.
      prompt satisfies never;
      return '';
    }
  }
}
