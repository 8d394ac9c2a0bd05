/**
 * The Redis store in a fleet: P processes spread over H home folders ("machines") share one
 * credential on one Redis and all call after the injected clock passed its expiry (then once more
 * at the next expiry), against the kit's rotating authorization server with reuse detection;
 * shown beside the file store and the seed's design at the same P from the cross-process section
 * of the same run. Then `token()`'s hot-path cost with the Redis store as a ratio to the file
 * store, interleaved rounds in this process (the hot path never touches Redis: goal 1.0x).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ManagedProvider, OAuthManager } from '../src/index.js';
import { RedisCredentialStore } from '../src/store/redis-credential-store.js';
import type { TestAuthorizationServer } from '../test/kit/authorization-server.js';
import type { TestMcpServer } from '../test/kit/mcp-server.js';
import { scriptedBrowserHook } from '../test/support/browser-hook.js';
import { type Child, startChild } from '../test/support/children.js';
import { startRedisServer } from '../test/support/redis-server.js';
import type { CrossProcessRow } from './cross-process.js';
import { fmt, type Table } from './table.js';

const HOST = fileURLToPath(new URL('../test/store/redis-host-child.ts', import.meta.url));

interface Done {
  ok: number;
  failed: number;
  errors: string[];
}

interface Outcome {
  refreshRequests: number;
  invalidGrant: number;
  failedCalls: number;
  /** A few distinct errors of the failed calls. */
  errors: string[];
}

export interface RedisStoreRow extends Outcome {
  subject: string;
  processes: number;
  homes: number;
  callsPerProcess: number;
  nextExpiry: Outcome;
}

export interface RedisHotPath {
  rounds: number;
  iterations: number;
  redisNsPerOp: number;
  fileNsPerOp: number;
  /** Redis-store token() / file-store token(), medians of interleaved rounds. */
  ratio: number;
}

async function round(kids: Child[], now: number, calls: number): Promise<Done[]> {
  await Promise.all(kids.map((c) => c.request({ type: 'clock', now }, 'clock-set')));
  const done = kids.map((c) => c.next<Done>('done'));
  for (const c of kids) c.process.send({ type: 'go', calls });
  return Promise.all(done);
}

function outcome(as: TestAuthorizationServer, results: Done[]): Outcome {
  return {
    refreshRequests: as.stats.refreshRequests,
    invalidGrant: as.stats.invalidGrant,
    failedCalls: results.reduce((sum, r) => sum + r.failed, 0),
    errors: [...new Set(results.flatMap((r) => r.errors))].slice(0, 3),
  };
}

