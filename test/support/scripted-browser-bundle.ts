import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const kitBrowser = join(dirname(fileURLToPath(import.meta.url)), '../kit/scripted-browser.ts');

/**
 * The kit's scripted browser (test/kit/scripted-browser.ts) bundled into `outdir` as one ESM file
 * whose packages resolve to the repository's node_modules: a `BROWSER` command that starts in a
 * fraction of the tsx CLI's time. Returns the file's path.
 */
export async function bundleScriptedBrowser(outdir: string): Promise<string> {
  await build({
    entryPoints: { main: kitBrowser },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  });
  return join(outdir, 'main.mjs');
}
