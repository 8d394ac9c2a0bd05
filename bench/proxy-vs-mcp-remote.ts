/**
 * `mcp-oauth proxy` beside `mcp-remote` (npm, pinned in package.json) as stdio hosts run them: P
 * instances of each started at once by P hosts (the MCP SDK's StdioClientTransport) against the
 * same kind of kit servers (rotating refresh tokens with reuse detection), each subject with its
 * own authorization server, MCP server and state folder. Counted: browser launches (a counting
 * BROWSER script: mcp-remote reaches it through the `open` package's xdg-open, which honours
 * BROWSER), authorization code grants; then, once the access token has really expired (the
 * authorization server issues short-lived tokens: no clock can be injected into mcp-remote),
 * N calls spread over the P hosts: refresh requests, invalid_grant, failed calls, new browser
 * launches. Then the per-call latency of sequential calls through one instance, as a ratio to a
 * direct `connect()` (in a child process, like the proxies), in interleaved rounds.
 *
 * Run alone: `npx tsx bench/proxy-vs-mcp-remote.ts [--quick]`.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { build } from 'esbuild';
import { cliBuildOptions } from '../scripts/build-cli.js';
import { addServers } from '../src/config/config-file.js';
import { connect, OAuthManager } from '../src/index.js';
import { startAuthorizationServer, type TestAuthorizationServer } from '../test/kit/authorization-server.js';
import { startMcpServer, type TestMcpServer } from '../test/kit/mcp-server.js';
import { bundleScriptedBrowser } from '../test/support/scripted-browser-bundle.js';
import { makeScratchDir } from './scratch.js';
import { fmt, type Table } from './table.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface ProxyBenchSettings {
  /** Instances of each started at once (and hosts). */
  instances: number;
  /** Calls spread over the instances after expiry. */
  callsAfterExpiry: number;
  /** The first access token's lifetime, in seconds (real expiry). */
  tokenTtlSeconds: number;
  /** Latency: interleaved rounds of sequential calls per subject. */
  latencyRounds: number;
  callsPerRound: number;
}

export const PROXY_BENCH_QUICK: ProxyBenchSettings = {
  instances: 3,
  callsAfterExpiry: 30,
  tokenTtlSeconds: 6,
  latencyRounds: 3,
  callsPerRound: 20,
};
export const PROXY_BENCH_FULL: ProxyBenchSettings = {
  instances: 5,
  callsAfterExpiry: 200,
  tokenTtlSeconds: 8,
  latencyRounds: 7,
  callsPerRound: 100,
};

export interface ProxySubjectRow {
  subject: 'mcp-oauth proxy' | 'mcp-remote';
  instances: number;
  /** All hosts connected and listed tools after the first login. */
  hostsConnected: number;
  browserOpens: number;
  authorizationGrants: number;
  afterExpiry: {
    calls: number;
    refreshRequests: number;
    invalidGrant: number;
    failedCalls: number;
    browserOpens: number;
    authorizationGrants: number;
  };
  /** Median per-call latency through the proxy, in ms, and as a ratio to a direct connect(). */
  callMs: number;
  latencyRatio: number;
  failureSample?: string;
}

export interface ProxyBenchResult {
  settings: ProxyBenchSettings;
  directCallMs: number;
  rows: ProxySubjectRow[];
  /** Goal: the proxy's latency ratio under 1.10. */
  goalRatio: number;
}

interface Host {
  client: Client;
  close(): Promise<void>;
}

