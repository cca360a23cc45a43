/**
 * An SVG chart of the benchmark history: one panel per main benchmark, the median of each platform
 * per report as a line, its min–max as a bar. Plain SVG text, no dependencies, so it can be
 * committed and shown in the docs.
 */
import type { BenchmarkReport } from '@typevisor/perf-model';

/** The benchmarks charted by default. */
export const MAIN_BENCHMARKS = [
  'boot-to-shell', 'cpu.sha256-16MiB', 'cpu.awk-loop', 'cpu.guest-mips', 'console.throughput', 'start-latency', 'boot-to-shell.debian-686',
] as const;

const COLORS: Readonly<Record<string, string>> = { typevisor: '#d62728', v86: '#1f77b4', 'qemu-tcg': '#2ca02c', native: '#7f7f7f' };
const PANEL_W = 300;
const PANEL_H = 190;
const MARGIN = { left: 52, right: 12, top: 28, bottom: 30 };
const COLUMNS = 3;

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
}

function tickLabel(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(1);
  return value.toPrecision(2);
}

/** One point of a series: report index and the entry's summary. */
interface Point {
  readonly x: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Renders the history as SVG. Log-scaled y axes, since platforms differ by orders of magnitude. */
export function renderHistorySvg(history: readonly BenchmarkReport[], benchmarks: readonly string[] = MAIN_BENCHMARKS): string {
  const rows = Math.ceil(benchmarks.length / COLUMNS);
  const width = COLUMNS * PANEL_W;
  const legendH = 26;
  const height = rows * PANEL_H + legendH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  const platforms = new Set<string>();
  benchmarks.forEach((benchmark, index) => {
    const ox = (index % COLUMNS) * PANEL_W;
    const oy = legendH + Math.floor(index / COLUMNS) * PANEL_H;
    const plotW = PANEL_W - MARGIN.left - MARGIN.right;
    const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
    const series = new Map<string, Point[]>();
    let unit = '';
    let lowerIsBetter = true;
    history.forEach((report, x) => {
      for (const entry of report.entries) {
        if (entry.benchmark !== benchmark || !(entry.summary.min > 0)) continue;
        unit = entry.unit;
        lowerIsBetter = entry.lowerIsBetter;
        const points = series.get(entry.platform) ?? [];
        points.push({ x, median: entry.summary.median, min: entry.summary.min, max: entry.summary.max });
        series.set(entry.platform, points);
        platforms.add(entry.platform);
      }
    });
    const title = `${benchmark}${unit ? ` (${unit}, ${lowerIsBetter ? 'lower' : 'higher'} is better)` : ''}`;
    out.push(`<text x="${ox + MARGIN.left}" y="${oy + 16}" font-weight="bold">${escapeXml(title)}</text>`);
    out.push(`<rect x="${ox + MARGIN.left}" y="${oy + MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#ccc"/>`);
    const all = [...series.values()].flat();
    if (all.length === 0) {
      out.push(`<text x="${ox + MARGIN.left + 8}" y="${oy + MARGIN.top + 20}" fill="#888">no data</text>`);
      return;
    }
    const lo = Math.log10(Math.min(...all.map((p) => p.min)));
    const hi = Math.log10(Math.max(...all.map((p) => p.max)));
    const ylo = Math.floor(lo * 2) / 2;
    const yhi = Math.max(ylo + 0.5, Math.ceil(hi * 2) / 2);
    const n = Math.max(1, history.length - 1);
    const px = (x: number) => ox + MARGIN.left + (history.length === 1 ? plotW / 2 : (x / n) * plotW);
    const py = (v: number) => oy + MARGIN.top + plotH - ((Math.log10(v) - ylo) / (yhi - ylo)) * plotH;
    for (let decade = Math.ceil(ylo); decade <= Math.floor(yhi); decade++) {
      const y = py(10 ** decade).toFixed(1);
      out.push(`<line x1="${ox + MARGIN.left}" x2="${ox + MARGIN.left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`);
      out.push(`<text x="${ox + MARGIN.left - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(10 ** decade)}</text>`);
    }
    const first = history[0]?.createdAt.slice(0, 10) ?? '';
    const last = history[history.length - 1]?.createdAt.slice(0, 10) ?? '';
    out.push(`<text x="${ox + MARGIN.left}" y="${oy + PANEL_H - 12}">${escapeXml(first)}</text>`);
    if (history.length > 1) out.push(`<text x="${ox + MARGIN.left + plotW}" y="${oy + PANEL_H - 12}" text-anchor="end">${escapeXml(last)} (${history.length} runs)</text>`);
    for (const [platform, points] of series) {
      const color = COLORS[platform] ?? '#9467bd';
      if (points.length > 1) {
        out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points.map((p) => `${px(p.x).toFixed(1)},${py(p.median).toFixed(1)}`).join(' ')}"/>`);
      }
      for (const p of points) {
        const x = px(p.x).toFixed(1);
        out.push(`<line x1="${x}" x2="${x}" y1="${py(p.min).toFixed(1)}" y2="${py(p.max).toFixed(1)}" stroke="${color}"/>`);
        out.push(`<circle cx="${x}" cy="${py(p.median).toFixed(1)}" r="2.5" fill="${color}"><title>${escapeXml(`${platform}: ${tickLabel(p.median)} ${unit}`)}</title></circle>`);
      }
    }
  });
  let lx = MARGIN.left;
  for (const platform of [...platforms].sort()) {
    const color = COLORS[platform] ?? '#9467bd';
    out.push(`<circle cx="${lx}" cy="13" r="4" fill="${color}"/><text x="${lx + 8}" y="13" dominant-baseline="middle">${escapeXml(platform)}</text>`);
    lx += 24 + platform.length * 7;
  }
  out.push(`<text x="${width - 8}" y="13" text-anchor="end" dominant-baseline="middle" fill="#666">median per report, bar: min–max; log scale</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
