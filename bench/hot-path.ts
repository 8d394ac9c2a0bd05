import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ManagedProvider } from '../src/index.js';

export interface HotPathResult {
  iterations: number;
  tokenNsPerOp: number;
  statSyncNsPerOp: number;
  statAsyncNsPerOp: number;
  /** token() cost relative to the seed's per-call stat (lower is better). */
  tokenVsStatSync: number;
  tokenVsStatAsync: number;
}

async function timeAsync(iterations: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(1000, iterations); i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

function timeSync(iterations: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(1000, iterations); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** ns per `token()` call beside the seed's per-call `stat` of the record file, in the same run. */
export async function benchHotPath(
  provider: ManagedProvider,
  recordPath: string,
  iterations: number,
): Promise<HotPathResult> {
  const tokenNsPerOp = await timeAsync(iterations, () => provider.token());
  const statSyncNsPerOp = timeSync(iterations, () => statSync(recordPath));
  const statAsyncNsPerOp = await timeAsync(Math.max(1000, Math.floor(iterations / 4)), () =>
    stat(recordPath),
  );
  return {
    iterations,
    tokenNsPerOp,
    statSyncNsPerOp,
    statAsyncNsPerOp,
    tokenVsStatSync: tokenNsPerOp / statSyncNsPerOp,
    tokenVsStatAsync: tokenNsPerOp / statAsyncNsPerOp,
  };
}
