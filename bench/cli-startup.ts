/**
 * How fast the `mcp-oauth` binary answers, as a ratio to `node -e 0` measured in the same rounds
 * (a shared machine's noise hits both alike). The binary is built the way `npm run build` builds
 * it (scripts/build-cli.ts), from the current sources, into a cache folder whose imports resolve to
 * the repository's node_modules. Goals are shown, never enforced.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { cliBuildOptions } from '../scripts/build-cli.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Builds the binary; `remove` deletes it. */
export async function buildCli(): Promise<{ main: string; remove: () => Promise<void> }> {
  const outdir = join(repoRoot, 'node_modules/.cache/mcp-oauth-bench-cli', String(process.pid));
  await build(cliBuildOptions(outdir));
  return { main: join(outdir, 'main.js'), remove: () => rm(outdir, { recursive: true, force: true }) };
}

export interface TimedRun {
  wallMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns `node <args>` with stdout and stderr piped, spawn to exit. */
export function timedNode(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<TimedRun> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ wallMs: performance.now() - start, code, stdout, stderr }));
  });
}

export interface CliCase {
  /** The row's label, e.g. `status --json, 1,000 servers`. */
  label: string;
  /** Arguments after the binary. */
  args: string[];
  /** Goal: at most this many times `node -e 0`. */
  goalRatio: number;
  /** Checks what the command printed (a benchmark of a failing command measures nothing). */
  check?: (run: TimedRun) => string | undefined;
}

export interface CliCaseResult {
  label: string;
  args: string[];
  /** Median wall time over the rounds. */
  wallMs: number;
  /** Median over the rounds of (this command / `node -e 0` of the same round). */
  ratio: number;
  goalRatio: number;
  withinGoal: boolean;
}

export interface CliStartupResult {
  rounds: number;
  /** Median wall time of `node -e 0`. */
  nodeBaselineMs: number;
  cases: CliCaseResult[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * `rounds` rounds, each running `node -e 0` and then every case once, in turn: the baseline and
 * the commands see the same load. One warm-up round first (disk cache) is not counted.
 */
export async function benchCliStartup(input: {
  main: string;
  cases: CliCase[];
  rounds: number;
}): Promise<CliStartupResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.MCP_OAUTH_HOME;
  const baseline: number[] = [];
  const walls = input.cases.map(() => [] as number[]);
  const ratios = input.cases.map(() => [] as number[]);
  for (let round = -1; round < input.rounds; round++) {
    const node = await timedNode(['-e', '0'], env);
    const runs = [];
    for (const c of input.cases) runs.push(await timedNode([input.main, ...c.args], env));
    if (round < 0) {
      runs.forEach((run, i) => {
        const c = input.cases[i]!;
        if (run.code !== 0)
          throw new Error(`mcp-oauth ${c.args.join(' ')} exited ${run.code}: ${run.stderr}`);
        const problem = c.check?.(run);
        if (problem) throw new Error(`mcp-oauth ${c.args.join(' ')}: ${problem}`);
      });
      continue;
    }
    baseline.push(node.wallMs);
    runs.forEach((run, i) => {
      walls[i]!.push(run.wallMs);
      ratios[i]!.push(run.wallMs / node.wallMs);
    });
  }
  return {
    rounds: input.rounds,
    nodeBaselineMs: median(baseline),
    cases: input.cases.map((c, i) => {
      const ratio = median(ratios[i]!);
      return {
        label: c.label,
        args: c.args,
        wallMs: median(walls[i]!),
        ratio,
        goalRatio: c.goalRatio,
        withinGoal: ratio <= c.goalRatio,
      };
    }),
  };
}
