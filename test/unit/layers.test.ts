import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// DESIGN.md: imports point down only. Bottom to top; files directly in src/ (errors, logger,
// clock, loopback, file primitives) are shared leaves below every layer.
const LAYERS = ['config', 'store', 'oauth', 'manager', 'sdk', 'host', 'cli'];
// The one upward import, by design: getOrBuildProvider() returns the SDK-facing provider.
const ALLOWED = new Set(['manager/oauth-manager.ts -> sdk/managed-provider.ts']);

const src = fileURLToPath(new URL('../../src/', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const layerOf = (path: string) => {
  const parts = relative(src, path).split(sep);
  return parts.length > 1 ? parts[0]! : undefined;
};

describe('layers', () => {
  it('every import in src/ points down (or sideways), never up', () => {
    const upward: string[] = [];
    for (const file of filesUnder(src)) {
      const from = layerOf(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(
        /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g,
      )) {
        const target = normalize(join(dirname(file), spec!)).replace(/\.js$/, '.ts');
        const to = layerOf(target);
        const edge = `${relative(src, file)} -> ${relative(src, target)}`;
        const up =
          (from === undefined && to !== undefined && relative(src, file) !== 'index.ts') ||
          (from !== undefined && to !== undefined && LAYERS.indexOf(to) > LAYERS.indexOf(from));
        if (up && !ALLOWED.has(edge)) upward.push(edge);
      }
    }
    expect(upward).toEqual([]);
  });
});
