/**
 * A host process for the cross-process suites, driven over IPC by the parent test:
 * its clock is set by the parent (so every child agrees on "expired" at the same barrier),
 * it makes concurrent tool calls through the SDK v2 client, logs in and out on request,
 * and can crash itself at a chosen point of the refresh transaction (SIGKILL).
 *
 * env: CHILD_HOME, CHILD_MCP_URL, CHILD_HOOK (kill-after-lock | kill-after-refresh-response),
 *      CHILD_LOCK (0 disables the cross-process lock), CHILD_REAL_CLOCK (1), CHILD_SKEW_MS, CHILD_BROWSER_DELAY_MS
 */
import type { Client } from '@modelcontextprotocol/client';
import { NeedsReauthError, OAuthManager } from '../../src/index.js';
import { withInternalSeams } from '../../src/internal.js';
import { scriptedBrowserHook } from './browser-hook.js';
import { FakeClock } from './fake-clock.js';
import { connectV2, echoCalls } from './mcp-client.js';

type Command =
  | { type: 'clock'; now: number }
  | { type: 'go'; calls: number }
  | { type: 'token' }
  | { type: 'login' }
  | { type: 'logout' }
  | { type: 'watch' }
  | { type: 'exit' };

const send = (message: unknown) => process.send?.(message);
const fakeClock = new FakeClock();
const hook = process.env.CHILD_HOOK;
const kill = () => {
  process.kill(process.pid, 'SIGKILL');
  return new Promise<void>(() => {});
};
const manager = new OAuthManager(
  withInternalSeams(
    {
      home: process.env.CHILD_HOME!,
      ...(process.env.CHILD_REAL_CLOCK === '1' ? {} : { clock: fakeClock }),
      interactive: 'never',
      openBrowser: scriptedBrowserHook(undefined, {
        delayMs: Number(process.env.CHILD_BROWSER_DELAY_MS ?? 0),
      }),
      ...(process.env.CHILD_SKEW_MS ? { refreshSkewMs: Number(process.env.CHILD_SKEW_MS) } : {}),
    },
    {
      crossProcessLock: process.env.CHILD_LOCK !== '0',
      testHooks: {
        afterLock: hook === 'kill-after-lock' ? kill : undefined,
        afterRefreshResponse: hook === 'kill-after-refresh-response' ? kill : undefined,
      },
    },
  ),
);
const provider = manager.getOrBuildProvider('demo', process.env.CHILD_MCP_URL!);
let client: Client | undefined;
const tokensSent: string[] = [];

process.on('message', async (command: Command) => {
  try {
    switch (command.type) {
      case 'clock':
        fakeClock.set(command.now);
        send({ type: 'clock-set' });
        break;
      case 'go': {
        try {
          client ??= await connectV2(process.env.CHILD_MCP_URL!, provider);
        } catch (error) {
          // No session at all (e.g. the credential needs a new login): every call failed.
          send({ type: 'done', ok: 0, failed: command.calls, errors: [String((error as Error).name)] });
          break;
        }
        send({ type: 'done', ...(await echoCalls(client, command.calls)) });
        break;
      }
      case 'token':
        try {
          const token = await manager.accessToken('demo');
          tokensSent.push(token);
          send({ type: 'token', token });
        } catch (error) {
          send({ type: 'token', error: (error as Error).name, message: (error as Error).message });
        }
        break;
      case 'login': {
        const waited: string[] = [];
        const result = await manager.login('demo', { prompt: (p) => waited.push(p.kind) });
        send({ type: 'logged-in', joined: result.joined, prompts: waited });
        break;
      }
      case 'logout':
        await manager.logout('demo');
        send({ type: 'logged-out' });
        break;
      case 'watch':
        manager.on('credentials-changed', (e) => send({ type: 'credentials-changed', reason: e.reason }));
        send({ type: 'watching' });
        break;
      case 'exit':
        await client?.close();
        await manager.close();
        process.exit(0);
    }
  } catch (error) {
    send({
      type: 'error',
      name: (error as Error).name,
      message: (error as Error).message,
      isReauth: error instanceof NeedsReauthError,
    });
  }
});
send({ type: 'started' });
