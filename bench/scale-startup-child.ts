/**
 * Run by bench/scale.ts in its own process (`--expose-gc`), so that the heap it measures holds
 * nothing but the manager: start-up time of a manager with every configured server (construct,
 * getOrBuildProvider for each, the first token() of each: one record read per server), the heap
 * each idle server costs, the hot token() afterwards, and the CPU the idle manager burns.
 *
 * env: BENCH_HOME, BENCH_IDLE_MS. Sends one `{ type: 'result', ... }` message over IPC.
 */
import { loadConfig } from '../src/config/index.js';
import { OAuthManager } from '../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const home = process.env.BENCH_HOME!;
const idleMs = Number(process.env.BENCH_IDLE_MS ?? 2000);

let start = performance.now();
const config = await loadConfig(home);
const configLoadMs = performance.now() - start;
const servers = [...config.servers.values()];

const heapBefore = settledHeap();
const rssBefore = process.memoryUsage().rss;
start = performance.now();
const manager = new OAuthManager({ home, interactive: 'never' });
const providers = servers.map((s) => manager.getOrBuildProvider(s.name, s.url, s.oauth));
const providersMs = performance.now() - start;
const tokens = await Promise.all(providers.map((p) => p.token()));
const startupMs = performance.now() - start;
const firstTokenMs = startupMs - providersMs;
if (tokens.some((t) => typeof t !== 'string' || t.length === 0)) throw new Error('a token() came back empty');

const heapAfter = settledHeap();
const rssAfter = process.memoryUsage().rss;

// The hot path with every server loaded: one token() per server, pass after pass (a warm-up
// pass first, then at least 200000 calls in all, so that the JIT has settled).
for (const p of providers) await p.token();
const passes = Math.max(1, Math.ceil(200_000 / providers.length));
const hotStart = process.hrtime.bigint();
for (let pass = 0; pass < passes; pass++) for (const p of providers) await p.token();
const hotTokenNs = Number(process.hrtime.bigint() - hotStart) / (passes * providers.length);

// Idle: the watcher (fs.watch on the credentials folder plus its fingerprint poll) is all that runs.
const cpuBefore = process.cpuUsage();
await new Promise((r) => setTimeout(r, idleMs));
const cpu = process.cpuUsage(cpuBefore);
const idleCpuPercent = ((cpu.user + cpu.system) / 1000 / idleMs) * 100;

await manager.close();
process.send!({
  type: 'result',
  servers: servers.length,
  configLoadMs,
  providersMs,
  firstTokenMs,
  startupMs,
  heapDeltaBytes: heapAfter - heapBefore,
  bytesPerIdleServer: (heapAfter - heapBefore) / servers.length,
  rssDeltaBytes: rssAfter - rssBefore,
  hotTokenNs,
  idleMs,
  idleCpuPercent,
});
process.disconnect?.();
