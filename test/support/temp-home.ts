import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh private home folder for one test. */
export async function tempHome(): Promise<{ home: string; cleanup: () => Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), 'mcp-oauth-test-'));
  const home = join(parent, 'home');
  return { home, cleanup: () => rm(parent, { recursive: true, force: true }) };
}
