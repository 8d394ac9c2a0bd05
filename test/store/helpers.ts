import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CredentialRecord } from '../../src/store/credential-record.js';
import type { CredentialKey } from '../../src/store/credential-store.js';

/** Server names that must each get a distinct, safe record file. */
export const UNSAFE_SERVER_NAMES = [
  'notion',
  'a.b',
  'a_b',
  'a-b',
  'A.B',
  '../x',
  '..',
  '.',
  '',
  'a/b',
  'a\\b',
  'a\u0000b',
  'サーバー',
  '🔐🚀',
  'x'.repeat(500),
  'CON',
  'con',
  'NUL',
  'COM1',
  'a\uD800',
  'a\uDC00',
  ' spaced name ',
  'a:b*c?"<>|',
];

/** A distinctive token value: tests assert it never appears in an error message. */
export const SECRET_ACCESS_TOKEN = 'at-SECRET-7f3c9a1e-do-not-log';

export function makeRecord(key: CredentialKey, overrides: Partial<CredentialRecord> = {}): CredentialRecord {
  const now = Date.now();
  return {
    schemaVersion: 1,
    recordId: randomUUID(),
    generation: 0,
    server: key.server,
    ...(key.account !== undefined ? { account: key.account } : {}),
    binding: { serverUrl: 'https://mcp.example.com/mcp', issuer: 'https://auth.example.com' },
    tokens: {
      accessToken: SECRET_ACCESS_TOKEN,
      tokenType: 'Bearer',
      refreshToken: 'rt-SECRET-0b1d',
      expiresAt: now + 3_600_000,
      obtainedAt: now,
    },
    state: 'valid',
    updatedAt: now,
    ...overrides,
  };
}

/** A fresh folder (mode 0700 from mkdtemp) under the system temp folder; `home` inside it does not exist yet. */
export async function tempRoot(): Promise<{ root: string; home: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'mcp-oauth-store-'));
  return { root, home: join(root, 'home'), cleanup: () => rm(root, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'store-child.ts');

export interface Child {
  process: ChildProcess;
  /** Resolves with the first stdout line equal to `line`. */
  waitForLine(line: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal) when the child ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** Writes one line to the child's stdin. */
  send(line: string): void;
}

/** Runs test/store/store-child.ts in a real Node process (through tsx). */
export function spawnChild(args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { line: string; resolve: () => void }[] = [];
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    out += chunk;
    const lines = out.split('\n');
    for (const waiter of [...waiters]) {
      if (lines.includes(waiter.line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  child.stderr?.on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    process: child,
    exited,
    stderr: () => err,
    send(line) {
      child.stdin?.write(`${line}\n`);
    },
    waitForLine(line, timeoutMs = 15_000) {
      if (out.split('\n').includes(line)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`child did not print '${line}' within ${timeoutMs} ms; stderr: ${err}`)),
          timeoutMs,
        );
        waiters.push({
          line,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`child exited (${code ?? signal}) before printing '${line}'; stderr: ${err}`));
        });
      });
    },
  };
}

/** SIGKILLs a child (if still running) and waits for it to be gone. */
export async function killChild(child: Child): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await child.exited;
}
