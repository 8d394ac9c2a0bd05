/**
 * The face every host file format (JSON with comments, TOML, YAML) offers: its server entries,
 * the text of one entry as written, and in-place edits that change one entry and keep every
 * other byte of the file (comments, order, spacing).
 */
import type { HostEntry } from './host-entry.js';

/** A host file that cannot be read as its format, or an edit the format cannot make. */
export class HostFileError extends Error {}

/** A parsed host file. */
export interface HostDocument {
  /** The server entries, in file order. */
  entries: HostEntry[];
  /** The entry's value as written in the file; undefined when this format cannot edit it in place. */
  entryText(entry: HostEntry): string | undefined;
  /** The whole text with the entry's value replaced by `value`; HostFileError when it cannot be done in place. */
  replaceEntry(entry: HostEntry, value: Record<string, unknown>): string;
  /** The whole text with the entry at `keyPath` put back to `original` (its text as saved); undefined when the entry is gone. */
  restoreEntry(keyPath: string[], original: string): string | undefined;
}

/** Reads a host file's text; HostFileError (with line and column where known) when it does not parse. */
export type HostParser = (text: string) => HostDocument;

/** 1-based line and column of `offset` in `text`, for messages. */
export function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/** The line ending the file uses (CRLF when its first line ends so). */
export function eolOf(text: string): string {
  const first = text.indexOf('\n');
  return first > 0 && text[first - 1] === '\r' ? '\r\n' : '\n';
}
