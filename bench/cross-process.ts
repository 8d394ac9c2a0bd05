import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OAuthManager } from '../src/index.js';
import { fileNameFor } from '../src/store/file-names.js';
import type { TestAuthorizationServer } from '../test/kit/authorization-server.js';
import type { TestMcpServer } from '../test/kit/mcp-server.js';
import { scriptedBrowserHook } from '../test/support/browser-hook.js';
import { type Child, startChild } from '../test/support/children.js';

export type CrossProcessSubject =
  | 'mcp-oauth-manager (cross-process lock)'
  | 'seed design (no cross-process lock)';

export interface RoundOutcome {
  refreshRequests: number;
  invalidGrant: number;
  failedCalls: number;
  /** Processes that saw at least one failed call. */
  processesWithFailures: number;
  /** The record's state when the round ended. */
  recordState: string;
}

export interface CrossProcessRow extends RoundOutcome {
  subject: CrossProcessSubject;
  processes: number;
  callsPerProcess: number;
  /** Refresh tokens presented more than once (each replay is what reuse detection punishes). */
  replayedRefreshTokens: number;
  wallMs: number;
  /** The following expiry, same processes: what a revoked grant costs one hour later. */
  nextExpiry: RoundOutcome;
  errors: string[];
}

interface Done {
  ok: number;
  failed: number;
  errors: string[];
}

/** Sets every child's clock, waits until all have it (the barrier), then starts all calls at once. */
async function round(kids: Child[], now: number, calls: number): Promise<Done[]> {
  await Promise.all(kids.map((c) => c.request({ type: 'clock', now }, 'clock-set')));
  const done = kids.map((c) => c.next<Done>('done'));
  for (const c of kids) c.process.send({ type: 'go', calls });
  return Promise.all(done);
}

/**
 * P processes (test/support/child-host.ts: a real process with its own manager and SDK v2 client,
 * its clock set by the parent) share one home folder and one credential, and all make 50 calls
 * at once after the injected clock passed the token's expiry, against the kit's authorization
 * server (refresh-token rotation with reuse detection). With the lock: the design. Without
 * (`crossProcessLock: false`): the seed's design, with the same files, the same in-process
 * single flight and the same reload when the file changes. Each configuration gets a fresh home
 * and a fresh login (a new grant).
 */
export async function benchCrossProcess(input: {
  as: TestAuthorizationServer;
  mcp: TestMcpServer;
  parentDir: string;
  processes: number;
  callsPerProcess: number;
  lock: boolean;
}): Promise<CrossProcessRow> {
  const dir = await mkdtemp(join(input.parentDir, `xp-${input.processes}-${input.lock ? 'lock' : 'seed'}-`));
  const home = join(dir, 'home');
  const kids: Child[] = [];
  try {
    const login = new OAuthManager({ home, interactive: 'never', openBrowser: scriptedBrowserHook() });
    login.getOrBuildProvider('demo', input.mcp.url);
    await login.login('demo');
    await login.close();
    const recordPath = join(home, 'credentials', `${fileNameFor({ server: 'demo' })}.json`);
    const readRecord = async () =>
      JSON.parse(await readFile(recordPath, 'utf8')) as { state: string; tokens?: { expiresAt: number } };

    const env = { CHILD_HOME: home, CHILD_MCP_URL: input.mcp.url, CHILD_LOCK: input.lock ? '1' : '0' };
    kids.push(...(await Promise.all(Array.from({ length: input.processes }, () => startChild(env)))));

    const first = (await readRecord()).tokens!.expiresAt;
    input.as.resetStats();
    const start = performance.now();
    const results = await round(kids, first + 1, input.callsPerProcess);
    const wallMs = performance.now() - start;
    const outcome = await summarize(input.as, results, readRecord);
    const presented = input.as.stats.refreshTokensSeen;
    const replayed = new Set(presented.filter((token, i) => presented.indexOf(token) !== i)).size;
    const errors = [...new Set(results.flatMap((r) => r.errors))].slice(0, 3);

    // The next expiry: the clock moves just past the stored token's expiry (the refreshed one,
    // or the old one + 1 h when no refreshed token was kept).
    const after = await readRecord();
    const second = Math.max(after.tokens?.expiresAt ?? 0, first + 3600_000) + 1;
    input.as.resetStats();
    const nextResults = await round(kids, second, input.callsPerProcess);
    const nextExpiry = await summarize(input.as, nextResults, readRecord);

    return {
      subject: input.lock ? 'mcp-oauth-manager (cross-process lock)' : 'seed design (no cross-process lock)',
      processes: input.processes,
      callsPerProcess: input.callsPerProcess,
      ...outcome,
      replayedRefreshTokens: replayed,
      wallMs,
      nextExpiry,
      errors,
    };
  } finally {
    await Promise.all(kids.map((c) => c.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

async function summarize(
  as: TestAuthorizationServer,
  results: Done[],
  readRecord: () => Promise<{ state: string; tokens?: unknown }>,
): Promise<RoundOutcome> {
  const record = await readRecord().catch(() => undefined);
  return {
    refreshRequests: as.stats.refreshRequests,
    invalidGrant: as.stats.invalidGrant,
    failedCalls: results.reduce((sum, r) => sum + r.failed, 0),
    processesWithFailures: results.filter((r) => r.failed > 0).length,
    recordState: record ? (record.tokens ? record.state : `${record.state} (no tokens)`) : 'missing',
  };
}
