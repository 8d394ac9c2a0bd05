/**
 * Codex's config.toml: `[mcp_servers.NAME]` tables, read with smol-toml. TOML has no edit API
 * that keeps comments, so an edit is a splice: the byte span of the entry's table (its header,
 * its keys, its sub-tables such as `[mcp_servers.NAME.env]`; comments and blank lines before the
 * next table stay outside) is replaced, and the result is parsed again and compared with what
 * was meant: any other change (a header found inside a multi-line string, say) refuses the edit.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse, stringify, TomlError } from 'smol-toml';
import { eolOf, type HostDocument, HostFileError, type HostParser } from './host-document.js';
import type { HostEntry } from './host-entry.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseToml(text: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      throw new HostFileError(
        `not valid TOML (${error.message.split('\n')[0]} at line ${error.line}, column ${error.column})`,
      );
    }
    throw new HostFileError(`not valid TOML (${error instanceof Error ? error.message : String(error)})`);
  }
}

interface Line {
  start: number;
  end: number; // after the line's newline
  text: string;
}

function linesOf(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline + 1;
    lines.push({ start, end, text: text.slice(start, end) });
    start = end;
  }
  return lines;
}

/** The key path of a table header line (`[a."b c"]` → ['a', 'b c']), or undefined when the line is not one. */
function headerPath(line: string): { path: string[]; array: boolean } | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('[')) return undefined;
  const array = trimmed.startsWith('[[');
  let parsed: unknown;
  try {
    parsed = parse(trimmed);
  } catch {
    return undefined;
  }
  const path: string[] = [];
  let node = parsed;
  for (;;) {
    if (Array.isArray(node)) node = node[0];
    if (!isRecord(node)) break;
    const keys = Object.keys(node);
    if (keys.length !== 1) break;
    path.push(keys[0]!);
    node = node[keys[0]!];
  }
  return path.length > 0 ? { path, array } : undefined;
}

const startsWith = (path: string[], prefix: string[]) =>
  path.length >= prefix.length && prefix.every((part, i) => path[i] === part);

/** The byte span of the table at `keyPath` and its sub-tables, or undefined when it is not written as a table header. */
function tableSpan(
  text: string,
  keyPath: string[],
): { start: number; end: number; header: string } | undefined {
  const lines = linesOf(text);
  const at = lines.findIndex((line) => {
    const header = headerPath(line.text);
    return header && !header.array && isDeepStrictEqual(header.path, keyPath);
  });
  if (at < 0) return undefined;
  let next = lines.length;
  for (let i = at + 1; i < lines.length; i++) {
    const header = headerPath(lines[i]!.text);
    if (header && !startsWith(header.path, keyPath)) {
      next = i;
      break;
    }
  }
  // Blank lines and comments just before the next table belong to it (or to nobody): keep them.
  let last = next - 1;
  while (last > at && (lines[last]!.text.trim() === '' || lines[last]!.text.trim().startsWith('#'))) last--;
  const end = lines[last]!.end;
  return { start: lines[at]!.start, end, header: lines[at]!.text.replace(/\r?\n$/, '') };
}

/** Parses Codex's config.toml: the entries of `mcp_servers`. */
export const codexTomlParser: HostParser = (text) => {
  const data = parseToml(text);
  const servers = isRecord(data.mcp_servers) ? data.mcp_servers : {};
  const entries: HostEntry[] = Object.entries(servers).map(([name, value]) => ({
    name,
    keyPath: ['mcp_servers', name],
    value,
  }));
  return tomlDocument(text, entries);
};

function tomlDocument(text: string, entries: HostEntry[]): HostDocument {
  /** `text` with the span replaced, checked: the entry must read back as `expected` and nothing else may change. */
  const splice = (keyPath: string[], replacement: string, expected: unknown): string => {
    const span = tableSpan(text, keyPath);
    if (!span)
      throw new HostFileError(`the entry ${keyPath.at(-1)} is not written as a [${keyPath.join('.')}] table`);
    const result = text.slice(0, span.start) + replacement + text.slice(span.end);
    const after = parseToml(result);
    const servers = after.mcp_servers as Record<string, unknown>;
    // A fresh parse, not a clone: the comparison is strict about prototypes.
    const wanted = parseToml(text);
    (wanted.mcp_servers as Record<string, unknown>)[keyPath[1]!] = parseToml(stringify(expected));
    if (!isRecord(servers) || !isDeepStrictEqual(after, wanted)) {
      throw new HostFileError(
        `the table [${keyPath.join('.')}] could not be edited in place without changing the rest of the file`,
      );
    }
    return result;
  };
  return {
    entries,
    entryText(entry) {
      const span = tableSpan(text, entry.keyPath);
      return span ? text.slice(span.start, span.end) : undefined;
    },
    replaceEntry(entry, value) {
      const span = tableSpan(text, entry.keyPath);
      if (!span)
        throw new HostFileError(`the entry ${entry.name} is not written as a [mcp_servers.NAME] table`);
      const eol = eolOf(text);
      const body = stringify(value).replace(/\n/g, eol);
      const replacement = `${span.header}${eol}${body.endsWith(eol) ? body : `${body}${eol}`}`;
      return splice(entry.keyPath, replacement, value);
    },
    restoreEntry(keyPath, original) {
      const span = tableSpan(text, keyPath);
      if (!span) return undefined;
      return text.slice(0, span.start) + original + text.slice(span.end);
    },
  };
}
