import stringWidth from 'string-width';

/**
 * Aligned columns, like `gh` prints them: a header row, then one row per item, columns separated
 * by two spaces. Widths are measured on the plain text; `paint` colours a cell after the width
 * is known, so colour codes never break the alignment.
 */
export interface TableOptions {
  paint?: (text: string, column: number, row: number) => string;
  /** Applied to the header cells (e.g. bold); default none. */
  header?: (text: string) => string;
}

/** Terminal columns: a CJK character or an emoji takes two, a combining mark none. */
const width = (text: string) => stringWidth(text);

/** `headers` and `rows` as aligned text, one line per row (no trailing spaces), ending with a newline. */
export function renderTable(headers: string[], rows: string[][], options: TableOptions = {}): string {
  const widths = headers.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c] ?? ''))));
  const line = (cells: string[], paint: (text: string, column: number) => string) =>
    cells
      .map((cell, c) => {
        const last = c === cells.length - 1;
        // No trailing spaces after the last column: they show up when the output is copied.
        const pad = last ? '' : ' '.repeat((widths[c] ?? 0) - width(cell));
        return paint(cell, c) + pad;
      })
      .join('  ');
  const out = [line(headers, (text) => options.header?.(text) ?? text)];
  rows.forEach((row, r) => {
    out.push(line(row, (text, c) => options.paint?.(text, c, r) ?? text));
  });
  return `${out.join('\n')}\n`;
}
