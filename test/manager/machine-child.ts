/**
 * A host process for the machine-grant suites, driven over IPC like test/support/child-host.ts,
 * but with every server of the home's config.yaml registered with its own settings (grant, client,
 * key file, IdP): its clock is set by the parent, it makes concurrent tool calls per server.
 *
 * env: CHILD_HOME
 */
import type { Client } from '@modelcontextprotocol/client';
import { loadConfig } from '../../src/config/index.js';
import { OAuthManager } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { connectV2 } from '../support/mcp-client.js';

type Command =
  | { type: 'clock'; now: number }
  | { type: 'go'; server: string; calls: number }
  | { type: 'exit' };

const send = (message: unknown) => process.send?.(message);
const clock = new FakeClock();
const home = process.env.CHILD_HOME!;
const manager = new OAuthManager({ home, clock, interactive: 'never' });
const { servers } = await loadConfig(home);
const providers = new Map(
  [...servers.values()].map((s) => [s.name, manager.getOrBuildProvider(s.name, s.url, s.oauth)] as const),
);
const clients = new Map<string, Client>();

process.on('message', async (command: Command) => {
  switch (command.type) {
    case 'clock':
      clock.set(command.now);
      send({ type: 'clock-set' });
      return;
    case 'go': {
      let client = clients.get(command.server);
      try {
        client ??= await connectV2(servers.get(command.server)!.url, providers.get(command.server)!);
        clients.set(command.server, client);
      } catch (error) {
        send({ type: 'done', ok: 0, failed: command.calls, errors: [String((error as Error).message)] });
        return;
      }
      const results = await Promise.allSettled(
        Array.from({ length: command.calls }, (_, i) =>
          client!.callTool({ name: 'echo', arguments: { text: String(i) } }),
        ),
      );
      const errors = results.flatMap((r) =>
        r.status === 'rejected' ? [String(r.reason?.message ?? r.reason)] : [],
      );
      send({
        type: 'done',
        ok: results.length - errors.length,
        failed: errors.length,
        errors: errors.slice(0, 3),
      });
      return;
    }
    case 'exit':
      for (const client of clients.values()) await client.close().catch(() => {});
      await manager.close();
      process.exit(0);
  }
});
send({ type: 'started' });