/** Runs both subjects; `progress` gets a line per phase. */
export async function benchProxyVsMcpRemote(
  settings: ProxyBenchSettings,
  progress: (text: string) => void = () => {},
): Promise<ProxyBenchResult> {
  const scratch = await makeScratchDir();
  const bundles = join(repoRoot, 'node_modules/.cache/mcp-oauth-bench-proxy', String(process.pid));
  const cleanups: Array<() => Promise<unknown>> = [
    () => scratch.remove(),
    () => rm(bundles, { recursive: true, force: true }),
  ];
  try {
    progress('proxy vs mcp-remote: bundling the CLI and the scripted browser');
    const cli = await bundleCli(bundles);
    const browserScript = await bundleScriptedBrowser(join(bundles, 'browser'));
    const mcpRemote = createRequire(import.meta.url).resolve('mcp-remote/dist/proxy.js');

    const subjects = [
      {
        subject: 'mcp-oauth proxy' as const,
        command: (dir: string, url: string) => ({
          args: [cli, '--home', join(dir, 'home'), 'proxy', url],
          env: {},
        }),
      },
      {
        subject: 'mcp-remote' as const,
        command: (dir: string, url: string) => ({
          args: [mcpRemote, url, '--allow-http'],
          env: { MCP_REMOTE_CONFIG_DIR: join(dir, 'mcp-auth') },
        }),
      },
    ];
    const rows: ProxySubjectRow[] = [];
    const latency: Record<string, { hosts: Host[] }> = {};
    let direct: Awaited<ReturnType<typeof directClient>> | undefined;
    for (const { subject, command } of subjects) {
      const dir = join(scratch.path, subject.replace(/\W+/g, '-'));
      await mkdir(join(dir, 'home'), { recursive: true, mode: 0o700 });
      const as = await startAuthorizationServer({ accessTokenTtlSeconds: settings.tokenTtlSeconds });
      const mcp = await startMcpServer({ authorizationServer: as.issuer });
      cleanups.push(
        () => mcp.close(),
        () => as.close(),
      );
      const browser = await countingBrowser(dir, browserScript);
      const { args, env } = command(dir, mcp.url);

      progress(`${subject}: ${settings.instances} instances started at once, no credential`);
      const started = await Promise.allSettled(
        Array.from({ length: settings.instances }, () =>
          startHost(args, { ...env, BROWSER: browser.command }),
        ),
      );
      const hosts = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      cleanups.push(() => Promise.all(hosts.map((h) => h.close().catch(() => {}))));
      const listed = await Promise.allSettled(hosts.map((h) => h.client.listTools()));
      const connected = listed.filter((l) => l.status === 'fulfilled').length;
      const firstLogin = { browserOpens: await browser.launches(), grants: as.stats.authorizationCodeGrants };

      progress(`${subject}: waiting for the access token to expire`);
      await waitForExpiry(as, settings.tokenTtlSeconds);
      // The refreshed tokens live an hour: the calls after expiry meet exactly one expiry.
      as.setAccessTokenTtl(3600);
      as.resetStats();
      const opensBefore = await browser.launches();
      progress(`${subject}: ${settings.callsAfterExpiry} calls over ${hosts.length} instances after expiry`);
      const calls = await spreadCalls(hosts, settings.callsAfterExpiry);
      const afterExpiry = {
        calls: settings.callsAfterExpiry,
        refreshRequests: as.stats.refreshRequests,
        invalidGrant: as.stats.invalidGrant,
        failedCalls:
          calls.failed +
          (settings.instances - hosts.length) * Math.ceil(settings.callsAfterExpiry / settings.instances),
        browserOpens: (await browser.launches()) - opensBefore,
        authorizationGrants: as.stats.authorizationCodeGrants,
      };
      rows.push({
        subject,
        instances: settings.instances,
        hostsConnected: connected,
        browserOpens: firstLogin.browserOpens,
        authorizationGrants: firstLogin.grants,
        afterExpiry,
        callMs: 0,
        latencyRatio: 0,
        ...(calls.sample ? { failureSample: calls.sample } : {}),
      });
      latency[subject] = { hosts };
      if (subject === 'mcp-oauth proxy') direct = await directClient(join(dir, 'home'), mcp);
    }

    progress('proxy vs mcp-remote: per-call latency, interleaved rounds');
    const samples: Record<string, number[]> = { direct: [] };
    for (const row of rows) samples[row.subject] = [];
    for (let round = 0; round < settings.latencyRounds; round++) {
      samples.direct!.push(await direct!.perCallMs(settings.callsPerRound));
      for (const row of rows) {
        const host = latency[row.subject]!.hosts.find(() => true);
        if (!host) continue;
        samples[row.subject]!.push(
          await perCallMs(
            () => host.client.callTool({ name: 'echo', arguments: { text: 'x' } }),
            settings.callsPerRound,
          ),
        );
      }
    }
    await direct?.close();
    const directCallMs = median(samples.direct!);
    for (const row of rows) {
      const perRound = samples[row.subject]!;
      row.callMs = perRound.length ? median(perRound) : Number.NaN;
      // The ratio of medians of per-round ratios: each round's direct calls ran beside its own.
      row.latencyRatio = perRound.length
        ? median(perRound.map((ms, i) => ms / samples.direct![i]!))
        : Number.NaN;
    }
    return { settings, directCallMs, rows, goalRatio: 1.1 };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}

/** The section's title and its table (one row per subject). */
export function proxyTable(result: ProxyBenchResult): { title: string; table: Table } {
  const s = result.settings;
  return {
    title: `stdio proxy vs mcp-remote 0.15.1: ${s.instances} instances started at once with no credential, then ${s.callsAfterExpiry} calls over them after real expiry (${s.tokenTtlSeconds} s tokens, rotating refresh tokens); per-call latency of sequential calls as a ratio to a direct connect() (${fmt.ms(result.directCallMs)} ms), median of ${s.latencyRounds} interleaved rounds`,
    table: {
      headers: [
        'subject',
        'hosts up',
        'browser opens',
        'grants',
        'refresh requests',
        'invalid_grant',
        'failed calls',
        'new browser opens',
        'per call',
        'x direct',
        `goal <= ${result.goalRatio}x`,
      ],
      leftColumns: [0, 10],
      rows: result.rows.map((r) => [
        r.subject,
        `${r.hostsConnected}/${r.instances}`,
        String(r.browserOpens),
        String(r.authorizationGrants),
        String(r.afterExpiry.refreshRequests),
        String(r.afterExpiry.invalidGrant),
        `${r.afterExpiry.failedCalls}/${r.afterExpiry.calls}`,
        String(r.afterExpiry.browserOpens),
        `${fmt.ms(r.callMs)} ms`,
        fmt.ratio(r.latencyRatio),
        r.subject === 'mcp-oauth proxy' ? (r.latencyRatio <= result.goalRatio ? 'met' : 'missed') : '',
      ]),
    },
  };
}

async function startHost(args: string[], env: Record<string, string>): Promise<Host> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] =>
        e[1] !== undefined &&
        !e[0].startsWith('npm_') &&
        !['DISPLAY', 'WAYLAND_DISPLAY', 'MCP_OAUTH_HOME'].includes(e[0]),
    ),
  );
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: { ...base, ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench-host', version: '1.0.0' });
  await client.connect(transport);
  return { client, close: () => client.close() };
}

