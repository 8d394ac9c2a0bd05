import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's version, from the nearest package.json named `mcp-oauth-manager` above this file.
 * Searched rather than a fixed `../../package.json`, so that it holds from src/cli, dist/cli and
 * from a bundle placed anywhere inside the package.
 */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'mcp-oauth-manager' && pkg.version) return pkg.version;
    } catch {
      // No package.json here (or not readable): keep climbing.
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
