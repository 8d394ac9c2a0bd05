/**
 * Hermes's config.yaml: `mcp_servers.NAME` entries, read with the `yaml` package's Document
 * API. Its serializer rewrites some layout it was not asked to (`[a]` becomes `[ a ]`), so an
 * edit splices the entry's own span (the node's range from the Document) with the new value
 * rendered at the entry's indentation, and checks on a fresh parse that nothing else changed.
 */
import { isDeepStrictEqual } from 'node:util';
import { type Document, isMap, isScalar, parseDocument, stringify } from 'yaml';
import { eolOf, type HostDocument, HostFileError, type HostParser, lineColumn } from './host-document.js';
import type { HostEntry } from './host-entry.js';

function parseYaml(text: string): Document.Parsed {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  const error = doc.errors[0];
  if (error)
    throw new HostFileError(
      `not valid YAML (${error.message.split('\n')[0]} at ${lineColumn(text, error.pos[0])})`,
    );
  return doc;
}

/** Parses Hermes's config.yaml: the entries of `mcp_servers`. */
export const hermesYamlParser: HostParser = (text) => {
  const doc = parseYaml(text);
  const servers = doc.getIn(['mcp_servers'], true);
  const entries: HostEntry[] = [];
  if (isMap(servers)) {
    for (const pair of servers.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (typeof key !== 'string' && typeof key !== 'number') continue;
      const name = String(key);
      // Aliases expand only so far (maxAliasCount): no alias bomb from an untrusted file.
      entries.push({ name, keyPath: ['mcp_servers', name], value: plain(doc, ['mcp_servers', key]) });
    }
  }
  return yamlDocument(text, doc, entries);
};

/** The plain value at `path` (aliases resolved up to a bound), undefined when it cannot be made plain. */
function plain(doc: Document.Parsed, path: unknown[]): unknown {
  try {
    const node = doc.getIn(path, true) as { toJS?: (doc: Document, options: object) => unknown } | undefined;
    if (node && typeof node.toJS === 'function') return node.toJS(doc, { maxAliasCount: 100 });
    return doc.getIn(path);
  } catch {
    return undefined;
  }
}

/** The key as the map holds it (a number key stays a number). */
function keyOf(doc: Document.Parsed, name: string): unknown {
  const servers = doc.getIn(['mcp_servers'], true);
  if (!isMap(servers)) return name;
  const pair = servers.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === name);
  return pair ? (isScalar(pair.key) ? pair.key.value : pair.key) : name;
}

/** The value rendered to sit where `node` is: flow (JSON, valid YAML) for a flow node, else a block indented at its column. */
function render(
  text: string,
  node: { range: [number, number, number]; flow?: boolean },
  value: unknown,
): string {
  const [start, end] = node.range;
  if (node.flow) return JSON.stringify(value).replace(/,"/g, ', "').replace(/":/g, '": ');
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const indent = ' '.repeat(start - lineStart);
  const eol = eolOf(text);
  const block = stringify(value, { indent: 2 }).replace(/\n$/, '').split('\n').join(`${eol}${indent}`);
  const ending = text.slice(start, end).match(/\r?\n$/)?.[0] ?? '';
  return `${block}${ending}`;
}

interface RangedNode {
  range: [number, number, number];
  flow?: boolean;
}

function nodeAt(doc: Document.Parsed, name: string): RangedNode | undefined {
  const node = doc.getIn(['mcp_servers', keyOf(doc, name)], true) as Partial<RangedNode> | undefined;
  return node?.range ? (node as RangedNode) : undefined;
}

function plainDocument(doc: Document.Parsed): unknown {
  return doc.toJS({ maxAliasCount: 100 });
}

function yamlDocument(text: string, doc: Document.Parsed, entries: HostEntry[]): HostDocument {
  return {
    entries,
    entryText(entry) {
      const node = nodeAt(doc, entry.name);
      return node ? text.slice(node.range[0], node.range[1]) : undefined;
    },
    replaceEntry(entry, value) {
      const node = nodeAt(doc, entry.name);
      if (!node || !isMap(node)) throw new HostFileError(`the entry ${entry.name} is not a mapping`);
      const result = text.slice(0, node.range[0]) + render(text, node, value) + text.slice(node.range[1]);
      // The splice must change that entry and nothing else: checked on a fresh parse of both.
      const wanted = plainDocument(parseYaml(text)) as { mcp_servers: Record<string, unknown> };
      wanted.mcp_servers[entry.name] = value;
      if (!isDeepStrictEqual(plainDocument(parseYaml(result)), wanted)) {
        throw new HostFileError(
          `the entry ${entry.name} could not be edited in place without changing the rest of the file`,
        );
      }
      return result;
    },
    restoreEntry(keyPath, original) {
      const node = nodeAt(doc, keyPath[1]!);
      if (!node) return undefined;
      return text.slice(0, node.range[0]) + original + text.slice(node.range[1]);
    },
  };
}
