import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private scratch folder (0700, from mkdtemp) for the homes of one benchmark run. */
export async function makeScratchDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'mcp-oauth-bench-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
