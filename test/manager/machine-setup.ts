import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { type Child, startChild } from '../support/children.js';

/** The machine suites' child host. */
export const machineChild = fileURLToPath(new URL('./machine-child.ts', import.meta.url));

/** Writes `<home>/config.yaml` (0600, in a 0700 home) from a plain object, as a person would. */
export async function writeConfig(home: string, config: Record<string, unknown>): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  await writeFile(join(home, 'config.yaml'), stringify(config), { mode: 0o600 });
}

/** `count` machine child hosts on `home`, stopped by `cleanups`. */
export async function machineChildren(
  cleanups: Array<() => Promise<unknown>>,
  count: number,
  home: string,
): Promise<Child[]> {
  const started = await Promise.all(
    Array.from({ length: count }, () => startChild({ CHILD_HOME: home }, machineChild)),
  );
  cleanups.push(() => Promise.all(started.map((c) => c.stop())));
  return started;
}

/** Sets every child's clock (the barrier), then starts `calls` tool calls to `server` in each at once. */
export async function machineRound(kids: Child[], now: number, server: string, calls: number) {
  await Promise.all(kids.map((c) => c.request({ type: 'clock', now }, 'clock-set')));
  const done = kids.map((c) => c.next<{ ok: number; failed: number; errors: string[] }>('done'));
  for (const c of kids) c.process.send({ type: 'go', server, calls });
  return Promise.all(done);
}
