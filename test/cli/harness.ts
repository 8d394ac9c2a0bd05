import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_SOURCE = join(REPO_ROOT, 'src/cli/main.ts');

/**
 * The CLI as the tests run it: src/cli/main.ts bundled once per test worker with esbuild (the
 * transform tsx uses), dependencies left as imports. A real `node` process then starts in about a
 * third of the time `node --import tsx src/cli/main.ts` takes (tsx hooks every module load), which
 * is what keeps this suite within its time budget on two cores. The bundles live in
 * node_modules/.cache so that their imports resolve to the repository's node_modules.
 */
export function cliEntry(): Promise<string> {
  return bundle(CLI_SOURCE, 'cli');
}

/**
 * `BROWSER` for the logins of these tests: the kit's scripted browser (test/kit/scripted-browser.ts,
 * BROWSER_COMMAND's script, honouring BROWSER_WAIT_FILE), bundled the same way, so that a login does
 * not pay for the tsx CLI's two processes. The terminal test uses the kit's BROWSER_COMMAND as is.
 */
export async function scriptedBrowserCommand(): Promise<string> {
  return `${process.execPath} ${await bundle(join(REPO_ROOT, 'test/kit/scripted-browser.ts'), 'browser')}`;
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

/**
 * Bundles `entry` into its own folder. Code splitting keeps the CLI's dynamic imports dynamic, so
 * `--help` and usage errors do not load the MCP SDK, as with the tsc build.
 */
function bundle(entry: string, name: string): Promise<string> {
  let built = bundles.get(name);
  if (!built) {
    built = (async () => {
      if (bundles.size === 0) sweepStaleBundles();
      const outdir = join(bundleDir, name);
      await build({
        entryPoints: { main: entry },
        outdir,
        outExtension: { '.js': '.mjs' },
        bundle: true,
        splitting: true,
        packages: 'external',
        platform: 'node',
        format: 'esm',
        target: 'node20',
        logLevel: 'error',
      });
      if (!exitHookInstalled) process.once('exit', () => rmSync(bundleDir, { recursive: true, force: true }));
      exitHookInstalled = true;
      return join(outdir, 'main.mjs');
    })();
    bundles.set(name, built);
  }
  return built;
}

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
  timeoutMs?: number;
}

/** The environment every CLI child starts from: the test's own settings never leak in. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const inherited = ['MCP_OAUTH_HOME', 'BROWSER', 'BROWSER_WAIT_FILE', 'NO_COLOR', 'FORCE_COLOR'];
  // An SSH session changes what a login prints (the port-forward hint): only tests that ask for it.
  for (const key of [...inherited, 'SSH_CONNECTION', 'SSH_CLIENT', 'SSH_TTY']) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Starts `mcp-oauth <args>`; the caller drives stdin and reads the streams as they come. */
export async function spawnCli(args: string[], options: CliOptions = {}): Promise<LiveCli> {
  const child = spawn(process.execPath, [await cliEntry(), ...args], {
    cwd: REPO_ROOT,
    env: cliEnv(options.env),
    stdio: 'pipe',
  });
  return new LiveCli(child, options.timeoutMs ?? 45_000);
}

/** Runs `mcp-oauth <args>` to the end. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const started = Date.now();
  const cli = await spawnCli(args, options);
  if (process.env.CLI_TEST_TIMING)
    void cli.result.then(() => console.log(`${Date.now() - started} ms  ${args.join(' ')}`));
  if (options.input !== undefined) cli.child.stdin.end(options.input);
  else cli.child.stdin.end();
  return cli.result;
}

export class LiveCli {
  stdout = '';
  stderr = '';
  readonly result: Promise<CliResult>;
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly child: ChildProcessWithoutNullStreams,
    timeoutMs: number,
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
    this.result = new Promise((resolvePromise) => {
      child.once('exit', async (code) => {
        clearTimeout(timer);
        await stdoutEnded;
        await Promise.race([stderrEnded, new Promise((r) => setTimeout(r, 200))]);
        this.notify();
        resolvePromise({ code, stdout: this.stdout, stderr: this.stderr });
      });
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

/**
 * Writes `config.yaml` directly (the DESIGN.md format), for tests that are about something else
 * than `servers add`: one process fewer per test. The home gets 0700 as the CLI would make it.
 */
export async function writeConfig(home: string, yaml: string): Promise<string> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const file = join(home, 'config.yaml');
  await writeFile(file, yaml, { mode: 0o600 });
  return file;
}

/** Every token-like value stored in the home's credential records (to assert none is printed). */
export async function storedSecrets(home: string): Promise<string[]> {
  const dir = join(home, 'credentials');
  const secrets: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    const record = JSON.parse(await readFile(join(dir, name), 'utf8')) as {
      tokens?: { accessToken?: string; refreshToken?: string };
      client?: { information?: { client_secret?: string } };
    };
    for (const value of [
      record.tokens?.accessToken,
      record.tokens?.refreshToken,
      record.client?.information?.client_secret,
    ]) {
      if (value) secrets.push(value);
    }
  }
  return secrets;
}
