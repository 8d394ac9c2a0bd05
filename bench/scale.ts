import { fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addServer } from '../src/config/index.js';
import { type CredentialRecord, FileCredentialStore } from '../src/index.js';
import { cloneRecordFor } from './fake-record.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const TIME = '/usr/bin/time';

export interface CliRun {
  /** Median wall time of the command, spawn to exit. */
  wallMs: number;
  /** Median peak resident set size. */
  maxRssKb: number;
  servers: number;
  /** state -> count, from the JSON it printed. */
  states: Record<string, number>;
}

export interface ScaleResult {
  servers: number;
  /** How the CLI was run: the build (`node dist/cli/main.js`) or the sources through tsx. */
  cli: 'dist' | 'tsx';
  /** How peak memory was read: `/usr/bin/time -v`, or process.resourceUsage() in a preload. */
  rssProbe: 'time -v' | 'resourceUsage';
  runs: number;
  /** Setup: `addServer` for every server, one after the other (each re-reads and rewrites config.yaml). */
  addServerTotalMs: number;
  /** The last of those `addServer` calls (the file already holds every other server). */
  addServerLastMs: number;
  /** Setup: FileCredentialStore.put of every record. */
  putTotalMs: number;
  /** `mcp-oauth status --json` with an empty home: the floor (process start, module loading). */
  statusEmpty: CliRun;
  /** `mcp-oauth status --json` with every server configured and logged in. */
  status: CliRun;
  /** (status - statusEmpty) / servers: what one more server costs the command. */
  statusMsPerServer: number;
  startup: {
    configLoadMs: number;
    providersMs: number;
    firstTokenMs: number;
    startupMs: number;
    heapDeltaBytes: number;
    bytesPerIdleServer: number;
    rssDeltaBytes: number;
    hotTokenNs: number;
    idleMs: number;
    idleCpuPercent: number;
  };
}

function cliCommand(): { kind: 'dist' | 'tsx'; args: string[] } {
  const built = join(repoRoot, 'dist', 'cli', 'main.js');
  if (existsSync(built)) return { kind: 'dist', args: [built] };
  return { kind: 'tsx', args: ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')] };
}

async function runStatus(
  home: string,
  scratch: string,
  useTime: boolean,
): Promise<Omit<CliRun, 'servers' | 'states'> & { stdout: string }> {
  const cli = cliCommand();
  const rssFile = join(scratch, `rss-${process.hrtime.bigint()}.txt`);
  const nodeArgs = useTime
    ? [...cli.args]
    : ['--import', join(repoRoot, 'bench', 'max-rss-preload.mjs'), ...cli.args];
  const command = useTime ? TIME : process.execPath;
  const args = [
    ...(useTime ? ['-v', '-o', rssFile, process.execPath] : []),
    ...nodeArgs,
    '--home',
    home,
    '--json',
    'status',
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_MAX_RSS_FILE: rssFile };
  delete env.MCP_OAUTH_HOME;
  const start = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString('utf8');
      });
      child.on('error', reject);
      child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
    },
  );
  const wallMs = performance.now() - start;
  if (code !== 0) throw new Error(`mcp-oauth status --json exited ${code}: ${stderr.slice(0, 500)}`);
  const probe = await readFile(rssFile, 'utf8');
  const maxRssKb = useTime
    ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(probe)?.[1] ?? Number.NaN)
    : Number(probe.trim());
  return { wallMs, maxRssKb, stdout };
}

async function measureStatus(home: string, scratch: string, runs: number, useTime: boolean): Promise<CliRun> {
  const walls: number[] = [];
  const rss: number[] = [];
  let parsed: { servers: Array<{ state: string }> } = { servers: [] };
  for (let i = 0; i < runs; i++) {
    const run = await runStatus(home, scratch, useTime);
    walls.push(run.wallMs);
    rss.push(run.maxRssKb);
    parsed = JSON.parse(run.stdout);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const states: Record<string, number> = {};
  for (const s of parsed.servers) states[s.state] = (states[s.state] ?? 0) + 1;
  return { wallMs: median(walls), maxRssKb: median(rss), servers: parsed.servers.length, states };
}

async function measureStartup(home: string, idleMs: number): Promise<ScaleResult['startup']> {
  const child = fork(join(repoRoot, 'bench', 'scale-startup-child.ts'), [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, BENCH_HOME: home, BENCH_IDLE_MS: String(idleMs) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.on('message', (message: { type: string } & ScaleResult['startup']) => {
      if (message.type === 'result') {
        const { type: _type, ...result } = message;
        resolve(result);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the start-up child exited ${code}`));
    });
  });
}

/**
 * A home with `servers` configured servers, each with a credential record: `config.yaml` written
 * through `addServer` (src/config), records through `FileCredentialStore.put`, cloned from a real
 * record (no thousand real logins needed; `status` and a token() still read every one).
 */
export async function benchScale(input: {
  parentDir: string;
  template: CredentialRecord;
  servers: number;
  runs: number;
  idleMs: number;
  progress: (line: string) => void;
}): Promise<ScaleResult> {
  const dir = await mkdtemp(join(input.parentDir, 'scale-'));
  const home = join(dir, 'home');
  const empty = join(dir, 'empty-home');
  try {
    const urls = Array.from({ length: input.servers }, (_, i) => `https://mcp-${i}.example.com/mcp`);
    let start = performance.now();
    let addServerLastMs = 0;
    for (let i = 0; i < input.servers; i++) {
      const one = performance.now();
      await addServer(home, { name: `server-${i}`, url: urls[i]! });
      addServerLastMs = performance.now() - one;
      if ((i + 1) % 250 === 0) input.progress(`  scale: ${i + 1}/${input.servers} servers added`);
    }
    const addServerTotalMs = performance.now() - start;
    start = performance.now();
    const store = new FileCredentialStore({ home, watch: false });
    const now = Date.now();
    for (let i = 0; i < input.servers; i += 50) {
      await Promise.all(
        urls.slice(i, i + 50).map((url, j) => {
          const name = `server-${i + j}`;
          return store.put({ server: name }, cloneRecordFor(input.template, name, url, now), null);
        }),
      );
    }
    await store.close();
    const putTotalMs = performance.now() - start;

    const useTime = existsSync(TIME);
    input.progress('  scale: mcp-oauth status --json');
    const statusEmpty = await measureStatus(empty, dir, input.runs, useTime);
    const status = await measureStatus(home, dir, input.runs, useTime);
    input.progress('  scale: manager start-up');
    const startup = await measureStartup(home, input.idleMs);
    return {
      servers: input.servers,
      cli: cliCommand().kind,
      rssProbe: useTime ? 'time -v' : 'resourceUsage',
      runs: input.runs,
      addServerTotalMs,
      addServerLastMs,
      putTotalMs,
      statusEmpty,
      status,
      statusMsPerServer: (status.wallMs - statusEmpty.wallMs) / input.servers,
      startup,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
