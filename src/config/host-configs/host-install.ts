/**
 * The edits behind `hosts install` and `hosts uninstall`, computed on text (nothing is written
 * here): install replaces chosen remote entries of a host file with a stdio entry that runs
 * `mcp-oauth proxy NAME`; uninstall puts back the whole file (when it is exactly as install left
 * it) or else only the entries install replaced and nobody edited since.
 */

import { sha256 } from './host-config-file.js';
import type { HostDocument } from './host-document.js';
import { HostFileError } from './host-document.js';
import type { HostDefinition } from './host-registry.js';
import type { ScannedEntry, ScannedFile } from './host-scan.js';
import type { InstalledEntry, InstalledFile } from './install-state.js';

/** How a host launches the proxy: `npx -y mcp-oauth-manager proxy NAME` (default) or an installed `mcp-oauth`. */
export interface ProxyLauncher {
  command: string;
  /** Arguments before `proxy NAME` (`-y mcp-oauth-manager`, and `--home DIR` for a non-default home). */
  leadingArgs: string[];
}

/**
 * The launcher: `npx -y mcp-oauth-manager` by default (nothing to install first), `mcp-oauth` with
 * `global`. On Windows npx is a batch file, which hosts that start commands without a shell cannot
 * run: the entry goes through `cmd /c`, as those hosts' own documentation shows.
 */
export function proxyLauncher(options: {
  global?: boolean;
  home?: string;
  platform?: NodeJS.Platform;
}): ProxyLauncher {
  const home = options.home ? ['--home', options.home] : [];
  if (options.global) return { command: 'mcp-oauth', leadingArgs: home };
  const npx = ['-y', 'mcp-oauth-manager', ...home];
  return options.platform === 'win32'
    ? { command: 'cmd', leadingArgs: ['/c', 'npx', ...npx] }
    : { command: 'npx', leadingArgs: npx };
}

/** The stdio entry that runs `server` through the proxy, in the host's spelling. */
export function proxyEntry(
  host: HostDefinition,
  launcher: ProxyLauncher,
  server: string,
): Record<string, unknown> {
  return {
    ...(host.stdioKeys ?? {}),
    command: launcher.command,
    args: [...launcher.leadingArgs, 'proxy', server],
  };
}

/** An entry install could not replace, and why. */
export interface EntryProblem {
  name: string;
  reason: string;
}

/** A host file's install, computed. */
export interface FileInstall {
  before: string;
  after: string;
  changes: InstalledEntry[];
  problems: EntryProblem[];
}

const samePath = (a: string[], b: string[]) => a.length === b.length && a.every((part, i) => part === b[i]);

function entryAt(document: HostDocument, keyPath: string[]) {
  return document.entries.find((entry) => samePath(entry.keyPath, keyPath));
}

/**
 * Replaces each target entry of `file` with its proxy entry, one after the other on the text
 * (each edit parses the text the previous one left). An entry the format cannot edit in place
 * is reported and left as it is.
 */
export function planFileInstall(
  file: ScannedFile,
  targets: ReadonlyArray<{ scanned: ScannedEntry; server: string }>,
  launcher: ProxyLauncher,
): FileInstall {
  const before = file.text ?? '';
  let text = before;
  const parse = file.host.parserFor(file.location.file);
  const changes: InstalledEntry[] = [];
  const problems: EntryProblem[] = [];
  for (const { scanned, server } of targets) {
    const document = parse(text);
    const entry = entryAt(document, scanned.entry.keyPath);
    const original = entry && document.entryText(entry);
    if (!entry || original === undefined) {
      problems.push({ name: scanned.entry.name, reason: 'it cannot be edited in place in this file' });
      continue;
    }
    try {
      text = document.replaceEntry(entry, proxyEntry(file.host, launcher, server));
    } catch (error) {
      if (!(error instanceof HostFileError)) throw error;
      problems.push({ name: entry.name, reason: error.message });
      continue;
    }
    const after = parse(text);
    const installed = after.entryText(entryAt(after, entry.keyPath)!) ?? '';
    changes.push({ keyPath: entry.keyPath, name: entry.name, server, original, installed });
  }
  return { before, after: text, changes, problems };
}

/** A host file's uninstall, computed. */
export interface FileUninstall {
  after: string;
  /** The whole file is the backup (nothing else changed since the install). */
  whole: boolean;
  restored: string[];
  /** Entries left as they are: edited (or removed) since the install. */
  kept: EntryProblem[];
}

/**
 * Undoes `record` on `text` (the file as it is now). When `text` is exactly what the install
 * left (same SHA-256) and `backup` is the file as it was before (same SHA-256), the result is the
 * backup, byte for byte. Otherwise each replaced entry still as install wrote it gets its original
 * text back, and an entry edited since is left alone and reported.
 */
export function planFileUninstall(
  host: HostDefinition,
  record: InstalledFile,
  text: string,
  backup: string | undefined,
): FileUninstall {
  if (
    sha256(text) === record.installedSha256 &&
    backup !== undefined &&
    sha256(backup) === record.originalSha256
  ) {
    return { after: backup, whole: true, restored: record.entries.map((entry) => entry.name), kept: [] };
  }
  const parse = host.parserFor(record.file);
  let current = text;
  const restored: string[] = [];
  const kept: EntryProblem[] = [];
  for (const saved of [...record.entries].reverse()) {
    const document = parse(current);
    const entry = entryAt(document, saved.keyPath);
    const now = entry && document.entryText(entry);
    if (now === undefined) {
      kept.push({ name: saved.name, reason: 'it is no longer in the file' });
      continue;
    }
    if (now !== saved.installed) {
      kept.push({ name: saved.name, reason: 'it was edited since the install; left as it is' });
      continue;
    }
    const next = document.restoreEntry(saved.keyPath, saved.original);
    if (next === undefined) {
      kept.push({ name: saved.name, reason: 'it is no longer in the file' });
      continue;
    }
    current = next;
    restored.push(saved.name);
  }
  return { after: current, whole: false, restored: restored.reverse(), kept };
}