async function timeTokens(provider: ManagedProvider, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await provider.token();
  return Number(process.hrtime.bigint() - start) / iterations;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Runs the scenario on a Redis server of its own (started and stopped here). */
export async function benchRedisStore(input: {
  as: TestAuthorizationServer;
  mcp: TestMcpServer;
  parentDir: string;
  processes: number;
  homes: number;
  callsPerProcess: number;
  /** The file-store provider of the run (a fresh token), for the hot-path ratio. */
  fileProvider: ManagedProvider;
  hotPath: { rounds: number; iterations: number };
  /** The cross-process rows of the same run (file store with its lock, seed's design). */
  crossProcess: CrossProcessRow[];
  progress: (line: string) => void;
}): Promise<{ rows: RedisStoreRow[]; hotPath: RedisHotPath; table: Table; notes: string[] }> {
  const redis = await startRedisServer();
  const dir = await mkdtemp(join(input.parentDir, 'redis-'));
  const kids: Child[] = [];
  const store = new RedisCredentialStore({ url: redis.url, prefix: 'bench:' });
  const hotStore = new RedisCredentialStore({ url: redis.url, prefix: 'bench-hot:' });
  try {
    // One login (a new grant), then P processes over H homes.
    const login = new OAuthManager({
      home: join(dir, 'login'),
      store,
      interactive: 'never',
      openBrowser: scriptedBrowserHook(),
    });
    login.getOrBuildProvider('demo', input.mcp.url);
    await login.login('demo');
    await login.close();
    input.progress(`redis store: P=${input.processes} over ${input.homes} homes`);
    for (let i = 0; i < input.processes; i++) {
      const env = {
        CHILD_HOME: join(dir, `home-${i % input.homes}`),
        CHILD_MCP_URL: input.mcp.url,
        CHILD_REDIS_URL: redis.url,
        CHILD_REDIS_PREFIX: 'bench:',
      };
      kids.push(await startChild(env, HOST));
    }
    const expiresAt = async () => ((await store.get({ server: 'demo' }))?.tokens?.expiresAt ?? 0) as number;
    const first = await expiresAt();
    input.as.resetStats();
    const firstRound = outcome(input.as, await round(kids, first + 1, input.callsPerProcess));
    const second = Math.max(await expiresAt(), first + 3_600_000) + 1;
    input.as.resetStats();
    const nextExpiry = outcome(input.as, await round(kids, second, input.callsPerProcess));
    const row: RedisStoreRow = {
      subject: 'mcp-oauth-manager, Redis store',
      processes: input.processes,
      homes: input.homes,
      callsPerProcess: input.callsPerProcess,
      ...firstRound,
      nextExpiry,
    };

    // Hot path: a fresh token from the Redis store, against the file store's, interleaved.
    input.progress('redis store: hot path');
    const hot = new OAuthManager({
      home: join(dir, 'hot'),
      store: hotStore,
      interactive: 'never',
      openBrowser: scriptedBrowserHook(),
    });
    const redisProvider = hot.getOrBuildProvider('demo', input.mcp.url);
    await hot.login('demo');
    const warm = Math.min(input.hotPath.iterations, 20_000);
    await timeTokens(redisProvider, warm);
    await timeTokens(input.fileProvider, warm);
    const redisSamples: number[] = [];
    const fileSamples: number[] = [];
    for (let r = 0; r < input.hotPath.rounds; r++) {
      redisSamples.push(await timeTokens(redisProvider, input.hotPath.iterations));
      fileSamples.push(await timeTokens(input.fileProvider, input.hotPath.iterations));
    }
    await hot.close();
    const hotPath: RedisHotPath = {
      rounds: input.hotPath.rounds,
      iterations: input.hotPath.iterations,
      redisNsPerOp: median(redisSamples),
      fileNsPerOp: median(fileSamples),
      ratio: median(redisSamples) / median(fileSamples),
    };

    const baseline = input.crossProcess
      .filter((r) => r.processes === input.processes)
      .map(
        (r): RedisStoreRow => ({
          subject: r.subject.startsWith('seed')
            ? "seed's design (one home, no lock)"
            : 'mcp-oauth-manager, file store (one home)',
          processes: r.processes,
          homes: 1,
          callsPerProcess: r.callsPerProcess,
          refreshRequests: r.refreshRequests,
          invalidGrant: r.invalidGrant,
          failedCalls: r.failedCalls,
          errors: r.errors,
          nextExpiry: { ...r.nextExpiry, errors: [] },
        }),
      );
    const rows = [row, ...baseline];
    const total = (r: RedisStoreRow) => fmt.int(r.processes * r.callsPerProcess);
    const table: Table = {
      headers: [
        'subject',
        'P',
        'homes',
        'refresh requests',
        'invalid_grant',
        'failed calls',
        'next expiry: refresh requests',
        'invalid_grant',
        'failed calls',
      ],
      rows: rows.map((r) => [
        r.subject,
        fmt.int(r.processes),
        fmt.int(r.homes),
        fmt.int(r.refreshRequests),
        fmt.int(r.invalidGrant),
        `${fmt.int(r.failedCalls)} / ${total(r)}`,
        fmt.int(r.nextExpiry.refreshRequests),
        fmt.int(r.nextExpiry.invalidGrant),
        `${fmt.int(r.nextExpiry.failedCalls)} / ${total(r)}`,
      ]),
    };
    const notes = [
      `token() hot path, fresh token: Redis store ${fmt.int(hotPath.redisNsPerOp)} ns, file store ${fmt.int(hotPath.fileNsPerOp)} ns: ${fmt.ratio(hotPath.ratio)} (median of ${hotPath.rounds} interleaved rounds of ${fmt.int(hotPath.iterations)} calls; the hot path never touches Redis, so the goal is 1.0x within noise).`,
    ];
    const errors = [...new Set([...row.errors, ...row.nextExpiry.errors])];
    if (errors.length) notes.push(`Redis store, failed calls: ${errors.join('; ')}`);
    return { rows, hotPath, table, notes };
  } finally {
    await Promise.all(kids.map((c) => c.stop()));
    await store.close();
    await hotStore.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
