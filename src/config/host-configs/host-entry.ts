/**
 * One MCP server entry of another host's configuration file, and what it is: a remote server
 * (a URL with an http/sse/streamable type, or an `mcp-remote URL` invocation), an entry that
 * already runs through `mcp-oauth proxy`, a local (stdio) server, or something unusable. Host
 * files are untrusted input: nothing here runs a command, and every value is only looked at.
 */
import { serverSettingsSchema } from '../config-schema.js';

/** An entry as a host file holds it: its name, where it sits in the document, its parsed value. */
export interface HostEntry {
  /** The entry's key in the host file. */
  name: string;
  /** Keys from the document root to the entry (e.g. ['projects', '/repo', 'mcpServers', 'notion']). */
  keyPath: string[];
  /** The parsed value (never executed, never trusted). */
  value: unknown;
  /** Where in the file, for people: e.g. 'project /repo' for a Claude Code per-project entry. */
  scope?: string;
}

/** What an entry is, as import and install see it. */
export type EntryKind =
  | {
      kind: 'remote';
      /** The URL as written (variables not yet resolved). */
      url: string;
      /** 'url': a URL entry; 'mcp-remote': an `mcp-remote URL` invocation. */
      via: 'url' | 'mcp-remote';
      /** Settings of the entry that config.yaml has no place for (names only, never values). */
      ignored: string[];
    }
  | { kind: 'proxied'; target: string }
  | { kind: 'stdio' }
  | { kind: 'unusable'; reason: string };

/** Transport types that mean a remote server (VS Code, Claude Code, Cursor, Hermes spellings). */
const REMOTE_TYPES = new Set(['http', 'sse', 'streamable-http', 'streamable_http', 'streamablehttp']);

/** Keys of a remote entry that config.yaml has no place for: reported as not imported. */
const FEATURE_KEYS = [
  'headers',
  'http_headers',
  'env_http_headers',
  'bearer_token_env_var',
  'bearer_token',
  'auth',
  'oauth',
];

/** The package and binary of this project, as a host entry launches them. */
const OUR_PACKAGE = /^mcp-oauth-manager(@[^/\s]+)?$/;
const OUR_BINARY = /^mcp-oauth(\.cmd|\.exe)?$/i;
const MCP_REMOTE = /^mcp-remote(@[^/\s]+)?$/;
/** mcp-remote's options that take the next argument as their value. */
const MCP_REMOTE_VALUE_FLAGS = new Set([
  '--header',
  '--transport',
  '--host',
  '--resource',
  '--auth-timeout',
  '--static-oauth-client-info',
  '--static-oauth-client-metadata',
]);
/** Package runners a host uses to launch mcp-remote or us. */
const RUNNERS = /^(npx|bunx|pnpx)(\.cmd|\.exe)?$/i;

function baseName(command: string): string {
  return command.split(/[\\/]/).pop() ?? command;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringArgs = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((arg) => typeof arg === 'string') ? (value as string[]) : undefined;

/** Classifies a command line: ours (`mcp-oauth proxy X`), mcp-remote's (`mcp-remote URL ...`), or any other program. */
function classifyCommand(command: string, args: string[]): EntryKind {
  const program = baseName(command);
  // Windows hosts often launch through the shell: `cmd /c npx mcp-remote URL`.
  if (/^cmd(\.exe)?$/i.test(program) && args[0]?.toLowerCase() === '/c' && args[1] !== undefined) {
    return classifyCommand(args[1], args.slice(2));
  }
  let rest: string[] | undefined;
  let tool: 'ours' | 'mcp-remote' | undefined;
  if (OUR_BINARY.test(program)) {
    tool = 'ours';
    rest = args;
  } else if (MCP_REMOTE.test(program)) {
    tool = 'mcp-remote';
    rest = args;
  } else if (RUNNERS.test(program)) {
    const index = args.findIndex((arg) => OUR_PACKAGE.test(arg) || MCP_REMOTE.test(arg));
    if (index >= 0) {
      tool = OUR_PACKAGE.test(args[index]!) ? 'ours' : 'mcp-remote';
      rest = args.slice(index + 1);
    }
  }
  if (!tool || !rest) return { kind: 'stdio' };
  if (tool === 'ours') {
    const proxyAt = rest.indexOf('proxy');
    const target = proxyAt >= 0 ? rest.slice(proxyAt + 1).find((arg) => !arg.startsWith('-')) : undefined;
    return target ? { kind: 'proxied', target } : { kind: 'stdio' };
  }
  // mcp-remote: the first argument that is not an option is the URL (its flags, e.g. --header
  // "Authorization: ..." and a callback port, take their value as the next argument).
  const ignored: string[] = [];
  let url: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg.startsWith('-')) {
      const flag = arg.split('=')[0]!;
      ignored.push(`mcp-remote ${flag}`);
      if (!arg.includes('=') && MCP_REMOTE_VALUE_FLAGS.has(flag)) i++;
      continue;
    }
    if (url === undefined) url = arg;
    else if (/^\d+$/.test(arg)) ignored.push('mcp-remote callback port');
  }
  if (url === undefined) return { kind: 'unusable', reason: 'an mcp-remote invocation without a URL' };
  return { kind: 'remote', url, via: 'mcp-remote', ignored: [...new Set(ignored)] };
}

