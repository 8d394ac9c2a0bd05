import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Client,
  ClientCredentialsProvider,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { loadConfig } from '../src/config/index.js';
import { OAuthManager } from '../src/index.js';
import { machineClient, startAuthorizationServer } from '../test/kit/authorization-server.js';
import { startMcpServer } from '../test/kit/mcp-server.js';
import { startChild } from '../test/support/children.js';
import { FakeClock } from '../test/support/fake-clock.js';
import type { Table } from './table.js';
import { fmt } from './table.js';

const machineChild = fileURLToPath(new URL('../test/manager/machine-child.ts', import.meta.url));
const CLIENT = { clientId: 'bench-cc', secret: 'bench-cc-secret' };

export interface MachineMintsRow {
  subject: string;
  processes: number;
  /** client_credentials token requests the authorization server received for one expiry. */
  mints: number;
  failedCalls: number;
  calls: number;
}

/**
 * Mints per expiry of a client-credentials server: P processes (test/manager/machine-child.ts,
 * each its own manager) on one home, all calling after the token expired on their injected
 * clocks: the mint runs in the refresh transaction, so the authorization server should see one
 * token request. Beside it, P clients on the SDK's own in-memory `ClientCredentialsProvider` (what
 * P workers built on the SDK alone do): each holds its own token, so each mints.
 */
export async function benchMachineMints(input: {
  processes: number;
  callsPerProcess: number;
  parentDir: string;
}): Promise<MachineMintsRow[]> {
  const as = await startAuthorizationServer({
    clients: [
      machineClient({ clientId: CLIENT.clientId, authMethod: 'client_secret_basic', secret: CLIENT.secret }),
    ],
  });
  const mcp = await startMcpServer({ authorizationServer: as.issuer });
  const dir = await mkdtemp(join(input.parentDir, 'machine-'));
  const home = join(dir, 'home');
  const rows: MachineMintsRow[] = [];
  const variable = 'BENCH_CC_SECRET';
  const before = process.env[variable];
  process.env[variable] = CLIENT.secret;
  try {
    await mkdir(home, { recursive: true, mode: 0o700 });
    await writeFile(
      join(home, 'config.yaml'),
      `servers:\n  cc:\n    url: ${mcp.url}\n    oauth: { grant: client_credentials, client_id: ${CLIENT.clientId}, client_secret_env: ${variable} }\n`,
      { mode: 0o600 },
    );
    // The first token, minted by a manager in this process.
    const manager = new OAuthManager({ home, clock: new FakeClock(), interactive: 'never' });
    const server = (await loadConfig(home)).servers.get('cc')!;
    manager.getOrBuildProvider('cc', server.url, server.oauth);
    const status = (await manager.login('cc')).status;
    await manager.close();
    const kids = await Promise.all(
      Array.from({ length: input.processes }, () => startChild({ CHILD_HOME: home }, machineChild)),
    );
    try {
      as.resetStats();
      const now = Date.parse(status.expiresAt!) + 1000;
      await Promise.all(kids.map((c) => c.request({ type: 'clock', now }, 'clock-set')));
      const done = kids.map((c) => c.next<{ ok: number; failed: number }>('done'));
      for (const c of kids) c.process.send({ type: 'go', server: 'cc', calls: input.callsPerProcess });
      const results = await Promise.all(done);
      rows.push({
        subject: 'mcp-oauth-manager (P processes, one home)',
        processes: input.processes,
        mints: as.stats.grantRequests.client_credentials ?? 0,
        failedCalls: results.reduce((sum, r) => sum + r.failed, 0),
        calls: input.processes * input.callsPerProcess,
      });
    } finally {
      await Promise.all(kids.map((c) => c.stop()));
    }

    // The SDK alone: P clients, each with its own in-memory provider, each needing a token.
    as.resetStats();
    let failed = 0;
    await Promise.all(
      Array.from({ length: input.processes }, async () => {
        const provider = new ClientCredentialsProvider({
          clientId: CLIENT.clientId,
          clientSecret: CLIENT.secret,
          expectedIssuer: as.issuer,
        });
        const client = new Client({ name: 'bench-sdk-cc', version: '1.0.0' });
        try {
          await client.connect(
            new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }),
          );
          const calls = await Promise.allSettled(
            Array.from({ length: input.callsPerProcess }, (_, i) =>
              client.callTool({ name: 'echo', arguments: { text: String(i) } }),
            ),
          );
          failed += calls.filter((c) => c.status === 'rejected').length;
        } catch {
          failed += input.callsPerProcess;
        } finally {
          await client.close().catch(() => {});
        }
      }),
    );
    rows.push({
      subject: 'SDK alone (ClientCredentialsProvider per worker)',
      processes: input.processes,
      mints: as.stats.grantRequests.client_credentials ?? 0,
      failedCalls: failed,
      calls: input.processes * input.callsPerProcess,
    });
    return rows;
  } finally {
    if (before === undefined) delete process.env[variable];
    else process.env[variable] = before;
    await mcp.close();
    await as.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The table of section 7. */
export function machineMintsTable(rows: MachineMintsRow[]): Table {
  return {
    headers: ['subject', 'P', 'client_credentials token requests per expiry', 'failed calls'],
    leftColumns: [0],
    rows: rows.map((r) => [
      r.subject,
      fmt.int(r.processes),
      fmt.int(r.mints),
      `${fmt.int(r.failedCalls)} / ${fmt.int(r.calls)}`,
    ]),
  };
}
