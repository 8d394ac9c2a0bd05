/**
 * A host process on a shared Redis store, for the fleet suites: one "machine" (its own home
 * folder) driven over IPC like test/support/child-host.ts: the parent sets its clock, starts
 * concurrent tool calls, asks for tokens, and can have it crash (SIGKILL) or freeze (SIGSTOP,
 * resumed by the parent's SIGCONT) at a chosen point of the refresh transaction.
 *
 * env: CHILD_HOME, CHILD_MCP_URL, CHILD_REDIS_URL, CHILD_REDIS_PREFIX, CHILD_REDIS_CLUSTER (1),
 *      CHILD_HOOK (kill-after-lock | stop-before-refresh), CHILD_LEASE_MS, CHILD_LOCK_WAIT_MS
 */
import type { Client } from '@modelcontextprotocol/client';
import { OAuthManager } from '../../src/index.js';
import { withInternalSeams } from '../../src/internal.js';
import { RedisCredentialStore } from '../../src/store/redis-credential-store.js';
import { FakeClock } from '../support/fake-clock.js';
import { connectV2, echoCalls } from '../support/mcp-client.js';

type Command =
  | { type: 'clock'; now: number }
  | { type: 'go'; calls: number }
  | { type: 'token' }
  | { type: 'exit' };

const send = (message: unknown) => process.send?.(message);
const fakeClock = new FakeClock();
const hook = process.env.CHILD_HOOK;
const store = new RedisCredentialStore({
  url: process.env.CHILD_REDIS_URL!,
  prefix: process.env.CHILD_REDIS_PREFIX!,
  cluster: process.env.CHILD_REDIS_CLUSTER === '1',
});
const lease = process.env.CHILD_LEASE_MS ? { lockStaleMs: Number(process.env.CHILD_LEASE_MS) } : {};
const wait = process.env.CHILD_LOCK_WAIT_MS ? { lockWaitMs: Number(process.env.CHILD_LOCK_WAIT_MS) } : {};
const manager = new OAuthManager(
  withInternalSeams(
    { home: process.env.CHILD_HOME!, store, clock: fakeClock, interactive: 'never', ...lease, ...wait },
    {
      testHooks: {
        afterLock:
          hook === 'kill-after-lock'
            ? () => {
                process.kill(process.pid, 'SIGKILL');
                return new Promise<void>(() => {});
              }
            : undefined,
        beforeRefreshRequest:
          hook === 'stop-before-refresh'
            ? () =>
                new Promise<void>((resolve) => {
                  // Tell the parent first (the message must leave before the process freezes).
                  process.send?.({ type: 'stopping' }, () => {
                    process.kill(process.pid, 'SIGSTOP');
                    resolve();
                  });
                })
            : undefined,
      },
    },
  ),
);
const provider = manager.getOrBuildProvider('demo', process.env.CHILD_MCP_URL!);
let client: Client | undefined;

process.on('message', async (command: Command) => {
  switch (command.type) {
    case 'clock':
      fakeClock.set(command.now);
      send({ type: 'clock-set' });
      break;
    case 'go': {
      try {
        client ??= await connectV2(process.env.CHILD_MCP_URL!, provider);
      } catch (error) {
        send({ type: 'done', ok: 0, failed: command.calls, errors: [String((error as Error).name)] });
        break;
      }
      // The fleet suites report what failed, not only which kind of error.
      const outcome = await echoCalls(
        client,
        command.calls,
        (reason) => `${reason?.name}: ${String(reason?.message ?? reason).slice(0, 160)}`,
      );
      send({ type: 'done', ...outcome });
      break;
    }
    case 'token':
      try {
        send({ type: 'token', token: await manager.accessToken('demo') });
      } catch (error) {
        send({ type: 'token', error: (error as Error).name, message: (error as Error).message });
      }
      break;
    case 'exit':
      await client?.close();
      await manager.close();
      await store.close();
      process.exit(0);
  }
});
send({ type: 'started' });
