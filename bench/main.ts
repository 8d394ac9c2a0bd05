/**
 * `npm run bench` (tables) and `npm run bench -- --json` (one JSON object on stdout, nothing else);
 * `--quick` for CI (N <= 100, P <= 4; proves the scenarios still run, never fails on timing).
 * Every scenario runs against the test kit's loopback servers, and each figure stands beside its
 * baseline measured in the same run: ratios and counts first, absolute times second (shared,
 * noisy machines). Progress goes to stderr. A full run writes bench/results/latest.json,
 * bench/results/refresh-requests.svg and the results section of BENCHMARKS.md.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Clock, type CredentialRecord, OAuthManager } from '../src/index.js';
import { fileNameFor } from '../src/store/file-names.js';
import { startAuthorizationServer } from '../test/kit/authorization-server.js';
import { startMcpServer } from '../test/kit/mcp-server.js';
import { scriptedBrowserHook } from '../test/support/browser-hook.js';
import { benchAccountsScale } from './accounts-scale.js';
import { type ChartPanel, refreshRequestsChart } from './chart.js';
import { benchCrossProcess, type CrossProcessRow } from './cross-process.js';
import { type HerdRow, herdManager, herdSdk } from './herd.js';
import { benchHotPath } from './hot-path.js';
import { benchMachineMints, machineMintsTable } from './machine-mints.js';
import { startPlainMcpServer } from './plain-mcp-server.js';
import { pooledFetch } from './pooled-fetch.js';
import {
  benchProxyVsMcpRemote,
  PROXY_BENCH_FULL,
  PROXY_BENCH_QUICK,
  proxyTable,
} from './proxy-vs-mcp-remote.js';
import { benchRedisStore } from './redis-store.js';
import { benchRoundTrip } from './round-trip.js';
import { benchScale } from './scale.js';
import { makeScratchDir } from './scratch.js';
import { benchStoreMigrate } from './store-migrate.js';
import { fmt, renderMarkdown, renderText, type Table } from './table.js';

const { values: args } = parseArgs({
  options: { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false } },
});
const quick = args.quick;
const settings = quick
  ? {
      hotPath: { rounds: 5, iterations: 20_000 },
      roundTrip: { rounds: 2, sequentialPerRound: 30, concurrentPerRound: 100 },
      herdSizes: [1, 10, 100],
      wave401MaxN: 100,
      sdkMaxN: 100,
      processes: [2, 4],
      machineProcesses: 4,
      callsPerProcess: 50,
      scale: { servers: 100, runs: 2, idleMs: 1000, cliRounds: 3 },
      redisStore: { processes: 4, homes: 2 },
      storeMigrate: { records: 1_000 },
      accounts: { accounts: 100, servers: 10, statusCredentials: 1_000, statusBaseline: 100, runs: 3 },
    }
  : {
      hotPath: { rounds: 21, iterations: 100_000 },
      roundTrip: { rounds: 5, sequentialPerRound: 200, concurrentPerRound: 1000 },
      herdSizes: [1, 10, 100, 1000, 10_000],
      // Every call of a 401 wave goes out twice (rejected, then retried): at N = 10000 that alone
      // would be several minutes on two cores, and the expiry herd already covers N = 10000.
      wave401MaxN: 1000,
      sdkMaxN: 10_000,
      processes: [2, 4, 8, 16],
      machineProcesses: 16,
      callsPerProcess: 50,
      scale: { servers: 1000, runs: 5, idleMs: 3000, cliRounds: 11 },
      redisStore: { processes: 16, homes: 4 },
      // Four migrations of every record, each under two locks with an fsync per copy: a rate, stable
      // well before 5000 records, and minutes more at 10000 on two cores.
      storeMigrate: { records: 5_000 },
      accounts: { accounts: 10_000, servers: 10, statusCredentials: 100_000, statusBaseline: 1_000, runs: 3 },
    };
const POOL_CONNECTIONS = 64;
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const out = (text: string) => {
  if (!args.json) process.stdout.write(`${text}\n`);
};
const progress = (text: string) => process.stderr.write(`· ${text}\n`);

// At N = 10000 the SDK's transport adds one abort listener per in-flight request to a single
// AbortSignal, and Node warns once per listener past 1500: count those warnings instead.
let maxListenerWarnings = 0;
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'MaxListenersExceededWarning') maxListenerWarnings++;
  else process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

class OffsetClock implements Clock {
  offset = 0;
  now() {
    return Date.now() + this.offset;
  }
}

/** The peak resident set size of this process while `fn` runs (sampled every 50 ms). */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakRssBytes: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  try {
    const value = await fn();
    return { value, peakRssBytes: Math.max(peak, process.memoryUsage.rss()) };
  } finally {
    clearInterval(timer);
  }
}

