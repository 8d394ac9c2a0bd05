import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/ARCHITECTURE.md: imports point down only. Bottom to top; files directly in src/ (errors,
// logger, clock, loopback, file primitives) are shared leaves below every layer, except the
// entry points (index, internal, and redis: the mcp-oauth-manager/redis subpath), which sit above everything.
const LAYERS = ['config', 'store', 'oauth', 'manager', 'sdk', 'host', 'cli'];
const ENTRY_POINTS = new Set(['index.ts', 'internal.ts', 'redis.ts']);
// The one upward import, by design: getOrBuildProvider() returns the SDK-facing provider. The
// provider itself depends only on manager/provider-port.ts, so this edge closes no circle.
const ALLOWED = new Set(['manager/oauth-manager.ts -> sdk/managed-provider.ts']);

const src = fileURLToPath(new URL('../../src/', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const layerOf = (file: string) => {
  const parts = file.split(sep);
  return parts.length > 1 ? parts[0]! : undefined;
};

/** Every relative import (static, dynamic, type-only) of every file in src/, as paths from src/. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const path of filesUnder(src)) {
    const file = relative(src, path);
    const targets = [
      ...readFileSync(path, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g),
    ].map(([, spec]) => relative(src, normalize(join(dirname(path), spec!)).replace(/\.js$/, '.ts')));
    graph.set(file, targets);
  }
  return graph;
}

/** The import circles of `graph`: each as the files it passes through, first file repeated last. */
function circlesOf(graph: Map<string, string[]>): string[][] {
  const circles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') circles.push([...stack.slice(stack.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return circles;
}

describe('layers', () => {
  const graph = importGraph();

  it('every import in src/ points down (or sideways), never up', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      for (const target of targets) {
        const to = layerOf(target);
        const edge = `${file} -> ${target}`;
        const up =
          (from === undefined && to !== undefined && !ENTRY_POINTS.has(file)) ||
          (from !== undefined && to !== undefined && LAYERS.indexOf(to) > LAYERS.indexOf(from));
        if (up && !ALLOWED.has(edge)) upward.push(edge);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no import circles, type-only imports included', () => {
    expect(circlesOf(graph).map((circle) => circle.join(' -> '))).toEqual([]);
  });

  it('the circle check finds a circle when there is one', () => {
    const withCircle = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(circlesOf(withCircle)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });
});
