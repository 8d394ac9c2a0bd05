/**
 * The hosts whose MCP configuration `servers import` reads and `hosts install` edits: each
 * with its documented file locations per OS, its format's parser, and the entry that runs a
 * server through `mcp-oauth proxy`. Locations come from the environment given (HOME,
 * USERPROFILE, XDG_CONFIG_HOME, APPDATA, CODEX_HOME, HERMES_HOME) and the working folder, never
 * from process globals, so tests (and `--file`) point them anywhere.
 */
import { basename, dirname, join } from 'node:path';
import type { HostParser } from './host-document.js';
import {
  claudeCodeUserContainers,
  jsonHostParser,
  mcpServersAtRoot,
  serversAtRoot,
} from './json-host-config.js';
import { codexTomlParser } from './toml-host-config.js';
import { hermesYamlParser } from './yaml-host-config.js';

/** The hosts, by the id the CLI takes. */
export const HOST_IDS = [
  'claude-desktop',
  'claude-code',
  'cursor',
  'vscode',
  'windsurf',
  'codex',
  'gemini',
  'hermes',
] as const;
export type HostId = (typeof HOST_IDS)[number];

/** Where a host's configuration is looked for. */
export interface LocationContext {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** The project folder for project-scoped files (.mcp.json, .cursor/mcp.json, .vscode/mcp.json, .gemini/settings.json). */
  cwd: string;
}

/** One file a host reads, and its scope. */
export interface HostLocation {
  file: string;
  scope: 'user' | 'project';
}

/** A host: its name for people, its files, how to read them, and its proxy entry. */
export interface HostDefinition {
  id: HostId;
  label: string;
  format: 'json' | 'toml' | 'yaml';
  locations(context: LocationContext): HostLocation[];
  /** The parser for one of its files (Claude Code's user file differs from its project file). */
  parserFor(file: string): HostParser;
  /** Extra keys the host wants on a stdio entry (VS Code and Claude Code spell out `type: stdio`). */
  stdioKeys?: Record<string, string>;
}

/** The user's home folder as the host sees it (HOME, or USERPROFILE on Windows). */
function homeOf({ env, platform }: LocationContext): string | undefined {
  return platform === 'win32' ? (env.USERPROFILE ?? env.HOME) : env.HOME;
}

/** The per-user application-data folder: ~/Library/Application Support, %APPDATA%, or $XDG_CONFIG_HOME (~/.config). */
function appDataOf(context: LocationContext): string | undefined {
  const home = homeOf(context);
  if (context.platform === 'darwin') return home && join(home, 'Library', 'Application Support');
  if (context.platform === 'win32') return context.env.APPDATA ?? (home && join(home, 'AppData', 'Roaming'));
  return context.env.XDG_CONFIG_HOME || (home && join(home, '.config'));
}

const user = (file: string | undefined): HostLocation[] => (file ? [{ file, scope: 'user' }] : []);
const project = (file: string): HostLocation => ({ file, scope: 'project' });

const mcpServersJson = jsonHostParser(mcpServersAtRoot);

/** Every host, in the order `servers import` reads them. */
export const HOSTS: readonly HostDefinition[] = [
  {
    id: 'claude-desktop',
    label: 'Claude Desktop',
    format: 'json',
    // macOS and Windows are documented; Linux builds use the XDG folder.
    locations: (c) => {
      const base = appDataOf(c);
      return user(base && join(base, 'Claude', 'claude_desktop_config.json'));
    },
    parserFor: () => mcpServersJson,
  },
  {
    id: 'claude-code',
    label: 'Claude Code',
    format: 'json',
    // ~/.claude.json holds the user scope and each project's local scope; .mcp.json the project scope.
    locations: (c) => {
      const home = homeOf(c);
      return [...user(home && join(home, '.claude.json')), project(join(c.cwd, '.mcp.json'))];
    },
    parserFor: (file) =>
      basename(file) === '.claude.json' ? jsonHostParser(claudeCodeUserContainers) : mcpServersJson,
    stdioKeys: { type: 'stdio' },
  },
  {
    id: 'cursor',
    label: 'Cursor',
    format: 'json',
    locations: (c) => {
      const home = homeOf(c);
      return [
        ...user(home && join(home, '.cursor', 'mcp.json')),
        project(join(c.cwd, '.cursor', 'mcp.json')),
      ];
    },
    parserFor: () => mcpServersJson,
  },
  {
    id: 'vscode',
    label: 'VS Code',
    format: 'json',
    // The user profile's mcp.json, and the workspace's .vscode/mcp.json (`servers`, beside `inputs`).
    locations: (c) => {
      const base = appDataOf(c);
      return [
        ...user(base && join(base, 'Code', 'User', 'mcp.json')),
        project(join(c.cwd, '.vscode', 'mcp.json')),
      ];
    },
    parserFor: () => jsonHostParser(serversAtRoot),
    stdioKeys: { type: 'stdio' },
  },
  {
    id: 'windsurf',
    label: 'Windsurf',
    format: 'json',
    locations: (c) => {
      const home = homeOf(c);
      return user(home && join(home, '.codeium', 'windsurf', 'mcp_config.json'));
    },
    parserFor: () => mcpServersJson,
  },
  {
    id: 'codex',
    label: 'Codex',
    format: 'toml',
    // $CODEX_HOME/config.toml (default ~/.codex), and a trusted project's .codex/config.toml.
    locations: (c) => {
      const home = homeOf(c);
      const codexHome = c.env.CODEX_HOME || (home && join(home, '.codex'));
      return [
        ...user(codexHome && join(codexHome, 'config.toml')),
        project(join(c.cwd, '.codex', 'config.toml')),
      ];
    },
    parserFor: () => codexTomlParser,
  },
  {
    id: 'gemini',
    label: 'Gemini CLI',
    format: 'json',
    locations: (c) => {
      const home = homeOf(c);
      return [
        ...user(home && join(home, '.gemini', 'settings.json')),
        project(join(c.cwd, '.gemini', 'settings.json')),
      ];
    },
    parserFor: () => mcpServersJson,
  },
  {
    id: 'hermes',
    label: 'Hermes',
    format: 'yaml',
    locations: (c) => {
      const home = homeOf(c);
      const hermesHome = c.env.HERMES_HOME || (home && join(home, '.hermes'));
      return user(hermesHome && join(hermesHome, 'config.yaml'));
    },
    parserFor: () => hermesYamlParser,
  },
];

/** The host with this id, or undefined. */
export function hostById(id: string): HostDefinition | undefined {
  return HOSTS.find((host) => host.id === id);
}

/**
 * The host a file given with `--file` belongs to, from its name (and folder): undefined when the
 * name says nothing, and the caller asks for `--from`.
 */
export function guessHost(file: string): HostId | undefined {
  const name = basename(file);
  const folder = basename(dirname(file));
  if (name === 'claude_desktop_config.json') return 'claude-desktop';
  if (name === '.mcp.json' || name === '.claude.json') return 'claude-code';
  if (name === 'mcp_config.json') return 'windsurf';
  if (name === 'config.toml') return 'codex';
  if (name === 'settings.json' && folder === '.gemini') return 'gemini';
  if (name === 'config.yaml' && folder === '.hermes') return 'hermes';
  if (name === 'mcp.json' && folder === '.cursor') return 'cursor';
  if (name === 'mcp.json' && (folder === '.vscode' || folder === 'User')) return 'vscode';
  return undefined;
}