/** Seconds spent in each scenario (setup included). */
const sectionSeconds: Record<string, number> = {};
function startSection(name: string): () => void {
  const start = performance.now();
  return () => {
    sectionSeconds[name] = Math.round((performance.now() - start) / 100) / 10;
  };
}

type HerdResultRow = HerdRow & { wallRatioToN1: number; peakRssBytes: number; sdkWarnings?: number };

async function main() {
  const startedAt = performance.now();
  const scratch = await makeScratchDir();
  const as = await startAuthorizationServer();
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  const plain = await startPlainMcpServer();
  const pool = pooledFetch(POOL_CONNECTIONS);
  const clock = new OffsetClock();
  const manager = new OAuthManager({
    home: join(scratch.path, 'home'),
    clock,
    fetch: pool.fetch,
    interactive: 'never',
    openBrowser: scriptedBrowserHook(),
  });
  const machine = {
    platform: `${process.platform} ${process.arch}`,
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    /** 1-minute load average when the run started and ended: other work on the machine skews times. */
    loadAverage: { start: Math.round(os.loadavg()[0]! * 10) / 10, end: 0 },
  };
  const date = new Date().toISOString();
  out(
    `mcp-oauth-manager benchmark (${quick ? 'quick' : 'full'}) · ${date} · node ${process.version} · ${machine.platform}, ${machine.cpus} cores`,
  );
  try {
    const provider = manager.getOrBuildProvider('bench', mcp.url);
    manager.getOrBuildProvider('bench-sdk', mcp.url);
    await manager.login('bench');
    const template = structuredClone((await manager.store.get({ server: 'bench' })) as CredentialRecord);
    // The default store is a SelectedStore (the file store here): the record's path by its name.
    const recordPath = join(scratch.path, 'home', 'credentials', `${fileNameFor({ server: 'bench' })}.json`);

    // 1. hot path -------------------------------------------------------------------------------
    progress('hot path');
    let endSection = startSection('hotPath');
    const hotPath = await benchHotPath(provider, recordPath, settings.hotPath);
    endSection();
    const hotTable: Table = {
      headers: ['operation', 'ns per call', 'fastest round', 'interquartile spread', 'token() / this'],
      rows: [
        ['await provider.token() (fresh token)', hotPath.token, 1],
        ["fs.statSync(record file): the seed's per-call cost", hotPath.statSync, hotPath.tokenVsStatSync],
        ['await fs.promises.stat(record file)', hotPath.statAsync, hotPath.tokenVsStatAsync],
        [
          'await of an async function returning a constant (floor)',
          hotPath.awaitFloor,
          hotPath.token.nsPerOp / hotPath.awaitFloor.nsPerOp,
        ],
      ].map(([label, timing, ratio]) => {
        const t = timing as typeof hotPath.token;
        return [
          label as string,
          fmt.int(t.nsPerOp),
          fmt.int(t.minNsPerOp),
          fmt.pct(t.spread),
          fmt.ratio(ratio as number),
        ];
      }),
    };
    out(
      `\n1. Hot path: median of ${hotPath.rounds} interleaved rounds of ${fmt.int(settings.hotPath.iterations)} calls`,
    );
    out(renderText(hotTable));

    // 4. round trip (before the herd moves the clock) ------------------------------------------------
    progress('round trip: authenticated vs unauthenticated');
    endSection = startSection('roundTrip');
    const roundTrip = await benchRoundTrip({
      manager,
      mcp,
      name: 'bench',
      plain,
      baseFetch: pool.fetch,
      now: clock.now(),
      ...settings.roundTrip,
    });
    endSection();
    const rtRow = (label: string, v: typeof roundTrip.authenticated) => [
      label,
      fmt.int(v.medianUs),
      fmt.int(v.p90Us),
      fmt.int(v.p99Us),
      fmt.int(v.throughputPerSec),
      fmt.ratio(v.medianUs / roundTrip.unauthenticated.medianUs),
    ];
    const roundTripTable: Table = {
      headers: [
        'echo tool call over loopback',
        'median µs',
        'p90 µs',
        'p99 µs',
        'calls/s (64 in flight)',
        'latency vs no auth',
      ],
      rows: [
        rtRow('no auth: plain client, plain server', roundTrip.unauthenticated),
        rtRow('our provider on the client, plain server', roundTrip.clientSideAuth),
        rtRow('authenticated: our provider, bearer-checking server', roundTrip.authenticated),
      ],
    };

    // 2. herd ---------------------------------------------------------------------------------------
    // Moves the manager's clock just past the current token's expiry (tokens live 1 h).
    const expireBench = () => {
      clock.offset += 3600_000 + 1000;
    };
    const herdRows: HerdResultRow[] = [];
    const herdNotes: string[] = [];
    if (settings.wave401MaxN < Math.max(...settings.herdSizes))
      herdNotes.push(
        `The 401 wave is measured up to N = ${fmt.int(settings.wave401MaxN)}: every call of it is sent twice, and the expiry herd already covers the larger N.`,
      );
    if (settings.sdkMaxN < Math.max(...settings.herdSizes))
      herdNotes.push(`The SDK baseline is capped at N = ${fmt.int(settings.sdkMaxN)}.`);
    const base = new Map<string, number>();
    const pushHerd = (row: HerdRow & { sdkWarnings?: number }, peakRssBytes: number) => {
      if (row.n === 1) base.set(row.subject, row.wallMs);
      herdRows.push({
        ...row,
        wallRatioToN1: row.wallMs / (base.get(row.subject) ?? row.wallMs),
        peakRssBytes,
      });
    };
    // Warm-up (not reported): JIT, pooled connections and the servers' first requests, so that
    // N = 1, the base of every ratio, measures the recovery and not a cold start.
    progress('herd: warm-up');
    endSection = startSection('herd');
    await herdManager({ manager, name: 'bench', as, mcp, n: 10, mode: 'expiry', expire: expireBench });
    await herdManager({ manager, name: 'bench', as, mcp, n: 10, mode: '401', expire: () => {} });
    await herdSdk({ manager, name: 'bench-sdk', as, mcp, fetch: pool.fetch, n: 10 });
    for (const n of settings.herdSizes) {
      progress(`herd N=${n}: mcp-oauth-manager after expiry`);
      const expiry = await withPeakRss(() =>
        herdManager({
          manager,
          name: 'bench',
          as,
          mcp,
          n,
          mode: 'expiry',
          expire: expireBench,
        }),
      );
      pushHerd(expiry.value, expiry.peakRssBytes);
      if (n <= settings.wave401MaxN) {
        progress(`herd N=${n}: mcp-oauth-manager 401 wave`);
        const wave = await withPeakRss(() =>
          herdManager({ manager, name: 'bench', as, mcp, n, mode: '401', expire: () => {} }),
        );
        pushHerd(wave.value, wave.peakRssBytes);
      }
      if (n <= settings.sdkMaxN) {
        progress(`herd N=${n}: SDK alone`);
        const sdk = await withPeakRss(() =>
          herdSdk({ manager, name: 'bench-sdk', as, mcp, fetch: pool.fetch, n }),
        );
        pushHerd(sdk.value, sdk.peakRssBytes);
      }
    }
    endSection();
    const herdTable: Table = {
      headers: [
        'subject',
        'N',
        'refresh requests',
        'invalid_grant',
        'failed calls',
        'logins demanded',
        'wall ms',
        'time vs N=1',
        'ms per call',
        'peak RSS',
      ],
      rows: herdRows.map((r) => [
        r.subject,
        fmt.int(r.n),
        fmt.int(r.refreshRequests),
        fmt.int(r.invalidGrant),
        fmt.int(r.failedCalls),
        fmt.int(r.loginsDemanded),
        fmt.ms(r.wallMs),
        fmt.ratio(r.wallRatioToN1),
        (r.wallMs / r.n).toFixed(2),
        fmt.mb(r.peakRssBytes),
      ]),
    };
    out(`\n2. Herd in one process: N concurrent callTool over a ${POOL_CONNECTIONS}-connection pool`);
    out(renderText(herdTable));
    for (const note of herdNotes) out(`  ${note}`);

    // 3. cross-process ------------------------------------------------------------------------------
    const crossProcess: CrossProcessRow[] = [];
    endSection = startSection('crossProcess');
    for (const p of settings.processes) {
      for (const lock of [true, false]) {
        progress(`cross-process P=${p}: ${lock ? 'with the lock' : "seed's design (no lock)"}`);
        crossProcess.push(
          await benchCrossProcess({
            as,
            mcp,
            parentDir: scratch.path,
            processes: p,
            callsPerProcess: settings.callsPerProcess,
            lock,
          }),
        );
      }
    }
    endSection();
    const crossTable: Table = {
      headers: [
        'subject',
        'P',
        'refresh requests',
        'invalid_grant',
        'failed calls',
        'record after',
        'next expiry: refresh requests',
        'invalid_grant',
        'failed calls',
        'record after',
      ],
      leftColumns: [0, 5, 9],
      rows: crossProcess.map((r) => [
        r.subject,
        fmt.int(r.processes),
        fmt.int(r.refreshRequests),
        fmt.int(r.invalidGrant),
        `${fmt.int(r.failedCalls)} / ${fmt.int(r.processes * r.callsPerProcess)}`,
        r.recordState,
        fmt.int(r.nextExpiry.refreshRequests),
        fmt.int(r.nextExpiry.invalidGrant),
        `${fmt.int(r.nextExpiry.failedCalls)} / ${fmt.int(r.processes * r.callsPerProcess)}`,
        r.nextExpiry.recordState,
      ]),
    };
    out(
      `\n3. Cross-process: P processes x ${settings.callsPerProcess} calls after expiry, one home folder, rotating refresh tokens with reuse detection`,
    );
    out(renderText(crossTable));

    // Redis store: P processes over H homes on one Redis (bench/redis-store.ts) -------------------
    endSection = startSection('redisStore');
    const redisStore = await benchRedisStore({
      as,
      mcp,
      parentDir: scratch.path,
      ...settings.redisStore,
      callsPerProcess: settings.callsPerProcess,
      fileProvider: provider,
      hotPath: settings.hotPath,
      crossProcess,
      progress,
    });
    endSection();
    out(
      `\nRedis store: P processes over H homes (machines) x ${settings.callsPerProcess} calls after expiry, one Redis`,
    );
    out(renderText(redisStore.table));
    for (const note of redisStore.notes) out(`  ${note}`);

    out('\n4. Tool call round trip: authenticated vs unauthenticated (same SDK client and server code)');
    out(renderText(roundTripTable));

    // store migrate (records per second; bench/store-migrate.ts) -----------------------------------
    endSection = startSection('storeMigrate');
    const storeMigrate = await benchStoreMigrate({
      parentDir: scratch.path,
      template,
      progress,
      ...settings.storeMigrate,
    });
    endSection();
    out('\nStore migration: records per second of `mcp-oauth store migrate`');
    out(renderText(storeMigrate.table));
    for (const note of storeMigrate.notes) out(`  ${note}`);

    // accounts at scale (bench/accounts-scale.ts) ----------------------------------------------------
    endSection = startSection('accounts');
    const accounts = await benchAccountsScale({
      parentDir: scratch.path,
      template,
      progress,
      ...settings.accounts,
    });
    endSection();
    out('\nAccounts: idle credentials (accounts x servers) in one manager, and status over them');
    out(
      renderText({
        headers: ['measure', 'value'],
        rows: [
          [
            `heap per idle credential, ${fmt.int(accounts.credentials)} in one manager (${fmt.int(accounts.accounts)} accounts x ${accounts.servers} servers)`,
            fmt.kb(accounts.bytesPerIdleCredential),
          ],
          [
            `status --all-accounts, ${fmt.int(accounts.status.credentials)} vs ${fmt.int(accounts.status.baseline)} credentials (linear: ${fmt.int(accounts.status.credentials / accounts.status.baseline)}x)`,
            `${accounts.status.ratio.toFixed(1)}x (${fmt.ms(accounts.status.ms)} ms vs ${fmt.ms(accounts.status.baselineMs)} ms)`,
          ],
        ],
      }),
    );

    // 5. scale --------------------------------------------------------------------------------------
    progress(`scale: ${settings.scale.servers} configured servers`);
    endSection = startSection('scale');
    const scale = await benchScale({ parentDir: scratch.path, template, progress, ...settings.scale });
    endSection();
    const n = fmt.int(scale.servers);
    const scaleTable: Table = {
      headers: ['measure', 'value'],
      leftColumns: [0],
      rows: [
        [
          `mcp-oauth status --json, ${n} servers (median of ${scale.runs}, the bundle of npm run build)`,
          `${fmt.ms(scale.status.wallMs)} ms`,
        ],
        [
          'the same command, empty home (process start and module loading)',
          `${fmt.ms(scale.statusEmpty.wallMs)} ms`,
        ],
        ['cost of one more server in status', `${scale.statusMsPerServer.toFixed(2)} ms`],
        [
          `peak RSS of status, ${n} servers / empty home (${scale.rssProbe})`,
          `${(scale.status.maxRssKb / 1024).toFixed(0)} MB / ${(scale.statusEmpty.maxRssKb / 1024).toFixed(0)} MB`,
        ],
        [
          `servers listed by status (states)`,
          `${scale.status.servers} (${Object.entries(scale.status.states)
            .map(([s, c]) => `${c} ${s}`)
            .join(', ')})`,
        ],
        [
          `manager start-up: construct + ${n} x getOrBuildProvider + first token() each`,
          `${fmt.ms(scale.startup.startupMs)} ms (providers ${fmt.ms(scale.startup.providersMs)} ms, first tokens ${fmt.ms(scale.startup.firstTokenMs)} ms)`,
        ],
        ['heap per idle server (heap delta after GC / servers)', fmt.kb(scale.startup.bytesPerIdleServer)],
        [`token() with ${n} servers loaded`, `${fmt.int(scale.startup.hotTokenNs)} ns`],
        [
          `CPU of the idle manager watching ${n} records (${(scale.startup.idleMs / 1000).toFixed(0)} s)`,
          `${scale.startup.idleCpuPercent.toFixed(1)}% of one core`,
        ],
        [`setup: addServers of ${n} servers (one write of config.yaml)`, `${fmt.ms(scale.addServersMs)} ms`],
        [`setup: FileCredentialStore.put x ${n}`, `${fmt.ms(scale.putTotalMs)} ms`],
      ],
    };
    out(`\n5. Scale: ${n} configured servers with credentials`);
    out(renderText(scaleTable));

    // 6. CLI start-up -------------------------------------------------------------------------------
    const cli = scale.cliStartup;
    const cliTable: Table = {
      headers: ['mcp-oauth', 'median', 'x node -e 0', 'goal', ''],
      leftColumns: [0, 4],
      rows: cli.cases.map((c) => [
        c.label,
        `${fmt.ms(c.wallMs)} ms`,
        fmt.ratio(c.ratio),
        `<= ${c.goalRatio}x`,
        c.withinGoal ? 'met' : 'missed',
      ]),
    };
    out(
      `\n6. CLI start-up: spawn to exit, median of ${cli.rounds} rounds, as a ratio to node -e 0 in the same round (node -e 0: ${fmt.ms(cli.nodeBaselineMs)} ms)`,
    );
    out(renderText(cliTable));

    // 7. stdio proxy vs mcp-remote --------------------------------------------------------------
    endSection = startSection('proxyVsMcpRemote');
    const proxyBench = await benchProxyVsMcpRemote(quick ? PROXY_BENCH_QUICK : PROXY_BENCH_FULL, progress);
    endSection();
    const proxyBenchTable = proxyTable(proxyBench);
    out(`\n7. ${proxyBenchTable.title}`);
    out(renderText(proxyBenchTable.table));
    // 8. machine mints ------------------------------------------------------------------------------
    progress(`machine mints: P=${settings.machineProcesses} client-credentials processes`);
    endSection = startSection('machineMints');
    const machineMints = await benchMachineMints({
      processes: settings.machineProcesses,
      callsPerProcess: 5,
      parentDir: scratch.path,
    });
    endSection();
    out(
      `\n8. Machine identities: mints per expiry of a client-credentials server, P = ${settings.machineProcesses}`,
    );
    out(renderText(machineMintsTable(machineMints)));

    // headline ------------------------------------------------------------------------------------
    const biggest = Math.max(...settings.herdSizes);
    const oursBig = herdRows.find((r) => r.subject === 'mcp-oauth-manager (expiry)' && r.n === biggest);
    const sdkN = Math.max(...herdRows.filter((r) => r.subject === 'SDK alone (401 wave)').map((r) => r.n));
    const sdkBig = herdRows.find((r) => r.subject === 'SDK alone (401 wave)' && r.n === sdkN);
    const maxP = Math.max(...settings.processes);
    const lockBig = crossProcess.find(
      (r) => r.processes === maxP && r.subject === 'mcp-oauth-manager (cross-process lock)',
    );
    const seedBig = crossProcess.find(
      (r) => r.processes === maxP && r.subject === 'seed design (no cross-process lock)',
    );
    const headline = {
      tokenVsStatSync: hotPath.tokenVsStatSync,
      tokenVsStatAsync: hotPath.tokenVsStatAsync,
      herd: {
        n: biggest,
        ours: oursBig && pick(oursBig),
        sdkN,
        sdk: sdkBig && pick(sdkBig),
      },
      crossProcess: { p: maxP, ours: lockBig && pickXp(lockBig), seed: seedBig && pickXp(seedBig) },
      roundTripLatencyRatio: roundTrip.latencyRatio,
      status: { servers: scale.servers, wallMs: scale.status.wallMs, maxRssKb: scale.status.maxRssKb },
      cliStartup: Object.fromEntries(scale.cliStartup.cases.map((c) => [c.label, c.ratio])),
    };
    const headlineLines = [
      `token(): ${fmt.int(hotPath.token.nsPerOp)} ns, ${fmt.ratio(1 / hotPath.tokenVsStatSync)} cheaper than the seed's statSync per call`,
      oursBig && sdkBig
        ? `N = ${fmt.int(biggest)} concurrent calls after expiry: ${oursBig.refreshRequests} refresh request, ${oursBig.failedCalls} failed calls; the SDK alone at N = ${fmt.int(sdkN)}: ${fmt.int(sdkBig.refreshRequests)} refresh requests, ${fmt.int(sdkBig.failedCalls)} failed calls`
        : undefined,
      lockBig && seedBig
        ? `P = ${maxP} processes: ${lockBig.refreshRequests} refresh request, ${lockBig.invalidGrant} invalid_grant; the seed's design: ${seedBig.refreshRequests} refresh requests, ${seedBig.invalidGrant} invalid_grant, and at the next expiry ${fmt.int(seedBig.nextExpiry.failedCalls)} of ${fmt.int(maxP * settings.callsPerProcess)} calls failed (record ${seedBig.nextExpiry.recordState})`
        : undefined,
      `authenticated round trip: ${fmt.ratio(roundTrip.latencyRatio)} the unauthenticated one (client side alone: ${fmt.ratio(roundTrip.clientSideLatencyRatio)})`,
      `mcp-oauth status --json with ${n} servers: ${fmt.ms(scale.status.wallMs)} ms, ${(scale.status.maxRssKb / 1024).toFixed(0)} MB peak RSS`,
      `mcp-oauth start-up in multiples of node -e 0: ${scale.cliStartup.cases.map((c) => `${c.label} ${fmt.ratio(c.ratio)}`).join(', ')}`,
    ].filter((line): line is string => line !== undefined);
    out('\nHeadline');
    for (const line of headlineLines) out(`  ${line}`);

    const wallSeconds = (performance.now() - startedAt) / 1000;
    machine.loadAverage.end = Math.round(os.loadavg()[0]! * 10) / 10;
    const result = {
      benchmark: 'mcp-oauth-manager',
      mode: quick ? 'quick' : 'full',
      date,
      node: process.version,
      machine,
      wallSeconds,
      sectionSeconds,
      settings: { ...settings, poolConnections: POOL_CONNECTIONS },
      headline,
      hotPath,
      herd: herdRows,
      herdNotes,
      maxListenerWarnings,
      crossProcess,
      roundTrip,
      scale,
      proxyVsMcpRemote: proxyBench,
      machineMints,
      redisStore: { rows: redisStore.rows, hotPath: redisStore.hotPath },
      storeMigrate: storeMigrate.rows,
      accounts,
    };
    if (!quick) {
      const resultsDir = join(repoRoot, 'bench', 'results');
      await mkdir(resultsDir, { recursive: true });
      await writeFile(join(resultsDir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
      await writeFile(
        join(resultsDir, 'refresh-requests.svg'),
        chart(herdRows, crossProcess, settings.callsPerProcess, date),
      );
      const markdown = [
        `Run of ${date.slice(0, 10)} · \`npm run bench\` (full mode, ${wallSeconds.toFixed(0)} s) · node ${process.version} · ${machine.platform}, ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGb} GB · 1-minute load average ${machine.loadAverage.start} at the start, ${machine.loadAverage.end} at the end`,
        '',
        '![refresh requests against concurrency](bench/results/refresh-requests.svg)',
        '',
        '**Headline**',
        '',
        ...headlineLines.map((line) => `- ${line}`),
        '',
        `**1. Hot path**: median of ${hotPath.rounds} interleaved rounds of ${fmt.int(settings.hotPath.iterations)} calls`,
        '',
        renderMarkdown(hotTable),
        '',
        `**2. Herd in one process**: N concurrent \`callTool\` over a ${POOL_CONNECTIONS}-connection pool`,
        '',
        renderMarkdown(herdTable),
        '',
        ...herdNotes.map((note) => `${note}`),
        ...(herdNotes.length ? [''] : []),
        `**3. Cross-process**: P processes × ${settings.callsPerProcess} calls after expiry, one home folder, rotating refresh tokens with reuse detection`,
        '',
        renderMarkdown(crossTable),
        '',
        '**4. Tool call round trip** over loopback, authenticated vs unauthenticated',
        '',
        renderMarkdown(roundTripTable),
        '',
        `**5. Scale**: ${n} configured servers with credentials`,
        '',
        renderMarkdown(scaleTable),
        '',
        `**6. CLI start-up**: spawn to exit, median of ${cli.rounds} rounds, as a ratio to \`node -e 0\` in the same round (node -e 0: ${fmt.ms(cli.nodeBaselineMs)} ms)`,
        '',
        renderMarkdown(cliTable),
        '',
        `**7. ${proxyBenchTable.title}**`,
        '',
        renderMarkdown(proxyBenchTable.table),
        '',
        `**8. Machine identities**: mints per expiry of a client-credentials server, P = ${settings.machineProcesses}`,
        '',
        renderMarkdown(machineMintsTable(machineMints)),
        '',
        `**Redis store**: P processes over H homes (machines) × ${settings.callsPerProcess} calls after expiry, one Redis, beside the file store and the seed's design at the same P`,
        '',
        renderMarkdown(redisStore.table),
        '',
        ...redisStore.notes,
        '',
        '**Store migration**: records per second of `mcp-oauth store migrate`',
        '',
        renderMarkdown(storeMigrate.table),
      ].join('\n');
      const updated = await updateBenchmarksMd(markdown);
      out(
        `\nwritten: bench/results/latest.json, bench/results/refresh-requests.svg${updated ? ', BENCHMARKS.md (results section)' : ''}`,
      );
    }
    out(
      `\ntotal wall time ${wallSeconds.toFixed(0)} s (${Object.entries(sectionSeconds)
        .map(([name, seconds]) => `${name} ${seconds} s`)
        .join(', ')}); load average ${machine.loadAverage.start} -> ${machine.loadAverage.end}`,
    );
    if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await manager.close();
    await pool.close();
    await plain.close();
    await mcp.close();
    await as.close();
    await scratch.remove();
  }
}

function pick(row: HerdRow) {
  return {
    refreshRequests: row.refreshRequests,
    invalidGrant: row.invalidGrant,
    failedCalls: row.failedCalls,
  };
}

function pickXp(row: CrossProcessRow) {
  return {
    refreshRequests: row.refreshRequests,
    invalidGrant: row.invalidGrant,
    failedCalls: row.failedCalls,
    nextExpiryFailedCalls: row.nextExpiry.failedCalls,
    nextExpiryRecordState: row.nextExpiry.recordState,
  };
}

function chart(herd: HerdResultRow[], crossProcess: CrossProcessRow[], calls: number, date: string): string {
  const herdSeries = (subject: HerdRow['subject']) =>
    herd.filter((r) => r.subject === subject).map((r) => ({ x: r.n, y: r.refreshRequests }));
  const xpSeries = (seed: boolean) =>
    crossProcess
      .filter((r) => r.subject.startsWith('seed') === seed)
      .map((r) => ({ x: r.processes, y: r.refreshRequests }));
  const panels: ChartPanel[] = [
    {
      title: 'One process: N concurrent tool calls after expiry',
      xLabel: 'N concurrent calls (log scale)',
      xTicks: [...new Set(herd.map((r) => r.n))],
      series: [
        {
          label: 'SDK alone (in-memory OAuthClientProvider)',
          color: '#cf222e',
          points: herdSeries('SDK alone (401 wave)'),
        },
        {
          label: 'mcp-oauth-manager, expiry',
          color: '#1a7f37',
          points: herdSeries('mcp-oauth-manager (expiry)'),
        },
        {
          label: 'mcp-oauth-manager, 401 wave (drawn dashed on top)',
          color: '#0969da',
          dash: '6 4',
          points: herdSeries('mcp-oauth-manager (401 wave)'),
        },
      ],
    },
    {
      title: `P processes × ${calls} calls after expiry`,
      xLabel: 'P processes sharing one home (log scale)',
      xTicks: [...new Set(crossProcess.map((r) => r.processes))],
      series: [
        { label: "seed's design (no cross-process lock)", color: '#bc4c00', points: xpSeries(true) },
        { label: 'mcp-oauth-manager (cross-process lock)', color: '#1a7f37', points: xpSeries(false) },
      ],
    },
  ];
  return refreshRequestsChart(
    'Refresh requests at the authorization server after one expiry',
    `npm run bench (full), ${date.slice(0, 10)}, node ${process.version}, ${os.availableParallelism()} cores; fewer is better, 1 is the goal`,
    panels,
  );
}

const RESULTS_START = '<!-- bench:results:start -->';
const RESULTS_END = '<!-- bench:results:end -->';

/** Replaces the generated section of BENCHMARKS.md (between the markers), if the file has them. */
async function updateBenchmarksMd(markdown: string): Promise<boolean> {
  const file = join(repoRoot, 'BENCHMARKS.md');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return false;
  }
  const start = text.indexOf(RESULTS_START);
  const end = text.indexOf(RESULTS_END);
  if (start < 0 || end < start) return false;
  await writeFile(file, `${text.slice(0, start + RESULTS_START.length)}\n${markdown}\n${text.slice(end)}`);
  return true;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
