import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyEntry, hostById } from '../../src/config/host-configs/index.js';
import { loadConfig } from '../../src/config/index.js';
import { type FixtureFile, type HostFixture, writeHostFixtures } from '../config/host-fixtures.js';
import { tempHome } from '../support/temp-home.js';
import { plantSecrets, runBinary, runCli } from './harness.js';

let fixture: HostFixture;
let home: string;
let cleanupHome: () => Promise<void>;
beforeEach(async () => {
  fixture = await writeHostFixtures();
  ({ home, cleanup: cleanupHome } = await tempHome());
  plantSecrets('planted-atlassian-token', 'planted-stripe-key');
});
afterEach(async () => {
  await fixture.cleanup();
  await cleanupHome();
});

const cli = (args: string[]) =>
  runCli(
    [
      '--home',
      home,
      ...args,
      ...(args[0] === 'hosts' && args[1] !== 'uninstall' ? ['--project', fixture.project] : []),
    ],
    {
      env: fixture.env,
    },
  );

const read = (file: string) => readFile(file, 'utf8');

/** Each host, its files in the fixture, and the entries `hosts install` proxies (name → server). */
const HOST_CASES: Array<[string, FixtureFile[], Record<string, string>]> = [
  ['claude-desktop', ['claudeDesktop'], { asana: 'asana', atlassian: 'atlassian' }],
  [
    'claude-code',
    ['claudeCodeUser', 'claudeCodeProject'],
    { sentry: 'sentry', stripe: 'stripe', paypal: 'paypal', api: 'api' },
  ],
  ['cursor', ['cursorUser', 'cursorProject'], { notion: 'notion' }],
  ['vscode', ['vscodeUser', 'vscodeWorkspace'], { github: 'github', 'notion-dup': 'notion' }],
  ['windsurf', ['windsurf'], { figma: 'figma', notion: 'notion' }],
  ['codex', ['codex'], { deepwiki: 'deepwiki', docs: 'docs' }],
  ['gemini', ['gemini'], { cloudflare: 'cloudflare', 'sse-one': 'sse-one' }],
  ['hermes', ['hermes'], { hf: 'hf' }],
];

/** The proxied entries of a host's files now: entry name → the server its proxy runs. */
async function proxiedEntries(hostId: string, keys: FixtureFile[]): Promise<Record<string, string>> {
  const host = hostById(hostId)!;
  const found: Record<string, string> = {};
  for (const key of keys) {
    const file = fixture.files[key];
    for (const entry of host.parserFor(file)(await read(file)).entries) {
      const kind = classifyEntry(entry.value);
      if (kind.kind === 'proxied') found[entry.name] = kind.target;
    }
  }
  return found;
}

