/**
 * What `servers import` does with the entries found in host files, decided before anything is
 * written: which remote servers to add to config.yaml and under which names, and for every
 * other entry why it is skipped (with the command to run where one helps). The plan is then
 * written in one batch (addServers).
 */
import { shellQuote } from '../../shell-quote.js';
import type { NewServerEntry } from '../config-file.js';
import { IMPORTABLE_NAME, resolveUrl, sanitizeName } from './host-entry.js';
import type { HostId } from './host-registry.js';
import type { ScannedEntry, ScannedFile } from './host-scan.js';

/** A server the import adds (or, in a dry run, would add). */
export interface ImportedServer {
  /** Its name in config.yaml (the host's name for it). */
  name: string;
  url: string;
  /** What was not carried over, and variables resolved: names only, never values. */
  notes: string[];
}

/** An entry not imported, and why. */
export interface SkippedEntry {
  name: string;
  reason: string;
  /** A command that adds it anyway, when a name or a variable was the only problem. */
  suggestion?: string;
}

/** One host file's share of the import. */
export interface FileReport {
  host: HostId;
  file: string;
  scope: 'user' | 'project';
  /** Why the file was not read (too large, malformed, a symbolic link...). */
  problem?: string;
  added: ImportedServer[];
  skipped: SkippedEntry[];
}

/** The import, decided. `serverOf` gives the config.yaml name each remote entry maps to (added or already there). */
export interface ImportPlan {
  files: FileReport[];
  toAdd: NewServerEntry[];
  serverOf: Map<ScannedEntry, string>;
}

/** The URL as compared for "already configured" (WHATWG-normalized; the text when it does not parse). */
export function comparableUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

function freeName(base: string, taken: ReadonlySet<string>): string {
  for (let n = 2; ; n++) {
    const candidate = `${base.slice(0, 95)}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

const addCommand = (name: string, url: string) =>
  `mcp-oauth servers add ${shellQuote(name)} ${shellQuote(url)}`;

/**
 * Plans the import of `files` into a config.yaml that holds `existing` (name → URL); URL
 * variables resolve from `env`. Pure: nothing is read or written.
 */
export function planImport(
  files: readonly ScannedFile[],
  existing: ReadonlyMap<string, string>,
  env: NodeJS.ProcessEnv,
): ImportPlan {
  const nameOfUrl = new Map<string, string>();
  for (const [name, url] of existing) nameOfUrl.set(comparableUrl(url), name);
  const taken = new Set(existing.keys());
  const toAdd: NewServerEntry[] = [];
  const serverOf = new Map<ScannedEntry, string>();
  const reports: FileReport[] = [];

  for (const file of files) {
    const report: FileReport = {
      host: file.host.id,
      file: file.location.file,
      scope: file.location.scope,
      ...(file.problem ? { problem: file.problem } : {}),
      added: [],
      skipped: [],
    };
    reports.push(report);
    for (const scanned of file.entries) {
      const { entry, kind } = scanned;
      const skip = (reason: string, suggestion?: string) =>
        report.skipped.push({ name: entry.name, reason, ...(suggestion ? { suggestion } : {}) });
      if (kind.kind === 'stdio') {
        skip('a local (stdio) server: it runs on this machine, there is no OAuth to manage');
        continue;
      }
      if (kind.kind === 'proxied') {
        skip(`already runs through mcp-oauth proxy ${kind.target}`);
        continue;
      }
      if (kind.kind === 'unusable') {
        skip(`not a server mcp-oauth can use: ${kind.reason}`);
        continue;
      }
      const resolved = resolveUrl(kind.url, env);
      if (!resolved.ok) {
        skip(`not imported: ${resolved.reason}`);
        continue;
      }
      const url = resolved.url;
      const already = nameOfUrl.get(comparableUrl(url));
      if (already !== undefined) {
        serverOf.set(scanned, already);
        skip(
          existing.has(already)
            ? `already configured as ${already} (same URL)`
            : `the same URL is imported as ${already} from another entry`,
        );
        continue;
      }
      if (!IMPORTABLE_NAME.test(entry.name)) {
        let suggested = sanitizeName(entry.name, url);
        if (taken.has(suggested)) suggested = freeName(suggested, taken);
        skip(
          'its name is not one mcp-oauth imports (letters, digits, ".", "_" and "-" only, starting with a letter or digit, at most 100 characters)',
          addCommand(suggested, url),
        );
        continue;
      }
      if (taken.has(entry.name)) {
        skip(
          `the name ${entry.name} is already configured with another URL`,
          addCommand(freeName(entry.name, taken), url),
        );
        continue;
      }
      const notes = [
        ...kind.ignored.map((feature) => `not imported: ${feature}`),
        ...resolved.resolved.map((variable) => `URL variable ${variable} resolved from the environment`),
      ];
      taken.add(entry.name);
      nameOfUrl.set(comparableUrl(url), entry.name);
      serverOf.set(scanned, entry.name);
      toAdd.push({ name: entry.name, url });
      report.added.push({ name: entry.name, url, notes });
    }
  }
  return { files: reports, toAdd, serverOf };
}
