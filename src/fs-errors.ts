import { McpOAuthError, StoreError } from './errors.js';

/** The `code` of a Node.js system error, if any. */
export function errnoCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string')
    return error.code;
  return undefined;
}

/**
 * Turns a file-system failure into a StoreError whose message says what happened and what to do.
 * Typed errors of this library pass through unchanged. Messages name paths, never record contents.
 */
export function toStoreError(action: string, path: string, error: unknown): McpOAuthError {
  if (error instanceof McpOAuthError) return error;
  const code = errnoCode(error);
  let advice: string;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      advice = `permission denied (${code}). Make sure the folder belongs to the user running this program and is mode 700`;
      break;
    case 'ENOSPC':
    case 'EDQUOT':
      advice = `no space left on the device (${code}). Free some disk space and retry; the previous credential is unchanged`;
      break;
    case 'EROFS':
      advice = 'the file system is read-only. Point MCP_OAUTH_HOME (or --home) at a writable folder';
      break;
    case 'EMFILE':
    case 'ENFILE':
      advice = `too many open files (${code}). Close some programs or raise the open-file limit, then retry`;
      break;
    case 'ENOTDIR':
    case 'EISDIR':
      advice = `an unexpected file or folder is in the way (${code}). Move it away and retry`;
      break;
    case 'ENAMETOOLONG':
      advice = 'the path is too long. Use a shorter home folder path';
      break;
    case 'EIO':
      advice = 'an I/O error occurred (EIO). Check the disk and retry';
      break;
    default:
      advice = `${code ?? (error instanceof Error ? error.name : 'unknown error')}. Retry; if it persists, check the home folder`;
  }
  return new StoreError(`Could not ${action} ${path}: ${advice}.`, { cause: error });
}
