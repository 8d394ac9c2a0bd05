/**
 * `config.yaml` as a YAML document (the `yaml` library): what an edit needs to keep comments,
 * order and formatting, and what a problem report needs to point at a line and a column. Loaded
 * only for an edit or a file with a problem: reading a valid file takes the fast path in
 * config-file.ts.
 */
import {
  type Document,
  isMap,
  isScalar,
  LineCounter,
  parseDocument,
  visit,
  type YAMLError,
  YAMLMap,
} from 'yaml';
import { ConfigError } from '../errors.js';
import { renderFound, type SourceAt } from './config-problems.js';
import { RULES } from './config-schema.js';

/** Written at the top of a file that `addServer` creates. */
const NEW_FILE_COMMENT =
  ' MCP servers whose OAuth credentials mcp-oauth manages: servers.<name>.url, and optional\n' +
  ' servers.<name>.oauth settings (client_id, client_secret_env, client_metadata_url, scope,\n' +
  ' redirect_port, client_name, timeout, refresh_skew).';

/** Parses with comments kept; any YAML error → ConfigError with its line and column. */
export function parseConfigDocument(file: string, text: string): Document.Parsed {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) throw new ConfigError(`${file}: ${yamlErrorDetail(error, lines, doc)}.`, { file });
  return doc;
}

/**
 * The document as plain data for the schema; aliases expand up to a limit (against alias bombs), and
 * a document that cannot be converted is a ConfigError asking for the values written out.
 */
export function toPlainData(file: string, doc: Document.Parsed): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      `${file}: the YAML could not be read as data (${reason}); write the values out instead of using aliases (*name).`,
      { file },
    );
  }
}

/** The source text of the scalar at a path in `doc` (undefined if none): problems quote values as written. */
export function sourcesOf(doc: Document.Parsed): SourceAt {
  return (path) => {
    const node = doc.getIn(path, true);
    return isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
  };
}

/** The text of a mapping key as a server name (`123:` is the server "123"). */
export function keyText(key: unknown): string {
  return String(isScalar(key) ? key.value : key);
}

/** The document as text, lines never wrapped. */
export function serializeDocument(doc: Document): string {
  return doc.toString({ lineWidth: 0 });
}

/** The `servers` mapping of `doc`, created when missing or empty; ConfigError when the file has another shape. */
export function serversMapOf(file: string, doc: Document): YAMLMap {
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    doc.contents = new YAMLMap();
  }
  const top = doc.contents;
  if (!isMap(top)) {
    throw new ConfigError(`${file}: the top level ${RULES.root}; found ${renderFound(doc.toJS())}.`, {
      file,
      key: 'servers',
    });
  }
  const current = top.get('servers', true);
  if (current === undefined || (isScalar(current) && current.value === null)) {
    const created = new YAMLMap();
    top.set('servers', created);
    return created;
  }
  if (!isMap(current)) {
    throw new ConfigError(`${file}: servers ${RULES.servers}; found ${renderFound(top.toJSON().servers)}.`, {
      file,
      key: 'servers',
    });
  }
  return current;
}

/** The document of a new file: an empty `servers` mapping under a comment that explains it. */
export function newDocument(): Document {
  const doc = parseDocument('servers: {}\n');
  doc.commentBefore = NEW_FILE_COMMENT;
  return doc;
}

/** Own wording for YAML errors whose library message could quote part of the file (a secret). */
function yamlReason(error: YAMLError): string {
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return 'the same key appears twice in one mapping; keep only one (each server and each setting may appear once)';
    case 'MULTIPLE_DOCS':
      return 'a second YAML document starts here; the file must hold one document, so remove the "---" separator';
    case 'BAD_DQ_ESCAPE':
      return 'invalid escape sequence in a double-quoted string; write \\\\ for a backslash, or use single quotes';
    case 'TAB_AS_INDENT':
      return 'tabs are not allowed for indentation; indent with spaces';
    case 'TAG_RESOLVE_FAILED':
    case 'BAD_COLLECTION_TYPE':
      return 'unknown or misplaced YAML tag (a word starting with "!"); remove it or quote the value';
    default:
      if (error.message.startsWith('Block scalar header')) {
        return 'unexpected characters after a block scalar indicator (| or >); move the value to the next lines';
      }
      return error.message.replace(/\s+at line \d+, column \d+[\s\S]*$/, '');
  }
}

/**
 * An unclosed quote is reported by the parser where the file ends; point at the quoted value
 * that never closes instead (its start, and the quote character missing).
 */
function unclosedQuote(error: YAMLError, doc: Document): { start: number; quote: string } | undefined {
  if (error.code !== 'MISSING_CHAR' || !/closing ["']quote/.test(error.message)) return undefined;
  let found: { start: number; quote: string } | undefined;
  visit(doc, {
    Scalar(_, node) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      if (quoted && node.range && node.range[1] === error.pos[0]) {
        found = { start: node.range[0], quote: node.type === 'QUOTE_DOUBLE' ? '"' : "'" };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** "invalid YAML at line 3, column 5: ..." (1-based, as editors count). */
export function yamlErrorDetail(error: YAMLError, lines: LineCounter, doc: Document): string {
  const quote = unclosedQuote(error, doc);
  if (quote) {
    const { line, col } = lines.linePos(quote.start);
    return `invalid YAML at line ${line}, column ${col}: this quoted value is never closed; add the closing ${quote.quote} at its end`;
  }
  const { line, col } = lines.linePos(error.pos[0]);
  return `invalid YAML at line ${line}, column ${col}: ${yamlReason(error)}`;
}
