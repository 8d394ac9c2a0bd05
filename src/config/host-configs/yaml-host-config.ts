/**
 * Hermes's config.yaml: `mcp_servers.NAME` entries, read and edited through the `yaml`
 * package's Document API, which keeps comments and the layout of everything an edit does not
 * touch.
 */
import { type Document, isMap, isScalar, parseDocument } from 'yaml';
import { type HostDocument, HostFileError, type HostParser, lineColumn } from './host-document.js';
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

function yamlDocument(text: string, doc: Document.Parsed, entries: HostEntry[]): HostDocument {
  return {
    entries,
    entryText(entry) {
      const node = doc.getIn(['mcp_servers', keyOf(doc, entry.name)], true) as {
        range?: [number, number, number];
      };
      return node?.range ? text.slice(node.range[0], node.range[1]) : undefined;
    },
    replaceEntry(entry, value) {
      const fresh = parseYaml(text);
      fresh.setIn(['mcp_servers', keyOf(fresh, entry.name)], fresh.createNode(value));
      return fresh.toString();
    },
    restoreEntry(keyPath, original) {
      const fresh = parseYaml(text);
      const key = keyOf(fresh, keyPath[1]!);
      if (!fresh.hasIn(['mcp_servers', key])) return undefined;
      const saved = parseYaml(original);
      fresh.setIn(['mcp_servers', key], saved.contents);
      return fresh.toString();
    },
  };
}