async function spreadCalls(hosts: Host[], calls: number): Promise<{ failed: number; sample?: string }> {
  if (hosts.length === 0) return { failed: calls };
  const results = await Promise.allSettled(
    Array.from({ length: calls }, (_, i) =>
      hosts[i % hosts.length]!.client.callTool({ name: 'echo', arguments: { text: String(i) } }),
    ),
  );
  const failures = results.flatMap((r) =>
    r.status === 'rejected'
      ? [String((r.reason as Error)?.message ?? r.reason)]
      : (r.value as { isError?: boolean }).isError
        ? [JSON.stringify(r.value).slice(0, 200)]
        : [],
  );
  return { failed: failures.length, ...(failures[0] ? { sample: failures[0].slice(0, 200) } : {}) };
}

/** Waits until the access token issued at the first login has expired (plus a second). */
async function waitForExpiry(as: TestAuthorizationServer, ttlSeconds: number): Promise<void> {
  void as;
  await new Promise((r) => setTimeout(r, (ttlSeconds + 1) * 1000));
}

/**
 * The baseline: a direct connect() on the proxy's home (same credential, same server), in a child
 * process of its own like the proxies' clients, so the server's event loop (in this process) is
 * not also paying for the client's work. The child runs N sequential calls on each line "N" of
 * its stdin and answers with the mean milliseconds per call.
 */
async function directClient(home: string, mcp: TestMcpServer) {
  const { loadConfig } = await import('../src/config/config-file.js');
  const config = await loadConfig(home);
  let name = [...config.servers.values()].find((s) => s.url === mcp.url)?.name;
  if (!name) {
    name = 'direct';
    await addServers(home, [{ name, url: mcp.url }]);
  }
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), DIRECT_CHILD, home, name],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  const ready = await next();
  if (ready !== 'ready') throw new Error(`direct connect() child: ${ready}`);
  return {
    perCallMs: async (count: number) => {
      child.stdin!.write(`${count}\n`);
      return Number(await next());
    },
    close: async () => {
      child.stdin!.end();
      await new Promise((r) => child.once('exit', r));
    },
  };
}

const DIRECT_CHILD = '--direct-child';

/** The child side of directClient. */
async function runDirectChild(home: string, name: string): Promise<void> {
  const manager = new OAuthManager({ home, interactive: 'never' });
  // The hosts' SDK clients speak the 2025 `initialize` era; so does the baseline.
  const client = await connect(name, { manager, clientOptions: { versionNegotiation: { mode: 'legacy' } } });
  const call = () => client.callTool({ name: 'echo', arguments: { text: 'x' } });
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    process.stdout.write(`${await perCallMs(call, Number(line))}\n`);
  }
  await client.close();
  await manager.close();
}

async function perCallMs(call: () => Promise<unknown>, count: number): Promise<number> {
  await call(); // warm
  const start = performance.now();
  for (let i = 0; i < count; i++) await call();
  return (performance.now() - start) / count;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function bundleCli(dir: string): Promise<string> {
  const outdir = join(dir, 'cli');
  await build(cliBuildOptions(outdir));
  return join(outdir, 'main.js');
}

/** A BROWSER command (no spaces in its words) that counts its launches, then runs the scripted browser. */
async function countingBrowser(dir: string, browserScript: string) {
  const countFile = join(dir, 'browser-launches');
  const script = join(dir, 'browser.sh');
  await writeFile(countFile, '');
  await writeFile(
    script,
    `#!/bin/sh\necho launched >> '${countFile}'\nexec '${process.execPath}' '${browserScript}' "$@"\n`,
    {
      mode: 0o700,
    },
  );
  return {
    command: `/bin/sh ${script}`,
    launches: async () => (await readFile(countFile, 'utf8')).split('\n').filter(Boolean).length,
  };
}

if (process.argv[2] === DIRECT_CHILD) {
  await runDirectChild(process.argv[3]!, process.argv[4]!);
  process.exit(0);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  const result = await benchProxyVsMcpRemote(quick ? PROXY_BENCH_QUICK : PROXY_BENCH_FULL, (t) =>
    process.stderr.write(`· ${t}\n`),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}
