import { displayLines } from '../../../terminal-text.js';

/**
 * Keys whose values are credentials in host files (headers, tokens, env): their values never reach
 * the terminal. Matches a key in JSON ("Authorization": ...), TOML (api_key = ...) or YAML (token: ...).
 */
const SECRET_VALUE =
  /((?:["']?)[\w.-]*(?:authorization|token|secret|password|passwd|api[_-]?key|apikey|cookie|credential)[\w.-]*["']?\s*[:=]\s*)(.+?)(\s*[,}]?\s*(?:(?:\/\/|#).*)?)$/gim;
const BEARER = /\b(Bearer|Basic)\s+[^\s"',}\]]+/gi;

/** A line of a host file with credential values replaced by <redacted>. */
export function redactSecrets(line: string): string {
  return line
    .replace(SECRET_VALUE, (_whole, key: string, _value: string, tail: string) => `${key}"<redacted>"${tail}`)
    .replace(BEARER, '$1 <redacted>');
}

/**
 * The change to a host file as a unified diff, for a person to read: credential values (headers,
 * tokens, the env of an entry) redacted, and no terminal control characters.
 */
export async function hostFileDiff(file: string, before: string, after: string): Promise<string> {
  if (before === after) return '';
  // Loaded here: only an install or uninstall shows a diff, and start-up stays light.
  const { createTwoFilesPatch } = await import('diff');
  const patch = createTwoFilesPatch(file, file, before, after);
  return displayLines(patch.split('\n').map(redactSecrets).join('\n'));
}
