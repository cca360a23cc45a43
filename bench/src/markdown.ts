/** A report as Markdown: one row per benchmark, one column per platform (median and min–max). */
import type { BenchmarkReport } from '@typevisor/perf-model';

function number(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** The benchmark × platform table of medians (min–max below), then the model figures. */
export function reportToMarkdown(report: BenchmarkReport): string {
  const platforms = [...new Set(report.entries.map((e) => e.platform))];
  const benchmarks = [...new Set(report.entries.map((e) => e.benchmark))];
  const lines = [`| benchmark | ${platforms.join(' | ')} |`, `|---|${platforms.map(() => '---:').join('|')}|`];
  for (const benchmark of benchmarks) {
    const cells = platforms.map((platform) => {
      const entry = report.entries.find((e) => e.benchmark === benchmark && e.platform === platform);
      if (entry === undefined) return '—';
      const { median, min, max } = entry.summary;
      return `${number(median)} ${entry.unit}<br><sub>${number(min)}–${number(max)}</sub>`;
    });
    const direction = report.entries.find((e) => e.benchmark === benchmark)?.lowerIsBetter ? '↓' : '↑';
    lines.push(`| \`${benchmark}\` ${direction} | ${cells.join(' | ')} |`);
  }
  const modelPlatforms = Object.keys(report.model);
  if (modelPlatforms.length > 0) {
    lines.push('', '| platform | R = C/T | P = R/C′ | Q = P/P′native |', '|---|---:|---:|---:|');
    for (const platform of modelPlatforms) {
      const { r, p, q } = report.model[platform];
      lines.push(`| ${platform} | ${number(r.value)} ${r.unit} | ${number(p.value)} ${p.unit} | ${q === null ? '—' : number(q.value)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
