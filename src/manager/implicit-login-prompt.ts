import { displayText } from '../terminal-text.js';
import type { LoginPrompt } from './login-types.js';

/**
 * What an implicit login (one a request started: `connect()`, a 401 with `interactive` 'auto' or
 * 'always') shows the person, on stderr: never silent, since a browser may not come up. The URL is
 * printed as well as opened; a device code is printed in full. Plain lines (a host's stderr may be
 * a log), every server-supplied string made safe for a terminal.
 */
export function implicitLoginPrompt(write: (text: string) => void): (prompt: LoginPrompt) => void {
  return (prompt) => {
    const server = displayText(prompt.server);
    switch (prompt.kind) {
      case 'open-url':
        write(
          `[mcp-oauth] ${server} needs a login: opening your browser. If it does not open, visit:\n  ${displayText(prompt.url, Number.POSITIVE_INFINITY)}\n`,
        );
        return;
      case 'device-code':
        write(
          `[mcp-oauth] ${server} needs a login: visit ${displayText(prompt.verificationUri)} and enter the code ${displayText(prompt.userCode)} (expires in ${Math.round(prompt.expiresInSeconds / 60)} min)${prompt.verificationUriComplete ? `, or open ${displayText(prompt.verificationUriComplete, Number.POSITIVE_INFINITY)}` : ''}\n`,
        );
        return;
      case 'no-browser':
        write(
          `[mcp-oauth] ${server}: no browser can be opened here (${displayText(prompt.reason)}); using the device flow\n`,
        );
        return;
      case 'waiting-for-other-login':
        write(`[mcp-oauth] ${server}: another process is logging in; waiting for it\n`);
        return;
      default:
        // paste prompts never happen here: an implicit login never reads the host's stdin.
        return;
    }
  };
}
