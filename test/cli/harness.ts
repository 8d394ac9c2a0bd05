import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { cliBuildOptions } from '../../scripts/build-cli.js';
import type { CliIO, InterruptSignal } from '../../src/cli/io.js';
import { run } from '../../src/cli/program.js';
import type { OpenBrowser } from '../../src/index.js';
import { startTestbed, type TestAuthorizationServer, type Testbed } from '../kit/index.js';
import { expectNoSecrets } from '../support/no-secrets.js';
import { bundleScriptedBrowser } from '../support/scripted-browser-bundle.js';
import { tempHome } from '../support/temp-home.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to a clean environment (no MCP_OAUTH_HOME, no BROWSER, no colour settings). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** In-process runs only: the login's browser (e.g. the kit's scripted browser hook). */
  openBrowser?: OpenBrowser;
  /** Spawned runs only. */
  timeoutMs?: number;
}

/** The environment every CLI run starts from: the test's own settings never leak in. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const inherited = ['MCP_OAUTH_HOME', 'BROWSER', 'BROWSER_WAIT_FILE', 'NO_COLOR', 'FORCE_COLOR'];
  // An SSH session changes what a login prints (the port-forward hint): only tests that ask for it.
  for (const key of [...inherited, ...SSH_KEYS]) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

const SSH_KEYS = ['SSH_CONNECTION', 'SSH_CLIENT', 'SSH_TTY'];

// ---------------------------------------------------------------------------------------------
// No secret in any output. Every command run through this harness (in-process or spawned) has its
// stdout and stderr checked against every secret the test planted (plantSecrets, and the values
// of variables named like a secret in the command's environment) and every secret the kit issued
// that can be known: the tokens and client secrets stored in the command's home before and after
// it ran, and the refresh tokens the watched authorization servers were shown. The one exception
// is `token`'s stdout, which is the token by design.

const planted = new Set<string>();
const issued = new Set<string>();
const watchedServers = new Set<TestAuthorizationServer>();
afterEach(() => {
  planted.clear();
  issued.clear();
  watchedServers.clear();
});

/** Secrets this test planted (a client secret, a token written into a record...): never printed. */
export function plantSecrets(...values: string[]): void {
  for (const value of values) planted.add(value);
}

/** The refresh tokens this authorization server is shown are checked too (until the test ends). */
export function watchAuthorizationServer(as: TestAuthorizationServer): void {
  watchedServers.add(as);
}

const SECRET_VARIABLE = /SECRET|TOKEN|PASSWORD|ENCRYPTION_KEY/i;

/** The home a command line uses (`--home DIR`, else MCP_OAUTH_HOME), if the test set one. */
function homeOf(args: string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--home') return args[i + 1];
    if (args[i]?.startsWith('--home=')) return args[i]!.slice('--home='.length);
  }
  return env.MCP_OAUTH_HOME;
}

/** The subcommand: the first word that is neither an option nor the value of --home. */
function commandOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--home' || args[i] === '--account') i++;
    else if (!args[i]!.startsWith('-')) return args[i];
  }
  return undefined;
}

/** storedSecrets, tolerant of a missing home and of the unreadable records some tests plant. */
async function collectStored(home: string | undefined): Promise<void> {
  if (!home) return;
  const dir = join(home, 'credentials');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const record = JSON.parse(await readFile(join(dir, name), 'utf8')) as StoredRecordSecrets;
      for (const value of secretsOfRecord(record)) issued.add(value);
    } catch {
      // Corrupt or half-written on purpose: nothing to learn from it.
    }
  }
}

/** Fails the command's result when its output contains a known secret (see above). */
async function checkNoSecrets(args: string[], env: NodeJS.ProcessEnv, result: CliResult): Promise<void> {
  await collectStored(homeOf(args, env));
  for (const as of watchedServers) for (const token of as.stats.refreshTokensSeen) issued.add(token);
  const passed = Object.entries(envOverrides.get(env) ?? {});
  const envSecrets = passed.flatMap(([key, value]) => (SECRET_VARIABLE.test(key) && value ? [value] : []));
  const secrets = [...planted, ...issued, ...envSecrets];
  const what = `mcp-oauth ${args.join(' ')}`;
  expectNoSecrets(result.stderr, secrets, `stderr of ${what}`);
  if (commandOf(args) !== 'token') expectNoSecrets(result.stdout, secrets, `stdout of ${what}`);
}

