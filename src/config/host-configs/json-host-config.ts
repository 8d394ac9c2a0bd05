/**
 * Host files in JSON (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini CLI), read
 * with jsonc-parser so comments and trailing commas (VS Code and Gemini CLI allow them) parse,
 * and edited with its `modify`/`applyEdits` (and plain splices of the entry's own span) so every
 * other byte of the file stays as written.
 */
import {
  applyEdits,
  type FormattingOptions,
  findNodeAtLocation,
  getNodeValue,
  modify,
  type Node,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from 'jsonc-parser';
import { eolOf, type HostDocument, HostFileError, type HostParser, lineColumn } from './host-document.js';
import type { HostEntry } from './host-entry.js';

/** Where the server maps are in a parsed document: key paths from the root, with a scope label. */
export type JsonContainers = (root: unknown) => Array<{ keyPath: string[]; scope?: string }>;

/** The indentation the file uses (its first indented line), for the entries an edit writes. */
function formattingOf(text: string): FormattingOptions {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  return indent.startsWith('\t')
    ? { insertSpaces: false, tabSize: 1, eol: eolOf(text) }
    : { insertSpaces: true, tabSize: indent.length, eol: eolOf(text) };
}

/** A parser for a JSON host file whose server maps `containers` locates. */
export function jsonHostParser(containers: JsonContainers): HostParser {
  return (text) => {
    const errors: ParseError[] = [];
    // A byte-order mark (Windows editors write one) read as a space: same offsets, so edits still
    // apply to the text as it is.
    const parsed = text.startsWith('\uFEFF') ? ` ${text.slice(1)}` : text;
    const root = parseTree(parsed, errors, { allowTrailingComma: true, disallowComments: false });
    const first = errors[0];
    if (first || !root) {
      const where = first
        ? `${printParseErrorCode(first.error)} at ${lineColumn(text, first.offset)}`
        : 'empty';
      throw new HostFileError(`not valid JSON (${where})`);
    }
    if (root.type !== 'object') throw new HostFileError('not a JSON object');
    const entries: HostEntry[] = [];
    for (const { keyPath, scope } of containers(getNodeValue(root))) {
      const map = findNodeAtLocation(root, keyPath);
      if (map?.type !== 'object') continue;
      // The host's JSON.parse keeps the last of duplicate keys: so does this.
      const byName = new Map<string, HostEntry>();
      for (const property of map.children ?? []) {
        const [key, value] = property.children ?? [];
        if (!key || !value || typeof key.value !== 'string') continue;
        byName.delete(key.value);
        byName.set(key.value, {
          name: key.value,
          keyPath: [...keyPath, key.value],
          value: getNodeValue(value),
          ...(scope ? { scope } : {}),
        });
      }
      entries.push(...byName.values());
    }
    return jsonDocument(text, root, entries);
  };
}

function jsonDocument(text: string, root: Node, entries: HostEntry[]): HostDocument {
  const nodeAt = (keyPath: string[]) => findNodeAtLocation(root, keyPath);
  return {
    entries,
    entryText(entry) {
      const node = nodeAt(entry.keyPath);
      return node ? text.slice(node.offset, node.offset + node.length) : undefined;
    },
    replaceEntry(entry, value) {
      if (!nodeAt(entry.keyPath)) throw new HostFileError(`the entry ${entry.name} is not in the file`);
      const edits = modify(text, entry.keyPath, value, { formattingOptions: formattingOf(text) });
      return applyEdits(text, edits);
    },
    restoreEntry(keyPath, original) {
      const node = nodeAt(keyPath);
      if (!node) return undefined;
      return text.slice(0, node.offset) + original + text.slice(node.offset + node.length);
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `mcpServers` at the root: Claude Desktop, Claude Code's .mcp.json, Cursor, Windsurf, Gemini CLI. */
export const mcpServersAtRoot: JsonContainers = () => [{ keyPath: ['mcpServers'] }];

/** VS Code's mcp.json: `servers` at the root (beside `inputs`). */
export const serversAtRoot: JsonContainers = () => [{ keyPath: ['servers'] }];

/** Claude Code's ~/.claude.json: user-scope `mcpServers`, and each project's own under `projects.<path>.mcpServers`. */
export const claudeCodeUserContainers: JsonContainers = (root) => {
  const found: Array<{ keyPath: string[]; scope?: string }> = [{ keyPath: ['mcpServers'], scope: 'user' }];
  const projects = isRecord(root) ? root.projects : undefined;
  if (isRecord(projects)) {
    for (const [path, project] of Object.entries(projects)) {
      if (isRecord(project) && isRecord(project.mcpServers))
        found.push({ keyPath: ['projects', path, 'mcpServers'], scope: `project ${path}` });
    }
  }
  return found;
};
