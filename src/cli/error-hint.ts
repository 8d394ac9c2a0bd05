import { CommanderError } from 'commander';
import {
  ConfigError,
  InsecureHomeError,
  LockTimeoutError,
  McpOAuthError,
  NeedsReauthError,
  TransientAuthError,
} from '../errors.js';
import { InterruptedError } from './exit-codes.js';

/** The `{"error": ...}` object printed on stdout by a command run with `--json` that failed. */
export interface ErrorJson {
  /** The library's stable code (NEEDS_REAUTH, CONFIG, ...), USAGE for a bad command line, INTERRUPTED, or FAILED. */
  code: string;
  message: string;
  /** The next step in a few words (a command to run), or null when the message already says all there is. */
  hint: string | null;
}

/**
 * What a program reading `--json` needs to branch on an error: a stable code and the next step
 * apart from the prose. `message` is passed in already redacted and fit for display.
 */
export function errorJson(error: unknown, message: string): ErrorJson {
  return { code: codeOf(error), message, hint: hintFor(error) };
}

function codeOf(error: unknown): string {
  if (error instanceof McpOAuthError) return error.code;
  if (error instanceof CommanderError) return 'USAGE';
  if (error instanceof InterruptedError) return 'INTERRUPTED';
  return 'FAILED';
}

function hintFor(error: unknown): string | null {
  if (error instanceof NeedsReauthError) return `run: ${error.command}`;
  if (error instanceof InsecureHomeError) return error.fix;
  if (error instanceof TransientAuthError) return `retry in ${Math.ceil(error.retryAfterMs / 1000)} s`;
  if (error instanceof LockTimeoutError) return 'retry; another process holds the lock';
  if (error instanceof ConfigError && error.file !== undefined)
    return `fix ${error.file}${error.server ? ` (server '${error.server}'${error.key ? `, key '${error.key}'` : ''})` : ''}`;
  if (error instanceof CommanderError) return 'see: mcp-oauth --help';
  return null;
}
