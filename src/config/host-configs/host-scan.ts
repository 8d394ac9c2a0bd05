/**
 * Finding and reading host files: for each host asked for, each of its locations that exists
 * (or one file given by path), read safely and parsed, each entry classified. Nothing found is
 * executed; a file that cannot be read or parsed is reported with its reason.
 */

import { readHostFile } from './host-config-file.js';
import { type HostDocument, HostFileError } from './host-document.js';
import { classifyEntry, type EntryKind, type HostEntry } from './host-entry.js';
import { HOSTS, type HostDefinition, type HostLocation, type LocationContext } from './host-registry.js';

/** An entry with what it is. */
export interface ScannedEntry {
  entry: HostEntry;
  kind: EntryKind;
}

/** One host file, read (or why not). */
export interface ScannedFile {
  host: HostDefinition;
  location: HostLocation;
  /** Why it was not read or parsed; absent when it was. */
  problem?: string;
  text?: string;
  sha256?: string;
  document?: HostDocument;
  entries: ScannedEntry[];
}

/** Reads and parses one host file; a missing file gives undefined. */
export async function scanFile(
  host: HostDefinition,
  location: HostLocation,
): Promise<ScannedFile | undefined> {
  const read = await readHostFile(location.file);
  if (!read.ok) return read.missing ? undefined : { host, location, problem: read.reason, entries: [] };
  let document: HostDocument;
  try {
    document = host.parserFor(location.file)(read.text);
  } catch (error) {
    if (error instanceof HostFileError)
      return { host, location, problem: `it is ${error.message}`, entries: [] };
    throw error;
  }
  return {
    host,
    location,
    text: read.text,
    sha256: read.sha256,
    document,
    entries: document.entries.map((entry) => ({ entry, kind: classifyEntry(entry.value) })),
  };
}

/** Every existing file of the hosts given (all hosts by default), in registry order. */
export async function scanHosts(
  context: LocationContext,
  hosts: readonly HostDefinition[] = HOSTS,
): Promise<ScannedFile[]> {
  const found: ScannedFile[] = [];
  const seen = new Set<string>();
  for (const host of hosts) {
    for (const location of host.locations(context)) {
      // The project file can be the user file (a project in the home folder): read it once.
      if (seen.has(location.file)) continue;
      seen.add(location.file);
      const scanned = await scanFile(host, location);
      if (scanned) found.push(scanned);
    }
  }
  return found;
}