/**
 * What `value` (one entry of a host's server map) is. URL keys in the order the hosts define
 * them: `httpUrl` (Gemini CLI, Streamable HTTP), `serverUrl` (Windsurf), `url` (everyone else);
 * the type under `type` or `transport` (Hermes).
 */
export function classifyEntry(value: unknown): EntryKind {
  if (!isRecord(value)) return { kind: 'unusable', reason: 'the entry is not an object' };
  if (typeof value.command === 'string') {
    const args = value.args === undefined ? [] : stringArgs(value.args);
    if (!args) return { kind: 'unusable', reason: 'its args are not a list of strings' };
    return classifyCommand(value.command, args);
  }
  const url = [value.httpUrl, value.serverUrl, value.url].find((candidate) => candidate !== undefined);
  const type = value.type ?? value.transport;
  if (url === undefined) {
    return type === 'stdio' || value.command !== undefined
      ? { kind: 'unusable', reason: 'a stdio entry without a command' }
      : { kind: 'unusable', reason: 'neither a url nor a command' };
  }
  if (typeof url !== 'string') return { kind: 'unusable', reason: 'its url is not a string' };
  if (type !== undefined && (typeof type !== 'string' || !REMOTE_TYPES.has(type.toLowerCase()))) {
    return { kind: 'unusable', reason: `an unknown transport type ${JSON.stringify(String(type))}` };
  }
  const ignored = FEATURE_KEYS.filter((key) => value[key] !== undefined).map((key) =>
    isRecord(value[key]) && key.includes('headers')
      ? `${key} (${Object.keys(value[key] as object).join(', ')})`
      : key,
  );
  return { kind: 'remote', url, via: 'url', ignored };
}

/** A URL with its variables resolved, or why it cannot be. */
export type UrlResolution = { ok: true; url: string; resolved: string[] } | { ok: false; reason: string };

/** `${VAR}`, `${VAR:-default}`, `${env:VAR}`, `$VAR`, and the editor variables `${input:x}`, `${workspaceFolder}`... */
const VARIABLE = /\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Resolves the environment variables in a URL as the hosts do (`${VAR}`, `${VAR:-default}`,
 * `${env:VAR}`, `$VAR`) from `env`. Refused: an unset variable, an editor variable (`${input:x}`
 * asks the person when the host starts; `${workspaceFolder}` depends on the window) and shell
 * command syntax (`$(...)`, backquotes), which no host expands in a URL and which is never run.
 * Then the URL must be one config.yaml accepts (https, or http on a loopback host).
 */
export function resolveUrl(url: string, env: NodeJS.ProcessEnv): UrlResolution {
  if (url.includes('$(') || url.includes('`')) {
    return {
      ok: false,
      reason: 'its URL contains shell command syntax ($(...) or `...`), which is never run',
    };
  }
  const resolved: string[] = [];
  let problem: string | undefined;
  const expanded = url.replace(VARIABLE, (whole, braced: string | undefined, bare: string | undefined) => {
    let name = braced ?? bare ?? '';
    let fallback: string | undefined;
    if (braced !== undefined) {
      const colon = braced.indexOf(':');
      if (braced.startsWith('env:')) name = braced.slice(4);
      else if (braced.includes(':-')) {
        name = braced.slice(0, braced.indexOf(':-'));
        fallback = braced.slice(braced.indexOf(':-') + 2);
      } else if (colon >= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(braced)) {
        problem ??= `its URL uses ${whole}, which the host fills in when it starts (mcp-oauth cannot)`;
        return whole;
      }
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problem ??= `its URL uses ${whole}, which is not a variable mcp-oauth can resolve`;
      return whole;
    }
    const value = env[name] ?? fallback;
    if (value === undefined || value === '') {
      problem ??= `its URL uses ${whole} and ${name} is not set here; set it and import again, or add it with: mcp-oauth servers add NAME URL`;
      return whole;
    }
    resolved.push(name);
    return value;
  });
  if (problem) return { ok: false, reason: problem };
  const checked = serverSettingsSchema.safeParse({ url: expanded });
  if (!checked.success) {
    const detail = checked.error.issues[0]?.message ?? 'is not a valid URL';
    return { ok: false, reason: `its URL ${detail}` };
  }
  return { ok: true, url: checked.data.url, resolved };
}

/**
 * Server names taken from other hosts' files become command-line arguments (`mcp-oauth proxy
 * NAME` in a host's config, `mcp-oauth login NAME` in messages), so an import accepts only
 * letters, digits, `.`, `_` and `-`, starting with a letter or digit: no shell metacharacter
 * can travel from a host file into a command.
 */
export const IMPORTABLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A name IMPORTABLE_NAME accepts, made from `name` (or from the URL's host when nothing is left). */
export function sanitizeName(name: string, url?: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 100);
  if (cleaned) return cleaned;
  try {
    if (url) return sanitizeName(new URL(url).hostname.replace(/^mcp\./, ''));
  } catch {
    // fall through
  }
  return 'server';
}