describe('mcp-oauth hosts install / uninstall', () => {
  for (const [hostId, keys, expected] of HOST_CASES) {
    it(`${hostId}: install proxies its remote servers (importing them), twice changes nothing, uninstall restores every file byte for byte`, async () => {
      const originals = await Promise.all(keys.map((key) => read(fixture.files[key])));
      // vscode's notion-dup is the same URL as a server configured under another name.
      if (hostId === 'vscode')
        await runCli(['--home', home, 'servers', 'add', 'notion', 'https://mcp.notion.com/mcp']);

      const installed = await cli(['hosts', 'install', hostId]);
      expect(installed.code, installed.stderr).toBe(0);
      expect(installed.stdout).toContain('@@');
      expect(await proxiedEntries(hostId, keys)).toEqual(expected);
      // The servers behind the proxy entries are configured.
      const servers = (await loadConfig(home)).servers;
      for (const server of Object.values(expected)) expect(servers.has(server), server).toBe(true);
      // Comments are kept.
      for (const [i, key] of keys.entries()) {
        const now = await read(fixture.files[key]);
        for (const comment of originals[i]!.match(/^\s*(\/\/|#|\/\*).*$/gm) ?? [])
          expect(now).toContain(comment.trim());
      }
      // The backup is the file as it was.
      const backups = await readdir(join(home, 'hosts', 'backups'));
      const backupTexts = await Promise.all(
        backups.map((name) => read(join(home, 'hosts', 'backups', name))),
      );
      const nowTexts = await Promise.all(keys.map((key) => read(fixture.files[key])));
      const changedOriginals = originals.filter((text, i) => nowTexts[i] !== text);
      expect(backupTexts.sort()).toEqual(changedOriginals.sort());

      // Twice: nothing changes, not even the state.
      const afterFirst = await Promise.all(keys.map((key) => read(fixture.files[key])));
      const state = await read(join(home, 'hosts', 'installed.json'));
      const again = await cli(['hosts', 'install', hostId]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).not.toContain('@@');
      expect(again.stdout).toContain('No change to');
      expect(await Promise.all(keys.map((key) => read(fixture.files[key])))).toEqual(afterFirst);
      expect(await read(join(home, 'hosts', 'installed.json'))).toBe(state);

      // list shows the proxied entries as installed by us.
      const listed = await cli(['hosts', 'list', '--json']);
      const rows = (
        JSON.parse(listed.stdout) as {
          hosts: Array<{
            host: string;
            servers: Array<{ name: string; kind: string; installedByMcpOauth?: boolean }>;
          }>;
        }
      ).hosts;
      const proxied = rows
        .filter((row) => row.host === hostId)
        .flatMap((row) => row.servers.filter((server) => server.kind === 'proxied'));
      expect(proxied.map((server) => server.name).sort()).toEqual(Object.keys(expected).sort());
      expect(proxied.every((server) => server.installedByMcpOauth)).toBe(true);

      const removed = await cli(['hosts', 'uninstall', hostId]);
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout).toContain('restored byte for byte from the backup');
      expect(await Promise.all(keys.map((key) => read(fixture.files[key])))).toEqual(originals);
      expect(JSON.parse(await read(join(home, 'hosts', 'installed.json')))).toEqual({
        version: 1,
        files: [],
      });
    });
  }

  const edits: Array<[string, FixtureFile, (text: string) => string]> = [
    ['cursor', 'cursorUser', (text) => text.replace('"server.js"', '"server2.js"')],
    [
      'vscode',
      'vscodeUser',
      (text) => text.replace('// VS Code user MCP configuration', '// edited by hand'),
    ],
    ['codex', 'codex', (text) => text.replace('model = "o3"', 'model = "o3-pro" # changed by hand')],
    [
      'hermes',
      'hermes',
      (text) => text.replace('model: anthropic/claude-sonnet', 'model: anthropic/claude-opus'),
    ],
  ];
  for (const [hostId, key, edit] of edits) {
    it(`${hostId}: with an unrelated edit in between, uninstall restores only the proxied entries and keeps the edit`, async () => {
      const file = fixture.files[key];
      const original = await read(file);
      expect((await cli(['hosts', 'install', hostId])).code).toBe(0);
      await writeFile(file, edit(await read(file)));
      const removed = await cli(['hosts', 'uninstall', hostId, '--file', file]);
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout).toContain('entries restored');
      expect(await read(file)).toBe(edit(original));
    });
  }

  it('--dry-run shows the diff and writes nothing; named servers only; unknown names are usage errors', async () => {
    const file = fixture.files.claudeCodeUser;
    const before = await read(file);
    const dry = await cli(['hosts', 'install', 'claude-code', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('+      "type": "stdio"');
    expect(dry.stdout).toContain('"mcp-oauth-manager"');
    // The removed Authorization header is shown redacted (the harness checks the secret never appears).
    expect(dry.stdout).toContain('"Authorization": "<redacted>"');
    expect(dry.stdout).toContain('Dry run: nothing written.');
    expect(await read(file)).toBe(before);
    expect(existsSync(join(home, 'config.yaml'))).toBe(false);
    expect(existsSync(join(home, 'hosts'))).toBe(false);

    const one = await cli(['hosts', 'install', 'claude-code', 'stripe']);
    expect(one.code, one.stderr).toBe(0);
    expect(await proxiedEntries('claude-code', ['claudeCodeUser', 'claudeCodeProject'])).toEqual({
      stripe: 'stripe',
    });
    expect([...(await loadConfig(home)).servers.keys()]).toEqual(['stripe']);

    const unknown = await cli(['hosts', 'install', 'claude-code', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("No entry named 'nope'");
    expect(unknown.stderr).toContain('Remote servers there: sentry, paypal, api');
  });

  it('a non-default home travels in the proxy entry; --global launches mcp-oauth; the host file ends up 0600', async () => {
    const result = await cli(['hosts', 'install', 'windsurf', '--global']);
    expect(result.code, result.stderr).toBe(0);
    const entry = JSON.parse(await read(fixture.files.windsurf)).mcpServers.figma;
    expect(entry).toEqual({ command: 'mcp-oauth', args: ['--home', home, 'proxy', 'figma'] });
    expect((await stat(fixture.files.windsurf)).mode & 0o777).toBe(0o600);
  });

  it('a file changed by hand after the install of an entry keeps that entry and says so', async () => {
    const file = fixture.files.cursorUser;
    expect((await cli(['hosts', 'install', 'cursor'])).code).toBe(0);
    await writeFile(file, (await read(file)).replace('"notion"\n', '"notion", "--verbose"\n'));
    const removed = await cli(['hosts', 'uninstall', 'cursor']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('notion not restored: it was edited since the install; left as it is');
  });

  it('the built binary reads and edits every format (its bundle loads jsonc-parser, smol-toml, yaml and diff)', async () => {
    const before = await read(fixture.files.vscodeUser);
    const result = await runBinary(
      ['--home', home, 'hosts', 'install', 'vscode', '--dry-run', '--project', fixture.project],
      {
        env: fixture.env,
        timeoutMs: 120_000,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('"mcp-oauth-manager"');
    const listed = await runBinary(
      ['--home', home, 'hosts', 'list', '--json', '--project', fixture.project],
      {
        env: fixture.env,
        timeoutMs: 120_000,
      },
    );
    expect(listed.code, listed.stderr).toBe(0);
    const hosts = (JSON.parse(listed.stdout) as { hosts: Array<{ host: string }> }).hosts.map(
      (row) => row.host,
    );
    expect(new Set(hosts)).toEqual(
      new Set(['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'codex', 'gemini', 'hermes']),
    );
    expect(await read(fixture.files.vscodeUser)).toBe(before);
  }, 240_000);

  it('nothing installed: uninstall says so; an unknown host is a usage error', async () => {
    const none = await cli(['hosts', 'uninstall', 'gemini']);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('Nothing installed in Gemini CLI by mcp-oauth.');
    const unknown = await cli(['hosts', 'install', 'emacs']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown host');
  });
});
