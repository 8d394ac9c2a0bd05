/** A table rendered two ways: padded text for the terminal, GitHub markdown for BENCHMARKS.md. */
export interface Table {
  headers: string[];
  rows: string[][];
  /** Columns aligned left (the rest are numbers, aligned right). */
  leftColumns?: number[];
}

export function renderText(table: Table, indent = '  '): string {
  const left = new Set(table.leftColumns ?? [0]);
  const widths = table.headers.map((h, c) =>
    Math.max(h.length, ...table.rows.map((r) => (r[c] ?? '').length)),
  );
  const line = (cells: string[]) =>
    indent +
    cells
      .map((cell, c) => (left.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(table.headers), ...table.rows.map(line)].join('\n');
}

export function renderMarkdown(table: Table): string {
  const left = new Set(table.leftColumns ?? [0]);
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${table.headers.map(escapeCell).join(' | ')} |`,
    `| ${table.headers.map((_, c) => (left.has(c) ? ':--' : '--:')).join(' | ')} |`,
    ...table.rows.map((r) => `| ${r.map(escapeCell).join(' | ')} |`),
  ].join('\n');
}

export const fmt = {
  int: (value: number) => Math.round(value).toLocaleString('en-US'),
  ms: (value: number) => (value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)),
  ratio: (value: number) =>
    value >= 100 ? `${Math.round(value)}x` : value >= 10 ? `${value.toFixed(1)}x` : `${value.toFixed(2)}x`,
  pct: (value: number) => `${(value * 100).toFixed(0)}%`,
  mb: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`,
  kb: (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`,
};
