import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ManagedProvider } from '../src/index.js';

/** One measured operation: the median of several rounds, and how far the rounds spread. */
export interface OpTiming {
  nsPerOp: number;
  /** Interquartile range of the rounds / median: below ~0.1 the figure is stable. */
  spread: number;
  /** The fastest round (the least disturbed by other work on the machine). */
  minNsPerOp: number;
  iterationsPerRound: number;
}

export interface HotPathResult {
  rounds: number;
  /** `await provider.token()` with a fresh cached token. */
  token: OpTiming;
  /** A bare `fs.statSync` of the record file: the seed design's per-call cost. */
  statSync: OpTiming;
  /** `await fs.promises.stat` of the record file. */
  statAsync: OpTiming;
  /** `await` of an async function returning a constant: the floor any async `token()` pays. */
  awaitFloor: OpTiming;
  /** token() cost relative to the seed's per-call stat (lower is better). */
  tokenVsStatSync: number;
  tokenVsStatAsync: number;
}

async function timeAsync(iterations: number, fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

function timeSync(iterations: number, fn: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

function summarize(samples: number[], iterationsPerRound: number): OpTiming {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
  const median = at(0.5);
  return {
    nsPerOp: median,
    spread: (at(0.75) - at(0.25)) / median,
    minNsPerOp: sorted[0]!,
    iterationsPerRound,
  };
}

/**
 * ns per `token()` call beside the seed's per-call `stat` of the record file, in the same run.
 * The operations are interleaved round by round (so a noisy neighbour or a CPU frequency change
 * hits all of them alike) after a warm-up that lets the JIT settle; the median round is reported
 * with the interquartile spread of the rounds and the fastest round.
 */
export async function benchHotPath(
  provider: ManagedProvider,
  recordPath: string,
  options: { rounds: number; iterations: number },
): Promise<HotPathResult> {
  const { rounds, iterations } = options;
  // promises.stat is ~50x slower (a thread-pool round trip): fewer iterations give the same precision.
  const asyncStatIterations = Math.max(1000, Math.floor(iterations / 20));
  const floor = async () => 'token';
  await timeAsync(Math.min(iterations, 50_000), () => provider.token());
  timeSync(Math.min(iterations, 50_000), () => statSync(recordPath));
  await timeAsync(Math.min(asyncStatIterations, 5_000), () => stat(recordPath));
  await timeAsync(Math.min(iterations, 50_000), floor);
  const samples = {
    token: [] as number[],
    statSync: [] as number[],
    statAsync: [] as number[],
    floor: [] as number[],
  };
  for (let r = 0; r < rounds; r++) {
    samples.token.push(await timeAsync(iterations, () => provider.token()));
    samples.statSync.push(timeSync(iterations, () => statSync(recordPath)));
    samples.statAsync.push(await timeAsync(asyncStatIterations, () => stat(recordPath)));
    samples.floor.push(await timeAsync(iterations, floor));
  }
  const token = summarize(samples.token, iterations);
  const statSyncTiming = summarize(samples.statSync, iterations);
  const statAsyncTiming = summarize(samples.statAsync, asyncStatIterations);
  return {
    rounds,
    token,
    statSync: statSyncTiming,
    statAsync: statAsyncTiming,
    awaitFloor: summarize(samples.floor, iterations),
    tokenVsStatSync: token.nsPerOp / statSyncTiming.nsPerOp,
    tokenVsStatAsync: token.nsPerOp / statAsyncTiming.nsPerOp,
  };
}
