/**
 * The Redis client loads only through `mcp-oauth-manager/redis` (or a store selected as redis://):
 * a process importing the package root, with every import of `redis` made to throw, starts fine;
 * the same guard on the subpath entry fails (so the guard works).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const guard = fileURLToPath(new URL('./no-redis-register.mjs', import.meta.url));
const root = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const redisEntry = fileURLToPath(new URL('../../src/redis.ts', import.meta.url));

async function importWithGuard(file: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      '--import',
      guard,
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(file)}); console.log('imported');`,
    ]);
    return { ok: true, output: stdout };
  } catch (error) {
    return { ok: false, output: String((error as { stderr?: string }).stderr ?? error) };
  }
}

it('the package root never loads the Redis client; the redis subpath does', async () => {
  const rootImport = await importWithGuard(root);
  expect(rootImport).toEqual({ ok: true, output: 'imported\n' });
  const subpath = await importWithGuard(redisEntry);
  expect(subpath.ok).toBe(false);
  expect(subpath.output).toContain('the Redis client was loaded (redis)');
}, 120_000);
