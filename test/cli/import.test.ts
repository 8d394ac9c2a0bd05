import { existsSync } from 'node:fs';
import { readFile, symlink, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomicWriteTestHooks } from '../../src/atomic-file.js';
import { loadConfig } from '../../src/config/index.js';
import {
  EXPECTED_IMPORT,
  type HostFixture,
  writeHostFile,
  writeHostFixtures,
} from '../config/host-fixtures.js';
import { tempHome } from '../support/temp-home.js';
import { plantSecrets, runCli } from './harness.js';

let fixture: HostFixture;
let home: string;
let cleanupHome: () => Promise<void>;
beforeEach(async () => {
  fixture = await writeHostFixtures();
  ({ home, cleanup: cleanupHome } = await tempHome());
  // In host files on purpose: no output may show them.
  plantSecrets('planted-atlassian-token', 'planted-stripe-key');
});
afterEach(async () => {
  atomicWriteTestHooks.afterTempWrite = undefined;
  await fixture.cleanup();
  await cleanupHome();
});

const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(['--home', home, ...args], { env: { ...fixture.env, ...env } });

const configured = async () =>
  Object.fromEntries([...(await loadConfig(home)).servers].map(([name, server]) => [name, server.url]));

interface ImportJson {
  dryRun: boolean;
  added: number;
  hosts: Array<{
    host: string;
    file: string;
    problem?: string;
    added: Array<{ name: string; url: string; notes: string[] }>;
    skipped: Array<{ name: string; reason: string; suggestion?: string }>;
  }>;
}

