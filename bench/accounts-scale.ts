/**
 * Accounts at scale: one process (a gateway) holding N idle credentials (accounts x servers) in
 * one OAuthManager, and `mcp-oauth status --all-accounts` over that many stored credentials.
 * Reported against a baseline measured in the same run: heap per idle credential (heap delta
 * after GC / N), and the time of `status` over N credentials as a ratio to `status` over the
 * baseline count (linear scaling gives N / baseline).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { run } from '../src/cli/program.js';
import {
  type CredentialRecord,
  type CredentialStore,
  FileCredentialStore,
  MemoryCredentialStore,
  OAuthManager,
} from '../src/index.js';
import { cloneRecordFor } from './fake-record.js';

export interface AccountsScaleResult {
  credentials: number;
  accounts: number;
  servers: number;
  /** Heap bytes per idle credential held by the manager (provider, entry, cached record). */
  bytesPerIdleCredential: number;
  /** `token()` calls made to load every credential that did not return the stored token. */
  wrongTokens: number;
  status: { baseline: number; baselineMs: number; credentials: number; ms: number; ratio: number };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};

/** Credentials of `accounts` x `servers`, keyed (account, server), stored in `store`. */
async function seed(
  store: CredentialStore,
  template: CredentialRecord,
  accounts: number,
  servers: number,
): Promise<Array<{ account: string; server: string; url: string }>> {
  const now = Date.now();
  const keys = [];
  for (let s = 0; s < servers; s++)
    for (let a = 0; a < accounts; a++)
      keys.push({ account: `user-${a}`, server: `server-${s}`, url: `https://mcp-${s}.example.com/mcp` });
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(
      keys
        .slice(i, i + 50)
        .map(({ account, server, url }) =>
          store.put(
            { server, account },
            { ...cloneRecordFor(template, server, url, now, 24 * 3600_000), account },
            null,
          ),
        ),
    );
  }
  return keys;
}

/** Median wall time of `mcp-oauth --json status --all-accounts` in this process over `home`. */
async function timeStatus(home: string, expected: number, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    let stdout = '';
    const io = {
      stdout: { write: (chunk: string) => (stdout += chunk) },
      stderr: { write: () => true },
      stdin: new PassThrough(),
      env: {},
      onInterrupt: () => () => {},
    };
    const start = performance.now();
    const code = await run(['node', 'mcp-oauth', '--home', home, '--json', 'status', '--all-accounts'], io);
    times.push(performance.now() - start);
    const listed = (JSON.parse(stdout) as { servers: unknown[] }).servers.length;
    if (code !== 0 || listed !== expected)
      throw new Error(`status listed ${listed} (exit ${code}), expected ${expected}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function benchAccountsScale(input: {
  parentDir: string;
  template: CredentialRecord;
  /** Accounts and servers of the memory measure (credentials = accounts x servers). */
  accounts: number;
  servers: number;
  /** Stored credentials of the status measure, and of its baseline. */
  statusCredentials: number;
  statusBaseline: number;
  runs: number;
  progress: (line: string) => void;
}): Promise<AccountsScaleResult> {
  const { template, accounts, servers } = input;
  const credentials = accounts * servers;
  input.progress(`  accounts: ${credentials} idle credentials in one manager`);
  const store = new MemoryCredentialStore();
  const keys = await seed(store, template, accounts, servers);
  const before = heap();
  const manager = new OAuthManager({ store, interactive: 'never' });
  let wrongTokens = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    await Promise.all(
      keys.slice(i, i + 1000).map(async ({ account, server, url }) => {
        const token = await manager.getOrBuildProvider(server, url, {}, { account }).token();
        if (!token) wrongTokens++;
      }),
    );
  }
  const bytesPerIdleCredential = (heap() - before) / credentials;
  await manager.close();

  const dir = await mkdtemp(join(input.parentDir, 'accounts-'));
  try {
    const measure = async (count: number) => {
      const home = join(dir, `home-${count}`);
      const fileStore = new FileCredentialStore({ home, watch: false });
      const perAccount = 10;
      await seed(fileStore, template, Math.ceil(count / perAccount), perAccount);
      await fileStore.close();
      input.progress(`  accounts: status --all-accounts over ${count} stored credentials`);
      return timeStatus(home, Math.ceil(count / perAccount) * perAccount, input.runs);
    };
    const baselineMs = await measure(input.statusBaseline);
    const ms = await measure(input.statusCredentials);
    return {
      credentials,
      accounts,
      servers,
      bytesPerIdleCredential,
      wrongTokens,
      status: {
        baseline: input.statusBaseline,
        baselineMs,
        credentials: input.statusCredentials,
        ms,
        ratio: ms / baselineMs,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
