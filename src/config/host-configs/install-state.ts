/**
 * What `hosts install` changed, kept in the home so `hosts uninstall` can undo exactly that:
 * `<home>/hosts/installed.json` (per host file: the hashes before and after, the backup, and the
 * original and installed text of every entry it replaced) and `<home>/hosts/backups/` (the file
 * as it was before each edit). Edits of this state take `<home>/locks/hosts.lock`.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../atomic-file.js';
import { ConfigError } from '../../errors.js';
import { acquireFileLock } from '../../file-lock.js';
import { errnoCode } from '../../fs-errors.js';
import { ensureHome } from '../../home-folder.js';
import { silentLogger } from '../../logger.js';
import type { HostId } from './host-registry.js';

/** One entry `hosts install` replaced. */
export interface InstalledEntry {
  /** Keys from the host file's root to the entry. */
  keyPath: string[];
  /** The entry's name in the host file. */
  name: string;
  /** The config.yaml server its proxy entry runs. */
  server: string;
  /** The entry's text before (restored by uninstall) and after the install (to see whether it was edited since). */
  original: string;
  installed: string;
}

/** One host file `hosts install` edited. */
export interface InstalledFile {
  host: HostId;
  file: string;
  /** The copy of the file taken before the first install; restored whole when nothing else changed. */
  backup: string;
  /** SHA-256 of the file before the first install and after the latest. */
  originalSha256: string;
  installedSha256: string;
  entries: InstalledEntry[];
}

export interface InstallState {
  version: 1;
  files: InstalledFile[];
}

/** `<home>/hosts`, `<home>/hosts/installed.json`, `<home>/hosts/backups`. */
export function installPaths(home: string) {
  const dir = join(home, 'hosts');
  return { dir, state: join(dir, 'installed.json'), backups: join(dir, 'backups') };
}

/** The state; empty when there is none. A file that is not ours → ConfigError, and it is left alone. */
export async function readInstallState(home: string): Promise<InstallState> {
  const { state } = installPaths(home);
  let text: string;
  try {
    text = await readFile(state, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { version: 1, files: [] };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as InstallState;
    if (parsed.version !== 1 || !Array.isArray(parsed.files)) throw new Error('unknown layout');
    return parsed;
  } catch (error) {
    throw new ConfigError(
      `${state} is not a state file this version can read (${error instanceof Error ? error.message : String(error)}); move it aside to start afresh (the host files themselves are unchanged).`,
      { file: state },
    );
  }
}

export async function writeInstallState(home: string, state: InstallState): Promise<void> {
  const paths = installPaths(home);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(paths.state, `${JSON.stringify(state, null, 2)}\n`);
}

/** Writes a copy of `text` (the host file `file` of `host`) under `<home>/hosts/backups/`; returns its path. */
export async function writeBackup(home: string, host: HostId, text: string, sha: string): Promise<string> {
  const { backups } = installPaths(home);
  await mkdir(backups, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(backups, `${host}-${stamp}-${sha.slice(0, 12)}.bak`);
  await writeFileAtomic(path, text);
  return path;
}

/** Runs `fn` holding `<home>/locks/hosts.lock`: one install or uninstall at a time per home. */
export async function withHostsLock<T>(home: string, fn: () => Promise<T>): Promise<T> {
  const { locksDir } = await ensureHome(home);
  const release = await acquireFileLock(join(locksDir, 'hosts.lock'), {
    waitMs: 10_000,
    logger: silentLogger,
    what: 'the host install state',
  });
  try {
    return await fn();
  } finally {
    await release();
  }
}
