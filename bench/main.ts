/**
 * `npm run bench` (a table) and `npm run bench -- --json` (one JSON object); `--quick` for CI.
 * Every scenario runs against the test kit's loopback servers, and each figure stands beside its
 * baseline measured in the same run: ratios and counts, not absolute times (shared, noisy machines).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Clock, OAuthManager } from '../src/index.js';
import { fileNameFor } from '../src/store/file-names.js';
import { startAuthorizationServer } from '../test/kit/authorization-server.js';
import { startMcpServer } from '../test/kit/mcp-server.js';
import { scriptedBrowserHook } from '../test/support/browser-hook.js';
import { type HerdRow, herdManager, herdSdk } from './herd.js';
import { benchHotPath } from './hot-path.js';
import { pooledFetch } from './pooled-fetch.js';

const { values: args } = parseArgs({
  options: { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false } },
});
const sizes = args.quick ? [1, 10, 100] : [1, 10, 100, 1000];
const log = (line: string) => {
  if (!args.json) console.log(line);
};

class OffsetClock implements Clock {
  offset = 0;
  now() {
    return Date.now() + this.offset;
  }
}

async function main() {
  const parent = await mkdtemp(join(tmpdir(), 'mcp-oauth-bench-'));
  const as = await startAuthorizationServer();
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  const pool = pooledFetch(64);
  const clock = new OffsetClock();
  const manager = new OAuthManager({
    home: join(parent, 'home'),
    clock,
    fetch: pool.fetch,
    interactive: 'never',
    openBrowser: scriptedBrowserHook(),
  });
  try {
    const provider = manager.getOrBuildProvider('bench', mcp.url);
    manager.getOrBuildProvider('bench-sdk', mcp.url);
    await manager.login('bench');
    const recordPath = join(parent, 'home', 'credentials', `${fileNameFor({ server: 'bench' })}.json`);

    log("hot path: token() against the seed design's per-call stat of the record file");
    const hotPath = await benchHotPath(provider, recordPath, args.quick ? 100_000 : 500_000);
    log(
      `  token() ${hotPath.tokenNsPerOp.toFixed(0)} ns/op | fs.statSync ${hotPath.statSyncNsPerOp.toFixed(0)} ns/op | fs.promises.stat ${hotPath.statAsyncNsPerOp.toFixed(0)} ns/op`,
    );
    log(
      `  ratio token()/statSync ${hotPath.tokenVsStatSync.toFixed(2)}, token()/promises.stat ${hotPath.tokenVsStatAsync.toFixed(2)}`,
    );

    log('\nherd: N concurrent tool calls, pool of 64 connections');
    const rows: HerdRow[] = [];
    for (const n of sizes) {
      rows.push(
        await herdManager({
          manager,
          name: 'bench',
          as,
          mcp,
          n,
          mode: 'expiry',
          expire: () => (clock.offset += 3600_000 + 1000),
        }),
      );
      rows.push(await herdManager({ manager, name: 'bench', as, mcp, n, mode: '401', expire: () => {} }));
      rows.push(await herdSdk({ manager, name: 'bench-sdk', as, mcp, fetch: pool.fetch, n }));
    }
    const base = new Map<string, number>();
    for (const row of rows) if (row.n === 1) base.set(row.subject, row.wallMs);
    const herd = rows.map((row) => ({
      ...row,
      wallRatioToN1: row.wallMs / (base.get(row.subject) ?? row.wallMs),
    }));
    if (!args.json) {
      console.log(
        '  subject                        N      refresh req  invalid_grant  failed calls  time vs N=1',
      );
      for (const r of herd) {
        console.log(
          `  ${r.subject.padEnd(30)} ${String(r.n).padStart(5)}  ${String(r.refreshRequests).padStart(11)}  ${String(r.invalidGrant).padStart(13)}  ${String(r.failedCalls).padStart(12)}  ${r.wallRatioToN1.toFixed(1).padStart(10)}x`,
        );
      }
    }
    const result = {
      benchmark: 'mcp-oauth-manager',
      mode: args.quick ? 'quick' : 'full',
      node: process.version,
      date: new Date().toISOString(),
      hotPath,
      herd,
    };
    if (!args.quick)
      await writeFile(
        join(import.meta.dirname, 'results', 'latest.json'),
        `${JSON.stringify(result, null, 2)}\n`,
      );
    if (args.json) console.log(JSON.stringify(result));
    else if (!args.quick) console.log('\nwritten: bench/results/latest.json');
  } finally {
    await manager.close();
    await pool.close();
    await mcp.close();
    await as.close();
    await rm(parent, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
