import { describe, expect, it } from 'vitest';
import { elapsed, expiresInCell, humanDuration } from '../../src/cli/duration.js';
import { ExitCode, exitCodeFor } from '../../src/cli/exit-codes.js';
import { Spinner } from '../../src/cli/spinner.js';
import { styleFor } from '../../src/cli/style.js';
import { renderTable } from '../../src/cli/table.js';
import {
  ConfigError,
  InsecureHomeError,
  LoginError,
  NeedsReauthError,
  TransientAuthError,
} from '../../src/index.js';

// The small pieces the end-to-end tests see only through real output; here every branch.

describe('durations', () => {
  it('short for table cells, long for sentences', () => {
    expect([45, 59 * 60 + 59, 3600, 2 * 3600 + 3 * 60, 86_400 + 7200].map((s) => humanDuration(s))).toEqual([
      '45s',
      '59m',
      '1h',
      '2h 3m',
      '1d 2h',
    ]);
    expect(humanDuration(59 * 60, 'long')).toBe('59 min');
    expect(humanDuration(2 * 3600 + 3 * 60, 'long')).toBe('2 h 3 min');
  });

  it('EXPIRES IN: "-" without a usable token, "unknown" when the server gave no lifetime, "expired" once passed', () => {
    expect(expiresInCell('valid', 3540)).toBe('59m');
    expect(expiresInCell('expired', 0)).toBe('expired');
    expect(expiresInCell('logged_out', null)).toBe('-');
    expect(expiresInCell('needs_reauth', 1200)).toBe('-');
    // The hardening issue: a token without a lifetime is used until a 401, and status says so.
    expect(expiresInCell('valid', null)).toBe('unknown');
  });

  it('elapsed time keeps a fixed width for seconds past the first minute', () => {
    expect([0, 7_900, 65_000].map(elapsed)).toEqual(['0s', '7s', '1m 05s']);
  });
});

describe('table', () => {
  it('aligns on the plain text even when cells are coloured, with no trailing spaces', () => {
    const out = renderTable(
      ['NAME', 'STATE'],
      [
        ['a', 'valid'],
        ['longer', 'x'],
      ],
      { paint: (text, column) => (column === 0 ? `<${text}>` : text) },
    );
    expect(out).toBe('NAME    STATE\n<a>       valid\n<longer>  x\n');
  });
});

describe('exit codes', () => {
  it('map the typed errors', () => {
    expect(exitCodeFor(new NeedsReauthError('s', 'mcp-oauth login s', 'r'))).toBe(ExitCode.needsReauth);
    expect(exitCodeFor(new ConfigError('bad'))).toBe(ExitCode.usage);
    expect(exitCodeFor(new InsecureHomeError('/h', 'writable'))).toBe(ExitCode.usage);
    expect(exitCodeFor(new LoginError('s', 'no'))).toBe(ExitCode.failure);
    expect(exitCodeFor(new TransientAuthError('s', 'down', 1000))).toBe(ExitCode.failure);
    expect(exitCodeFor(new Error('boom'))).toBe(ExitCode.failure);
  });
});

class FakeStream {
  written = '';
  constructor(readonly isTTY: boolean) {}
  write(chunk: string): boolean {
    this.written += chunk;
    return true;
  }
}

describe('spinner', () => {
  const frame = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting \(\d+s\)/;

  it('on a terminal: a frame with the elapsed time, erased on stop', () => {
    let now = 1_000;
    const stream = new FakeStream(true);
    const spinner = new Spinner(stream, { env: {}, now: () => now });
    spinner.start('Waiting');
    now += 3_000;
    spinner.start('Waiting');
    spinner.print('a line\n');
    spinner.stop();
    expect(stream.written).toMatch(/⠋.* Waiting \(0s\)/);
    expect(stream.written).toMatch(/ Waiting \(3s\)/);
    expect(stream.written).toContain('a line\n');
    expect(stream.written.endsWith('\r')).toBe(true);
  });

  it('NO_COLOR: not a single escape sequence', () => {
    const stream = new FakeStream(true);
    const spinner = new Spinner(stream, { env: { NO_COLOR: '1' } });
    spinner.start('Waiting');
    spinner.stop();
    expect(stream.written).toMatch(frame);
    expect(stream.written).not.toContain('\u001b');
    // With colour allowed the glyph is coloured (so the test above is not vacuous).
    const coloured = new FakeStream(true);
    new Spinner(coloured, { env: {} }).start('Waiting');
    expect(coloured.written).toContain('\u001b[36m');
  });

  it('on a pipe (or TERM=dumb): writes nothing at all', () => {
    for (const [stream, env] of [
      [new FakeStream(false), {}],
      [new FakeStream(true), { TERM: 'dumb' }],
    ] as const) {
      const spinner = new Spinner(stream, { env });
      spinner.start('Waiting');
      spinner.print('kept\n');
      spinner.stop();
      expect(stream.written).toBe('kept\n');
    }
  });

  it('style: no colour without a terminal or with NO_COLOR', () => {
    expect(styleFor({ isTTY: false }, {}).green('x')).toBe('x');
    expect(styleFor({ isTTY: true }, { NO_COLOR: '1' }).green('x')).toBe('x');
    expect(styleFor({ isTTY: true }, {}).green('x')).toBe('\u001b[32mx\u001b[39m');
  });
});
