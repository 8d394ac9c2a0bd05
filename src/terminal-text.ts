// Text from an untrusted source (an authorization server, a metadata document, a callback's
// query) made safe to show to a person. A terminal interprets what it is sent: ESC starts a
// sequence that can clear the screen, set the window title, rewrite earlier lines or (on some
// terminals) answer with keystrokes; CR and LF forge lines ("✓ Logged in", "Run: curl ... | sh");
// bidi overrides show text in another order than it is. Neither a terminal nor a page may get any
// of them from a server. The CLI and the login pages share this one implementation.

/** Longest server-supplied text shown by default; a real error_description is a sentence. */
export const MAX_DISPLAY_LENGTH = 300;

// C0 and C1 controls (ESC, BEL, CR, LF, DEL, CSI, ...) and format characters (bidi overrides and
// isolates, zero-width joiners, BOM): none has a place in a value shown on one line.
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}]/gu;
const LINE_BREAKS = /[\r\n\t\v\f\u0085\u2028\u2029]+/g;

/**
 * `text` from an untrusted source made safe to show on one line of a terminal or a page: line
 * breaks and tabs become spaces; other control and format characters (escape sequences, bell,
 * bidi overrides) are dropped; at most `maxLength` characters, then an ellipsis.
 */
export function displayText(text: string, maxLength = MAX_DISPLAY_LENGTH): string {
  const clean = text.replace(LINE_BREAKS, ' ').replace(CONTROL_OR_FORMAT, '');
  const chars = [...clean];
  return chars.length > maxLength ? `${chars.slice(0, maxLength).join('')}…` : clean;
}

/**
 * Like {@link displayText} for text of several lines that this program laid out itself (a stack
 * trace, a message listing several configuration problems): LF is kept, every other control and
 * format character is dropped, CR included (a CR returns to the start of the line and overwrites
 * what was printed). No length limit.
 */
export function displayLines(text: string): string {
  return text
    .split('\n')
    .map((line) => displayText(line, Number.POSITIVE_INFINITY))
    .join('\n');
}