describe('mcp-oauth servers import', () => {
  it('adds exactly the remote servers of every host and says per host what it skipped and why', async () => {
    const result = await cli(['servers', 'import', '--project', fixture.project, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as ImportJson;
    expect(report.added).toBe(Object.keys(EXPECTED_IMPORT).length);
    expect(await configured()).toEqual(EXPECTED_IMPORT);
    const skipped = Object.fromEntries(
      report.hosts.flatMap((host) => host.skipped.map((skip) => [`${host.host}:${skip.name}`, skip.reason])),
    );
    expect(skipped).toEqual({
      'claude-desktop:filesystem': expect.stringMatching(/local \(stdio\) server/),
      'cursor:local': expect.stringMatching(/local \(stdio\) server/),
      'cursor:linear': expect.stringMatching(/LINEAR_URL is not set/),
      'vscode:perplexity': expect.stringMatching(/local \(stdio\) server/),
      'vscode:tenant': expect.stringMatching(/\$\{input:tenant\}/),
      'vscode:notion-dup': 'the same URL is imported as notion from another entry',
      'windsurf:notion': 'the name notion is already configured with another URL',
      'codex:context7': expect.stringMatching(/local \(stdio\) server/),
      'gemini:bad name!': expect.stringMatching(/its name is not one mcp-oauth imports/),
      'hermes:local': expect.stringMatching(/local \(stdio\) server/),
      'hermes:insecure': expect.stringMatching(/must use https/),
    });

    // Run again: nothing new, each server already there.
    const again = await cli(['servers', 'import', '--project', fixture.project]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Nothing to add to ${join(home, 'config.yaml')}`);
    expect(again.stdout).toContain('- notion  skipped: already configured as notion (same URL)');
    expect(await configured()).toEqual(EXPECTED_IMPORT);
  });

  it('text output: per host, what was added, skipped with the command that adds it anyway', async () => {
    const result = await cli(['servers', 'import', '--project', fixture.project, '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Windsurf  ${fixture.files.windsurf}`);
    expect(result.stdout).toContain('+ figma  https://mcp.figma.com/mcp');
    expect(result.stdout).toContain(
      'to add it: mcp-oauth servers add notion-2 https://notion.other.example/mcp',
    );
    expect(result.stdout).toContain('to add it: mcp-oauth servers add bad-name https://bad.example.com/mcp');
    expect(result.stdout).toContain(
      '+ stripe  https://mcp.stripe.com  (not imported: headers (Authorization))',
    );
    expect(result.stdout).toContain(`Would add ${Object.keys(EXPECTED_IMPORT).length} servers`);
    // A dry run writes nothing.
    expect(existsSync(join(home, 'config.yaml'))).toBe(false);
  });

  it('--from reads one host; --file one file (host from its name, else --from)', async () => {
    const cursor = await cli([
      'servers',
      'import',
      '--from',
      'cursor',
      '--project',
      fixture.project,
      '--json',
    ]);
    expect(cursor.code, cursor.stderr).toBe(0);
    expect((JSON.parse(cursor.stdout) as ImportJson).hosts.map((host) => host.file)).toEqual([
      fixture.files.cursorUser,
      fixture.files.cursorProject,
    ]);
    expect(await configured()).toEqual({ notion: 'https://mcp.notion.com/mcp' });

    const codex = await cli(['servers', 'import', '--file', fixture.files.codex]);
    expect(codex.code, codex.stderr).toBe(0);
    expect(Object.keys(await configured()).sort()).toEqual(['deepwiki', 'docs', 'notion']);

    const odd = await writeHostFile(
      join(fixture.project, 'servers.json'),
      '{"mcpServers":{"x":{"url":"https://x.example/mcp"}}}',
    );
    const unknown = await cli(['servers', 'import', '--file', odd]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('say it with --from');
    const named = await cli(['servers', 'import', '--file', odd, '--from', 'cursor']);
    expect(named.code, named.stderr).toBe(0);
    expect((await configured()).x).toBe('https://x.example/mcp');

    const badHost = await cli(['servers', 'import', '--from', 'notepad']);
    expect(badHost.code).toBe(2);
    expect(badHost.stderr).toContain(
      'Known hosts: claude-desktop, claude-code, cursor, vscode, windsurf, codex, gemini, hermes',
    );
  });

  it('hostile files import nothing harmful and say why: huge, malformed, a symbolic link, shell syntax in names and URLs', async () => {
    const marker = join(fixture.userHome, 'pwned');
    // Huge: over the 4 MiB limit, never parsed.
    await writeHostFile(
      fixture.files.cursorUser,
      `{"mcpServers":{"big":{"url":"https://big.example/mcp"}},"pad":"${'x'.repeat(5 * 1024 * 1024)}"}`,
    );
    // Malformed JSON.
    await writeHostFile(
      fixture.files.claudeDesktop,
      '{\n  "mcpServers": {\n    "a": { "url": "https://a.example/mcp" ,, }\n',
    );
    // A symbolic link to a file elsewhere: not followed.
    await unlink(fixture.files.windsurf);
    const elsewhere = await writeHostFile(
      join(fixture.userHome, 'elsewhere.json'),
      '{"mcpServers":{"w":{"serverUrl":"https://w.example/mcp"}}}',
    );
    await symlink(elsewhere, fixture.files.windsurf);
    // Shell metacharacters in names and URLs.
    await writeHostFile(
      fixture.files.gemini,
      JSON.stringify({
        mcpServers: {
          [`$(touch ${marker})`]: { httpUrl: 'https://one.example/mcp' },
          'a;rm -rf ~': { httpUrl: 'https://two.example/mcp' },
          '`id`': { httpUrl: 'https://three.example/mcp' },
          '--help': { httpUrl: 'https://four.example/mcp' },
          good: { httpUrl: `https://five.example/$(touch ${marker})` },
          tick: { httpUrl: 'https://six.example/`touch x`' },
          runner: { command: 'sh', args: ['-c', `touch ${marker}`] },
          fine: { httpUrl: 'https://fine.example/mcp' },
        },
      }),
    );
    const result = await cli(['servers', 'import', '--project', fixture.project, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as ImportJson;
    const byFile = (file: string) => report.hosts.find((host) => host.file === file)!;
    expect(byFile(fixture.files.cursorUser).problem).toMatch(/over the 4194304-byte limit/);
    expect(byFile(fixture.files.claudeDesktop).problem).toMatch(
      /not valid JSON \(PropertyNameExpected at line 3, column 44\)/,
    );
    expect(byFile(fixture.files.windsurf).problem).toMatch(/symbolic link; not followed/);
    const gemini = byFile(fixture.files.gemini);
    expect(gemini.added.map((added) => added.name)).toEqual(['fine']);
    expect(
      Object.fromEntries(gemini.skipped.map((skip) => [skip.name, [skip.reason, skip.suggestion]])),
    ).toEqual({
      [`$(touch ${marker})`]: [
        expect.stringMatching(/its name is not one mcp-oauth imports/),
        expect.stringMatching(/^mcp-oauth servers add touch-/),
      ],
      'a;rm -rf ~': [
        expect.stringMatching(/its name is not one/),
        'mcp-oauth servers add a-rm-rf https://two.example/mcp',
      ],
      '`id`': [
        expect.stringMatching(/its name is not one/),
        'mcp-oauth servers add id https://three.example/mcp',
      ],
      '--help': [
        expect.stringMatching(/its name is not one/),
        'mcp-oauth servers add help https://four.example/mcp',
      ],
      good: [expect.stringMatching(/shell command syntax/), undefined],
      tick: [expect.stringMatching(/shell command syntax/), undefined],
      runner: [expect.stringMatching(/local \(stdio\) server/), undefined],
    });
    const servers = await configured();
    expect(servers.fine).toBe('https://fine.example/mcp');
    expect(Object.keys(servers)).not.toContain('big');
    expect(Object.keys(servers)).not.toContain('w');
    expect(JSON.stringify(servers)).not.toMatch(/\$\(|`|;/);
    // Nothing from those files ran.
    expect(existsSync(marker)).toBe(false);
  });

  it('1000 servers in one import: exactly one rewrite of config.yaml', async () => {
    await runCli(['--home', home, 'servers', 'add', 'existing', 'https://existing.example/mcp']);
    const servers: Record<string, { url: string }> = {};
    for (let i = 0; i < 1000; i++) servers[`server-${i}`] = { url: `https://s${i}.example.com/mcp` };
    const file = await writeHostFile(
      join(fixture.project, 'big', '.cursor', 'mcp.json'),
      JSON.stringify({ mcpServers: servers }, null, 2),
    );
    const writes: string[] = [];
    atomicWriteTestHooks.afterTempWrite = async (temp) => {
      writes.push(basename(temp));
    };
    const result = await cli(['servers', 'import', '--file', file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(writes.filter((name) => name.startsWith('.config.yaml.'))).toHaveLength(1);
    const after = await configured();
    expect(Object.keys(after)).toHaveLength(1001);
    expect(after['server-999']).toBe('https://s999.example.com/mcp');
    expect(await readFile(join(home, 'config.yaml'), 'utf8')).toContain('existing:');
  });
});
