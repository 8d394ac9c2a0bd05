import { fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addServers } from '../src/config/index.js';
import { type CredentialRecord, FileCredentialStore } from '../src/index.js';
import { benchCliStartup, buildCli, type CliStartupResult } from './cli-startup.js';
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
  /** How peak memory was read: `/usr/bin/time -v`, or process.resourceUsage() in a preload. */
  rssProbe: 'time -v' | 'resourceUsage';
  runs: number;
  /** Setup: one `addServers` call with every server (one read and one write of config.yaml). */
  addServersMs: number;
  /** Setup: FileCredentialStore.put of every record. */
  putTotalMs: number;
  /** `mcp-oauth status --json` with an empty home: the floor (process start, module loading). */
  statusEmpty: CliRun;
  /** `mcp-oauth status --json` with every server configured and logged in. */
  status: CliRun;
  /** (status - statusEmpty) / servers: what one more server costs the command. */
  statusMsPerServer: number;
  /** The binary's start-up as ratios to `node -e 0`: --version, status (empty, all servers), token. */
  cliStartup: CliStartupResult;
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

async function runStatus(
  cliMain: string,
  home: string,
  scratch: string,
  useTime: boolean,
): Promise<Omit<CliRun, 'servers' | 'states'> & { stdout: string }> {
  const cli = { args: [cliMain] };
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

async function measureStatus(
  cliMain: string,
  home: string,
  scratch: string,
  runs: number,
  useTime: boolean,
): Promise<CliRun> {
  const walls: number[] = [];
  const rss: number[] = [];
  let parsed: { servers: Array<{ state: string }> } = { servers: [] };
  for (let i = 0; i < runs; i++) {
    const run = await runStatus(cliMain, home, scratch, useTime);
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
 * through one `addServers` (src/config), records through `FileCredentialStore.put`, cloned from a
 * real record (no thousand real logins needed; `status` and a token() still read every one). The
 * binary is the bundle `npm run build` makes, built from the current sources.
 */
export async function benchScale(input: {
  parentDir: string;
  template: CredentialRecord;
  servers: number;
  runs: number;
  idleMs: number;
  /** Rounds of the CLI start-up ratios. */
  cliRounds: number;
  progress: (line: string) => void;
}): Promise<ScaleResult> {
  const dir = await mkdtemp(join(input.parentDir, 'scale-'));
  const home = join(dir, 'home');
  const empty = join(dir, 'empty-home');
  const single = join(dir, 'single-home');
  const cli = await buildCli();
  try {
    const urls = Array.from({ length: input.servers }, (_, i) => `https://mcp-${i}.example.com/mcp`);
    let start = performance.now();
    await addServers(
      home,
      urls.map((url, i) => ({ name: `server-${i}`, url })),
    );
    const addServersMs = performance.now() - start;
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
    // `token` with a fresh token, in a home of its own: the cost of one credential, not of a
    // thousand-server config.yaml.
    await addServers(single, [{ name: 'server-0', url: urls[0]! }]);
    const singleStore = new FileCredentialStore({ home: single, watch: false });
    await singleStore.put(
      { server: 'server-0' },
      cloneRecordFor(input.template, 'server-0', urls[0]!, now),
      null,
    );
    await singleStore.close();

    const useTime = existsSync(TIME);
    input.progress('  scale: mcp-oauth status --json');
    const statusEmpty = await measureStatus(cli.main, empty, dir, input.runs, useTime);
    const status = await measureStatus(cli.main, home, dir, input.runs, useTime);
    input.progress(`  scale: mcp-oauth start-up against node -e 0 (${input.cliRounds} rounds)`);
    const n = input.servers.toLocaleString('en-US');
    const serversListed = (count: number) => (run: { stdout: string }) => {
      const listed = (JSON.parse(run.stdout) as { servers: unknown[] }).servers.length;
      return listed === count ? undefined : `listed ${listed} servers, expected ${count}`;
    };
    const cliStartup = await benchCliStartup({
      main: cli.main,
      rounds: input.cliRounds,
      cases: [
        { label: '--version', args: ['--version'], goalRatio: 2 },
        {
          label: 'status --json, 0 servers',
          args: ['--home', empty, '--json', 'status'],
          goalRatio: 2,
          check: serversListed(0),
        },
        {
          label: `status --json, ${n} servers logged in`,
          args: ['--home', home, '--json', 'status'],
          goalRatio: 3,
          check: serversListed(input.servers),
        },
        {
          label: 'token, a fresh token',
          args: ['--home', single, 'token', 'server-0'],
          goalRatio: 2,
          check: (run) => (run.stdout.trim().length > 0 ? undefined : 'printed no token'),
        },
      ],
    });
    input.progress('  scale: manager start-up');
    const startup = await measureStartup(home, input.idleMs);
    return {
      servers: input.servers,
      rssProbe: useTime ? 'time -v' : 'resourceUsage',
      runs: input.runs,
      addServersMs,
      putTotalMs,
      statusEmpty,
      status,
      statusMsPerServer: (status.wallMs - statusEmpty.wallMs) / input.servers,
      cliStartup,
      startup,
    };
  } finally {
    await cli.remove();
    await rm(dir, { recursive: true, force: true });
  }
}