// The variables the test itself passed (the rest of the environment is the test runner's).
const envOverrides = new WeakMap<NodeJS.ProcessEnv, Record<string, string | undefined>>();

function commandEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env = cliEnv(extra);
  envOverrides.set(env, extra);
  return env;
}

// ---------------------------------------------------------------------------------------------
// In-process: the program's run(argv, io) with captured streams. What most tests use: no process
// to start, no bundle to build, and the same code path from commander to the exit code.

/** A stream that keeps what was written, and wakes whoever waits for a pattern in it. */
class CapturedStream {
  text = '';
  readonly isTTY = false;
  constructor(private readonly changed: () => void) {}
  write(chunk: string): boolean {
    this.text += chunk;
    this.changed();
    return true;
  }
}

/**
 * The variables the library itself reads from process.env rather than from the command's
 * environment: the browser command and the SSH session facts of a login.
 */
const LIBRARY_ENV_KEYS = ['BROWSER', 'BROWSER_WAIT_FILE', ...SSH_KEYS];

// One in-process run at a time, since each sets those variables in process.env for its duration.
let queue: Promise<unknown> = Promise.resolve();

async function withLibraryEnv<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  const saved = LIBRARY_ENV_KEYS.map((key) => [key, process.env[key]] as const);
  for (const key of LIBRARY_ENV_KEYS) {
    if (env[key] === undefined) delete process.env[key];
    else process.env[key] = env[key];
  }
  try {
    return await fn();
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** An in-process `mcp-oauth <args>` under way: its output so far, its stdin, its result. */
export class InProcessCli {
  readonly stdin = new PassThrough();
  readonly result: Promise<CliResult>;
  private readonly waiters: Array<() => void> = [];
  private readonly out = new CapturedStream(() => this.notify());
  private readonly err = new CapturedStream(() => this.notify());
  private readonly interruptHandlers: Array<(signal: InterruptSignal) => boolean> = [];
  private finished = false;

  constructor(args: string[], options: CliOptions) {
    const env = commandEnv(options.env);
    const io: CliIO = {
      stdout: this.out,
      stderr: this.err,
      stdin: this.stdin,
      env,
      onInterrupt: (handler) => {
        this.interruptHandlers.push(handler);
        return () => this.interruptHandlers.splice(this.interruptHandlers.indexOf(handler), 1);
      },
      ...(options.openBrowser ? { openBrowser: options.openBrowser } : {}),
    };
    const started = queue.then(async () => {
      // What the home holds before: a token the command replaces must not be printed either.
      await collectStored(homeOf(args, env));
      return withLibraryEnv(env, () => run([process.execPath, 'mcp-oauth', ...args], io));
    });
    queue = started.catch(() => {});
    this.result = started.then(async (code) => {
      this.finished = true;
      this.notify();
      const result = { code, stdout: this.out.text, stderr: this.err.text };
      await checkNoSecrets(args, env, result);
      return result;
    });
  }

  get stdout(): string {
    return this.out.text;
  }

  get stderr(): string {
    return this.err.text;
  }

  /** Ctrl-C (or SIGTERM): true when the running command handled it (a login cancels itself). */
  interrupt(signal: InterruptSignal = 'SIGINT'): boolean {
    return this.interruptHandlers.at(-1)?.(signal) ?? false;
  }

  /** Resolves with the first match of `pattern` in stderr; rejects if the command ends first. */
  async waitForStderr(pattern: RegExp): Promise<RegExpMatchArray> {
    for (;;) {
      const match = this.stderr.match(pattern);
      if (match) return match;
      if (this.finished) throw new Error(`mcp-oauth ended before ${pattern}; stderr:\n${this.stderr}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** Starts `mcp-oauth <args>` in this process; the caller drives stdin and reads the output. */
export function startCli(args: string[], options: CliOptions = {}): InProcessCli {
  return new InProcessCli(args, options);
}

/** Runs `mcp-oauth <args>` in this process to the end (stdin: `input`, then closed). */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const cli = startCli(args, options);
  cli.stdin.end(options.input ?? '');
  return cli.result;
}

// ---------------------------------------------------------------------------------------------
// Spawned: the binary itself, for what only a process shows (exit codes of the process, signals,
// pipes, a terminal, two processes at once).

/**
 * The binary as the tests run it: built with the options of `npm run build` (scripts/build-cli.ts)
 * once per test worker, into node_modules/.cache so that the external imports resolve to the
 * repository's node_modules.
 */
export function cliEntry(): Promise<string> {
  return bundle('cli', async (outdir) => {
    await build(cliBuildOptions(outdir));
    return join(outdir, 'main.js');
  });
}

/**
 * `BROWSER` for the logins of spawned tests: the kit's scripted browser (test/kit/scripted-browser.ts,
 * BROWSER_COMMAND's script, honouring BROWSER_WAIT_FILE), bundled, so that a login does not pay
 * for the tsx CLI's two processes. The terminal test uses the kit's BROWSER_COMMAND as is.
 */
export async function scriptedBrowserCommand(): Promise<string> {
  const script = await bundle('browser', bundleScriptedBrowser);
  return `${process.execPath} ${script}`;
}

const bundles = new Map<string, Promise<string>>();
let exitHookInstalled = false;
const cacheRoot = join(REPO_ROOT, 'node_modules/.cache/mcp-oauth-cli-test');
const bundleDir = join(cacheRoot, String(process.pid));

/**
 * Removes the bundle folders of test workers that are gone. A worker's own 'exit' handler does
 * not run when the pool terminates it, so each worker also sweeps up after the dead ones.
 */
function sweepStaleBundles(): void {
  let entries: string[];
  try {
    entries = readdirSync(cacheRoot);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    rmSync(join(cacheRoot, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function bundle(name: string, make: (outdir: string) => Promise<string>): Promise<string> {
  let built = bundles.get(name);
  if (!built) {
    if (bundles.size === 0) sweepStaleBundles();
    if (!exitHookInstalled) process.once('exit', () => rmSync(bundleDir, { recursive: true, force: true }));
    exitHookInstalled = true;
    built = make(join(bundleDir, name));
    bundles.set(name, built);
  }
  return built;
}

/** Starts the binary with `args`; the caller drives stdin and reads the streams as they come. */
export async function spawnCli(args: string[], options: CliOptions = {}): Promise<LiveCli> {
  const env = commandEnv(options.env);
  await collectStored(homeOf(args, env));
  const child = spawn(process.execPath, [await cliEntry(), ...args], { cwd: REPO_ROOT, env, stdio: 'pipe' });
  return new LiveCli(child, options.timeoutMs ?? 45_000, (result) => checkNoSecrets(args, env, result));
}

/** Runs the binary with `args` to the end. */
export async function runBinary(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const cli = await spawnCli(args, options);
  cli.child.stdin.end(options.input ?? '');
  return cli.result;
}

export class LiveCli {
  stdout = '';
  stderr = '';
  readonly result: Promise<CliResult & { signal: NodeJS.Signals | null }>;
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly child: ChildProcessWithoutNullStreams,
    timeoutMs: number,
    check: (result: CliResult) => Promise<void> = async () => {},
  ) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    // Ends when the process has exited and its stdout is drained. Not on 'close': a browser the
    // CLI started inherits its stderr and may outlive it (as a real browser does), keeping that
    // pipe open; stderr gets a short grace instead.
    const ended = (stream: NodeJS.ReadableStream) => new Promise<void>((r) => stream.once('end', r));
    const stdoutEnded = ended(child.stdout);
    const stderrEnded = ended(child.stderr);
    this.result = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolvePromise) => {
      child.once('exit', async (code, signal) => {
        clearTimeout(timer);
        await stdoutEnded;
        await Promise.race([stderrEnded, new Promise((r) => setTimeout(r, 200))]);
        this.notify();
        resolvePromise({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    }).then(async (result) => {
      await check(result);
      return result;
    });
  }

  /** Resolves with the first match of `pattern` in stderr; rejects if the process ends first. */
  async waitForStderr(pattern: RegExp): Promise<RegExpMatchArray> {
    for (;;) {
      const match = this.stderr.match(pattern);
      if (match) return match;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `mcp-oauth exited (${this.child.exitCode ?? this.child.signalCode}) before ${pattern}; stderr:\n${this.stderr}`,
        );
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

// ---------------------------------------------------------------------------------------------
// Homes.

/**
 * Writes `config.yaml` directly, for tests that are about something else than `servers add`.
 * The home gets 0700 as the CLI would make it.
 */
export async function writeConfig(home: string, yaml: string): Promise<string> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const file = join(home, 'config.yaml');
  await writeFile(file, yaml, { mode: 0o600 });
  return file;
}

/** A config.yaml with the kit's MCP server as `kit` (a short login deadline unless told otherwise). */
export function writeKitConfig(home: string, mcpUrl: string, options: { timeout?: number | null } = {}) {
  const timeout = options.timeout === undefined ? 20 : options.timeout;
  return writeConfig(
    home,
    `servers:\n  kit:\n    url: ${mcpUrl}\n${timeout === null ? '' : `    oauth:\n      timeout: ${timeout}\n`}`,
  );
}

interface StoredRecordSecrets {
  tokens?: { accessToken?: unknown; refreshToken?: unknown };
  client?: { information?: { client_secret?: unknown } };
}

function secretsOfRecord(record: StoredRecordSecrets | null): string[] {
  return [
    record?.tokens?.accessToken,
    record?.tokens?.refreshToken,
    record?.client?.information?.client_secret,
  ].filter((value): value is string => typeof value === 'string' && value.length > 0);
}

/** Every token-like value stored in the home's credential records (to assert none is printed). */
export async function storedSecrets(home: string): Promise<string[]> {
  const dir = join(home, 'credentials');
  const secrets: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    secrets.push(
      ...secretsOfRecord(JSON.parse(await readFile(join(dir, name), 'utf8')) as StoredRecordSecrets),
    );
  }
  return secrets;
}

// ---------------------------------------------------------------------------------------------
// The arrangement of most CLI test files.

export interface CliTestbed {
  /** The kit's authorization server and MCP server, one pair for the file. */
  readonly bed: Testbed;
  /** A fresh home for each test (so a fresh client registration too). */
  readonly home: string;
  /** `mcp-oauth --home <home> <args>`, in-process. */
  cli(args: string[], options?: CliOptions): Promise<CliResult>;
  /** config.yaml with the kit's MCP server as `kit` (see writeKitConfig). */
  configureKit(options?: { timeout?: number | null }): Promise<string>;
}

/** Registers the hooks: kit servers for the file (unless `servers: false`), a home per test. */
export function useCliTestbed(options: { servers?: boolean } = {}): CliTestbed {
  let bed: Testbed | undefined;
  let home: string | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  if (options.servers !== false) {
    beforeAll(async () => {
      bed = await startTestbed();
    });
    beforeEach(() => watchAuthorizationServer(bed!.as));
    afterAll(async () => {
      await bed?.close();
    });
  }
  beforeEach(async () => {
    ({ home, cleanup } = await tempHome());
  });
  afterEach(async () => {
    await cleanup?.();
  });
  const testbed: CliTestbed = {
    get bed() {
      if (!bed) throw new Error('useCliTestbed({ servers: false }) has no kit servers');
      return bed;
    },
    get home() {
      return home!;
    },
    cli: (args, cliOptions = {}) => runCli(['--home', home!, ...args], cliOptions),
    configureKit: (kitOptions) => writeKitConfig(home!, testbed.bed.mcp.url, kitOptions),
  };
  return testbed;
}
