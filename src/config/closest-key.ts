/**
 * "Did you mean ...?" for a misspelt configuration key: the known key nearest to what was
 * written, by edit distance, after turning camelCase into snake_case (`clientId` → `client_id`).
 */

/** Levenshtein distance (insertions, deletions, substitutions), case-sensitive. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function toSnakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s]+/g, '_')
    .toLowerCase();
}

/**
 * The known key closest to `written`, or undefined when none is close enough (at most one edit
 * per three characters, and at least one). `aliases` maps other spellings people are likely to
 * write (such as the OAuthConfig field `timeoutSeconds`) to the key they mean.
 */
export function closestKey(
  written: string,
  known: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): string | undefined {
  const normalized = toSnakeCase(written);
  const candidates: Array<[spelling: string, key: string]> = [
    ...known.map((key): [string, string] => [key, key]),
    ...Object.entries(aliases).map(([alias, key]): [string, string] => [toSnakeCase(alias), key]),
  ];
  let best: { key: string; distance: number } | undefined;
  for (const [spelling, key] of candidates) {
    const distance = editDistance(normalized, spelling);
    if (!best || distance < best.distance) best = { key, distance };
  }
  if (!best) return undefined;
  const allowed = Math.max(1, Math.floor(normalized.length / 3));
  return best.distance <= allowed ? best.key : undefined;
}
