import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InsecureHomeError } from './errors.js';
import { errnoCode, toStoreError } from './fs-errors.js';

/** The folders of a home, as created and checked by `ensureHome`. */
export interface HomeFolders {
  home: string;
  credentialsDir: string;
  locksDir: string;
}

/** The environment variable that chooses the home folder when no explicit one is given. */
export const HOME_ENV_VAR = 'MCP_OAUTH_HOME';
/** The home folder's name in the user's home directory when nothing else chooses one. */
export const DEFAULT_HOME_FOLDER_NAME = '.mcp-oauth';

const FOLDER_MODE = 0o700;

function expandTilde(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(homedir(), path.slice(2));
  return path;
}

/**
 * The home folder: `explicit` (e.g. `--home DIR`) > `MCP_OAUTH_HOME` > `~/.mcp-oauth`, as an
 * absolute path. A leading `~/` is expanded. No I/O.
 */
export function resolveHome(explicit?: string): string {
  const chosen = explicit || process.env[HOME_ENV_VAR] || join(homedir(), DEFAULT_HOME_FOLDER_NAME);
  return resolve(expandTilde(chosen));
}

/** Where the record files and the lock files of a home live (no I/O). */
export function homeFolders(home: string): HomeFolders {
  const absolute = resolve(home);
  return { home: absolute, credentialsDir: join(absolute, 'credentials'), locksDir: join(absolute, 'locks') };
}

/**
 * Refuses a folder that others could write to or that belongs to someone else. `stat` follows
 * symbolic links, so a symlinked home is judged by its target.
 */
async function checkFolder(path: string): Promise<void> {
  let stats: Awaited<ReturnType<typeof fs.stat>>;
  try {
    stats = await fs.stat(path);
  } catch (error) {
    throw toStoreError('inspect the folder', path, error);
  }
  if (!stats.isDirectory())
    throw new InsecureHomeError(
      path,
      'it is not a folder',
      'choose a folder with --home DIR or MCP_OAUTH_HOME, or move that file away',
    );
  if (process.platform === 'win32') return;
  if ((stats.mode & 0o022) !== 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
    throw new InsecureHomeError(
      path,
      `it is writable by ${stats.mode & 0o020 ? 'its group' : 'other users'} (mode ${mode})`,
    );
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && stats.uid !== uid) {
    throw new InsecureHomeError(
      path,
      `it belongs to uid ${stats.uid}, not to the current user (uid ${uid})`,
      'use a home folder of your own (--home DIR or MCP_OAUTH_HOME)',
    );
  }
}

/** Creates `path` with mode 0700 when missing (chmod after mkdir: the umask cannot widen or narrow it). */
async function makeFolder(path: string, recursive: boolean): Promise<void> {
  try {
    if (recursive) {
      const created = await fs.mkdir(path, { recursive: true, mode: FOLDER_MODE });
      if (created !== undefined) await fs.chmod(path, FOLDER_MODE);
    } else {
      await fs.mkdir(path, { mode: FOLDER_MODE });
      await fs.chmod(path, FOLDER_MODE);
    }
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return;
    throw toStoreError('create the folder', path, error);
  }
}

/**
 * Creates the home folder and its `credentials/` and `locks/` subfolders (mode 0700) and checks
 * them: a folder that is group- or other-writable, or not owned by the current user, is refused
 * with InsecureHomeError before anything is created inside it. Existing folders are never chmod-ed.
 */
export async function ensureHome(home: string): Promise<HomeFolders> {
  const folders = homeFolders(home);
  await makeFolder(folders.home, true);
  await checkFolder(folders.home);
  for (const sub of [folders.credentialsDir, folders.locksDir]) {
    await makeFolder(sub, false);
    await checkFolder(sub);
  }
  return folders;
}
