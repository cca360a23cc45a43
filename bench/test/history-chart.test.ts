import { describe, expect, it } from 'vitest';
import { buildReport } from '@typevisor/perf-model';
import { renderHistorySvg } from '../src/history-chart.js';

describe('history chart', () => {
  const report = (day: number, typevisorBoot: number) => buildReport({
    createdAt: new Date(Date.UTC(2026, 10, day)),
    runs: [
      { benchmark: 'boot-to-shell', platform: 'typevisor', unit: 's', lowerIsBetter: true, runs: [typevisorBoot, typevisorBoot + 1] },
      { benchmark: 'boot-to-shell', platform: 'qemu-tcg', unit: 's', lowerIsBetter: true, runs: [1.4] },
    ],
  });

  it('draws a line per platform across reports, and says when a panel has no data', () => {
    const svg = renderHistorySvg([report(1, 30), report(2, 20)], ['boot-to-shell', 'cpu.awk-loop']);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('boot-to-shell (s, lower is better)');
    expect(svg).toContain('typevisor: 20.5 s');
    expect(svg).toContain('2026-11-02 (2 runs)');
    expect(svg).toContain('no data');
  });
});

describe('markdown table', () => {
  it('puts platforms in columns with median and min–max, and the model figures below', async () => {
    const { reportToMarkdown } = await import('../src/markdown.js');
    const markdown = reportToMarkdown(buildReport({
      runs: [
        { benchmark: 'boot-to-shell', platform: 'typevisor', unit: 's', lowerIsBetter: true, runs: [20, 22, 21] },
        { benchmark: 'boot-to-shell', platform: 'qemu-tcg', unit: 's', lowerIsBetter: true, runs: [1.4] },
      ],
      model: { typevisor: { r: { value: 10, unit: 'MIPS' }, p: { value: 20, unit: 'MIPS/s' }, q: null } },
    }));
    expect(markdown).toContain('| benchmark | typevisor | qemu-tcg |');
    expect(markdown).toContain('| `boot-to-shell` ↓ | 21.0 s<br><sub>20.0–22.0</sub> | 1.40 s<br><sub>1.40–1.40</sub> |');
    expect(markdown).toContain('| typevisor | 10.0 MIPS | 20.0 MIPS/s | — |');
  });
});
