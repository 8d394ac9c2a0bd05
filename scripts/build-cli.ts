/**
 * Bundles the `mcp-oauth` binary: dist/cli/main.js plus the chunks it imports lazily. One file per
 * command path instead of a hundred modules, and dependencies parsed once into few chunks: a
 * command starts in a fraction of the time the module-per-file build takes (bench: `cli`). Code
 * splitting keeps the dynamic imports lazy, so `--version`, `--help` and usage errors never load
 * the manager, the MCP SDK or the configuration parser.
 *
 * Run by `npm run build` after tsc (which emits the library); the tests bundle with the same
 * options into a folder of their own.
 */
import { chmod, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

export function cliBuildOptions(outdir: string): BuildOptions {
  return {
    absWorkingDir: repoRoot,
    entryPoints: { main: join(repoRoot, 'src/cli/main.ts') },
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Not bundled: a native addon, `open`, which runs scripts shipped next to its own files, and
    // jsonc-parser, whose `main` is a UMD build that requires its modules at run time; the Redis
    // client, loaded (lazily) only when a redis:// store is selected.
    external: ['fs-native-extensions', 'open', 'jsonc-parser', 'redis', '@redis/*'],
    // The CommonJS dependencies (commander, yaml) call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __cliCreateRequire } from 'node:module'; const require = __cliCreateRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'error',
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = join(repoRoot, 'dist/cli');
  // tsc emitted the CLI module by module; the bundle replaces all of it.
  await rm(outdir, { recursive: true, force: true });
  await build(cliBuildOptions(outdir));
  await chmod(join(outdir, 'main.js'), 0o755);
}
