/**
 * Turns what went wrong in `config.yaml` into sentences a person can act on: where (the dotted
 * path of the key), the rule, the value found, and what to write instead. No value of a secret
 * key and no URL credentials are ever echoed.
 */
import type * as z from 'zod/mini';
import { closestKey } from './closest-key.js';
import {
  ENCRYPTION_KEYS,
  IDP_KEYS,
  KEY_ALIASES,
  MAX_SERVER_NAME_LENGTH,
  OAUTH_KEYS,
  ROOT_KEYS,
  RULES,
  SECRET_KEYS,
  SERVER_KEYS,
  STORE_KEYS,
} from './config-schema.js';

/** One problem: `subject` is the dotted location from the top of the file; `detail` follows it. */
export interface ConfigProblem {
  subject: readonly string[];
  detail: string;
  server?: string;
  /** The key inside the server entry, dotted (`url`, `oauth.redirect_port`). */
  key?: string;
}

/** The original text of a scalar at `path`, when known (`0123`, `.inf`), to quote it back as written. */
export type SourceAt = (path: readonly string[]) => string | undefined;

/** Longest value quoted back in a message, in characters. */
const MAX_SHOWN = 80;
/** Longest name or key quoted back in a message, in characters. */
const MAX_NAME_SHOWN = 60;

/** Text keys whose value may well look like a number or a boolean (`client_id: 0123`): "put it in quotes". */
const QUOTABLE_KEYS: ReadonlySet<string> = new Set(['client_id', 'client_name', 'scope']);

function truncate(text: string, max = MAX_SHOWN): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}

/** A name or key as it appears in a message: double-quoted, escaped, shortened. */
export function quoted(text: string): string {
  return JSON.stringify(truncate(text, MAX_NAME_SHOWN));
}

function hasUrlCredentials(text: string): boolean {
  try {
    const url = new URL(text.trim());
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

/** The value found, for "found ...": strings quoted, numbers as written, collections by kind. */
export function renderFound(value: unknown, source?: string): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') {
    return hasUrlCredentials(value) ? 'a URL with a user name or password' : JSON.stringify(truncate(value));
  }
  if (typeof value === 'number' || typeof value === 'boolean') return truncate(source ?? String(value));
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** Where a subject is, in words: the dotted path, or "the top level". */
export function subjectText(subject: readonly string[]): string {
  return subject.length === 0 ? 'the top level' : subject.join('.');
}

/** One sentence: location, detail, final period (unless the detail already ends a question). */
export function describeProblem(problem: ConfigProblem, base: readonly string[] = []): string {
  const shown = startsWith(problem.subject, base) ? problem.subject.slice(base.length) : problem.subject;
  const end = /[.?]$/.test(problem.detail) ? '' : '.';
  return `${subjectText(shown)} ${problem.detail}${end}`;
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((part, i) => path[i] === part);
}

/** `server` and `key` of a ConfigError, from a path starting at the top of the file. */
export function locate(path: readonly string[]): { server?: string; key?: string } {
  if (path[0] !== 'servers' || path.length < 2) return path.length > 0 ? { key: path.join('.') } : {};
  const key = path.slice(2).join('.');
  return key ? { server: path[1]!, key } : { server: path[1]! };
}

/** A name that follows the rules, made from a bad one (for "rename it, e.g. ..."). */
export function suggestServerName(name: string): string {
  const cleaned = Array.from(
    name
      .replace(/[\s\p{Cc}\p{Cf}\p{Cs}\p{Z}]+/gu, '-')
      .replace(/^-+/, '')
      .replace(/-+$/, ''),
  )
    .slice(0, MAX_SERVER_NAME_LENGTH)
    .join('');
  return cleaned || 'my-server';
}

/** The sentence for a bad server name, after its subject (`servers`). */
export function invalidNameDetail(name: string): string {
  return `has an invalid server name ${quoted(name)}: ${RULES.serverName}; rename it, e.g. ${suggestServerName(name)}`;
}

function knownKeysAt(subject: readonly string[]): readonly string[] {
  if (subject.length === 0) return ROOT_KEYS;
  if (subject[0] === 'store') return subject.length === 1 ? STORE_KEYS : ENCRYPTION_KEYS;
  if (subject[subject.length - 1] === 'oauth' && subject.length === 3) return OAUTH_KEYS;
  if (subject.length === 2 && subject[0] === 'servers') return SERVER_KEYS;
  if (subject.length === 2 && subject[0] === 'idps') return IDP_KEYS;
  return [];
}

function unknownKeyDetail(subject: readonly string[], key: string): string {
  const known = knownKeysAt(subject);
  const suggestion = closestKey(key, known, KEY_ALIASES);
  if (suggestion !== undefined && known.includes(suggestion)) {
    return `has an unknown key ${quoted(key)}; did you mean ${suggestion}?`;
  }
  return `has an unknown key ${quoted(key)}; the known keys are ${known.join(', ')}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** "put it in quotes" for a number given where text is expected, "no quotes" for digits given where a number is. */
function fixHint(issue: z.core.$ZodIssue, leaf: string, value: unknown, source?: string): string {
  if (issue.code !== 'invalid_type') return '';
  if (
    issue.expected === 'string' &&
    QUOTABLE_KEYS.has(leaf) &&
    (typeof value === 'number' || typeof value === 'boolean')
  ) {
    return ` (a ${typeof value}): put it in quotes, e.g. ${leaf}: "${truncate(source ?? String(value))}"`;
  }
  if (
    (issue.expected === 'number' || issue.expected === 'int') &&
    typeof value === 'string' &&
    /^\s*[+-]?\d+\s*$/.test(value)
  ) {
    return ` (text): write the number without quotes, e.g. ${leaf}: ${value.trim()}`;
  }
  return '';
}

/**
 * The problems of a failed zod parse of `input`. Issue paths are relative to `input`, which sits
 * at `basePath` in the file (`[]` for the whole file, `['servers', name]` for one entry).
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  basePath: readonly string[] = [],
  sourceAt: SourceAt = () => undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    const relative = issue.path.map(String);
    const path = [...basePath, ...relative];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ subject: path, detail: unknownKeyDetail(path, key), ...locate([...path, key]) });
      }
      continue;
    }
    const id = JSON.stringify(path);
    if (seen.has(id)) continue;
    seen.add(id);
    if (issue.code === 'invalid_key' && path.length === 2 && path[0] === 'servers') {
      const name = path[1]!;
      problems.push({ subject: ['servers'], detail: invalidNameDetail(name), server: name });
      continue;
    }
    const value = valueAt(input, relative);
    const leaf = path[path.length - 1] ?? '';
    const quiet =
      value === undefined ||
      SECRET_KEYS.has(leaf) ||
      (issue.code === 'custom' && issue.params?.noFound === true);
    let detail = issue.message;
    if (!quiet) {
      const source = sourceAt(path);
      detail += `; found ${renderFound(value, source)}${fixHint(issue, leaf, value, source)}`;
    }
    problems.push({ subject: path, detail, ...locate(path) });
  }
  return problems;
}

/** The detail for `client_secret_env` naming a variable that is not set (or set to nothing). */
export function missingSecretDetail(variable: string, empty: boolean): string {
  return `names the environment variable ${variable}, which is ${empty ? 'empty' : 'not set'}; set it to the client secret (e.g. export ${variable}=...) or remove client_secret_env`;
}
