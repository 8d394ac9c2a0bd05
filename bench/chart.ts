/**
 * The refresh-requests chart, as a hand-built SVG string (no plotting dependency): one panel per
 * scenario, log-scale x (N or P) and log-scale y (refresh requests), one line per subject.
 */

export interface ChartSeries {
  label: string;
  color: string;
  dash?: string;
  points: Array<{ x: number; y: number }>;
}

export interface ChartPanel {
  title: string;
  xLabel: string;
  xTicks: number[];
  series: ChartSeries[];
}

const WIDTH = 980;
const HEIGHT = 490;
const PANEL_GAP = 60;
const MARGIN = { top: 90, right: 34, bottom: 120, left: 70 };

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

const round1 = (value: number) => Math.round(value * 10) / 10;

export function refreshRequestsChart(title: string, subtitle: string, panels: ChartPanel[]): string {
  const panelWidth = (WIDTH - MARGIN.left - MARGIN.right - PANEL_GAP * (panels.length - 1)) / panels.length;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="26" font-size="16" font-weight="600" fill="#1f2328">${escapeXml(title)}</text>`,
    `<text x="${MARGIN.left}" y="45" fill="#59636e">${escapeXml(subtitle)}</text>`,
  ];
  panels.forEach((panel, index) => {
    const left = MARGIN.left + index * (panelWidth + PANEL_GAP);
    const top = MARGIN.top;
    const maxY = Math.max(1, ...panel.series.flatMap((s) => s.points.map((p) => p.y)));
    const decades = Math.max(1, Math.ceil(Math.log10(maxY) + 1e-9));
    const minX = Math.min(...panel.xTicks);
    const maxX = Math.max(...panel.xTicks);
    const xOf = (x: number) =>
      round1(
        left + ((Math.log10(x) - Math.log10(minX)) / (Math.log10(maxX) - Math.log10(minX))) * panelWidth,
      );
    // Zero has no logarithm: it is drawn on the bottom axis (the same place as 1), and labelled.
    const yOf = (y: number) => round1(top + plotHeight - (Math.log10(Math.max(1, y)) / decades) * plotHeight);

    parts.push(
      `<text x="${left}" y="${top - 10}" font-size="13" font-weight="600" fill="#1f2328">${escapeXml(panel.title)}</text>`,
    );
    for (let d = 0; d <= decades; d++) {
      const y = yOf(10 ** d);
      parts.push(
        `<line x1="${left}" y1="${y}" x2="${round1(left + panelWidth)}" y2="${y}" stroke="#d1d9e0" stroke-width="1"/>`,
        `<text x="${left - 8}" y="${y + 4}" text-anchor="end" fill="#59636e">${(10 ** d).toLocaleString('en-US')}</text>`,
      );
    }
    for (const tick of panel.xTicks) {
      const x = xOf(tick);
      parts.push(
        `<line x1="${x}" y1="${top}" x2="${x}" y2="${top + plotHeight}" stroke="#eef1f4" stroke-width="1"/>`,
        `<text x="${x}" y="${top + plotHeight + 18}" text-anchor="middle" fill="#59636e">${tick.toLocaleString('en-US')}</text>`,
      );
    }
    parts.push(
      `<rect x="${left}" y="${top}" width="${round1(panelWidth)}" height="${plotHeight}" fill="none" stroke="#818b98" stroke-width="1"/>`,
      `<text x="${round1(left + panelWidth / 2)}" y="${top + plotHeight + 38}" text-anchor="middle" fill="#1f2328">${escapeXml(panel.xLabel)}</text>`,
    );
    if (index === 0) {
      const cy = round1(top + plotHeight / 2);
      parts.push(
        `<text x="${left - 50}" y="${cy}" text-anchor="middle" fill="#1f2328" transform="rotate(-90 ${left - 50} ${cy})">refresh requests at the authorization server (log)</text>`,
      );
    }
    for (const series of panel.series) {
      if (series.points.length === 0) continue;
      const points = series.points.map((p) => `${xOf(p.x)},${yOf(p.y)}`).join(' ');
      parts.push(
        `<polyline points="${points}" fill="none" stroke="${series.color}" stroke-width="2.5"${series.dash ? ` stroke-dasharray="${series.dash}"` : ''}/>`,
      );
      for (const p of series.points) {
        parts.push(
          `<circle cx="${xOf(p.x)}" cy="${yOf(p.y)}" r="4" fill="${series.color}"/>`,
          `<text x="${xOf(p.x) + 6}" y="${yOf(p.y) - 7}" fill="${series.color}" font-size="11">${p.y.toLocaleString('en-US')}</text>`,
        );
      }
    }
    panel.series.forEach((series, i) => {
      const y = top + plotHeight + 58 + i * 18;
      parts.push(
        `<line x1="${left}" y1="${y - 4}" x2="${left + 26}" y2="${y - 4}" stroke="${series.color}" stroke-width="2.5"${series.dash ? ` stroke-dasharray="${series.dash}"` : ''}/>`,
        `<text x="${left + 34}" y="${y}" fill="#1f2328">${escapeXml(series.label)}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
