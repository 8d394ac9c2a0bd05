import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { colorAllowed } from '../../src/cli/style.js';
import { renderTable } from '../../src/cli/table.js';
import { runCli, useCliTestbed } from './harness.js';

// The small things a newcomer trips over: wide characters in tables, FORCE_COLOR, a home that is a file.
const t = useCliTestbed({ servers: false });

describe('tables', () => {
  it('align columns after wide (CJK) and combining characters by terminal width', () => {
    const text = renderTable(
      ['NAME', 'URL'],
      [
        ['日本語', 'https://a.example/mcp'],
        ['cafe\u0301', 'https://b.example/mcp'],
        ['plain', 'https://c.example/mcp'],
      ],
    );
    // Each URL starts at the same terminal column: 2 columns per CJK character, 0 for the accent.
    const columns = text
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => {
        const cut = line.indexOf('https');
        const before = line.slice(0, cut);
        return [...before].reduce(
          (n, ch) => n + (/\p{Script=Han}/u.test(ch) ? 2 : /\p{M}/u.test(ch) ? 0 : 1),
          0,
        );
      });
    expect(new Set(columns).size).toBe(1);
  });
});

describe('colour', () => {
  it('FORCE_COLOR turns colour on in a pipe, FORCE_COLOR=0 turns it off on a terminal, NO_COLOR wins', () => {
    expect(colorAllowed({ isTTY: false }, {})).toBe(false);
    expect(colorAllowed({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorAllowed({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorAllowed({ isTTY: true }, { FORCE_COLOR: 'false' })).toBe(false);
    expect(colorAllowed({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
  });

  it('the CLI writes colour into a pipe with FORCE_COLOR', async () => {
    const plain = await t.cli(['servers', 'add', 'other', 'https://other.example/mcp']);
    expect(plain.stdout).not.toContain('\u001b[');
    const forced = await t.cli(['servers', 'add', 'third', 'https://third.example/mcp'], {
      env: { FORCE_COLOR: '1' },
    });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('\u001b[32m');
  });
});

describe('a home folder that is a file', () => {
  it('says so and how to fix it, without suggesting chmod', async () => {
    await mkdir(t.home, { recursive: true, mode: 0o700 });
    const file = join(t.home, 'not-a-folder');
    await writeFile(file, 'x');
    const result = await runCli(['--home', file, 'status']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('it is not a folder');
    expect(result.stderr).toContain('--home DIR or MCP_OAUTH_HOME');
    expect(result.stderr).not.toContain('chmod');
  });
});

describe('servers add --client-secret-env', () => {
  it('warns when the variable is not set here, and still saves the server', async () => {
    const args = [
      'servers',
      'add',
      'acme',
      'https://acme.example/mcp',
      '--client-id',
      'c1',
      '--client-secret-env',
      'ACME_SECRET_X',
    ];
    const unset = await t.cli(args);
    expect(unset.code).toBe(0);
    expect(unset.stderr).toContain('warning: the environment variable ACME_SECRET_X is not set here');
    const set = await t.cli(
      [
        'servers',
        'add',
        'acme2',
        'https://acme2.example/mcp',
        '--client-id',
        'c2',
        '--client-secret-env',
        'ACME_SECRET_Y',
      ],
      {
        env: { ACME_SECRET_Y: 'not-a-real-secret-value' },
      },
    );
    expect(set.code).toBe(0);
    expect(set.stderr).not.toContain('warning');
  });
});

describe('--home ""', () => {
  it('is a usage error, not the default home', async () => {
    const result = await runCli(['--home', '', 'status']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--home is empty');
  });
});
