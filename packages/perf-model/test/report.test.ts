import { describe, expect, it } from 'vitest';
import { REPORT_SCHEMA, ReportError, buildReport, formatReport, modelFigures, parseReport, summarizeRuns } from '@typevisor/perf-model';

describe('benchmark reports', () => {
  it('summarizes runs as median with min–max', () => {
    expect(summarizeRuns([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, count: 3 });
    expect(summarizeRuns([4, 1, 2, 3]).median).toBe(2.5);
    expect(() => summarizeRuns([])).toThrow(ReportError);
  });

  it('orients ratios so that > 1 means typevisor did better', () => {
    const report = buildReport({
      createdAt: new Date('2026-01-01T00:00:00Z'),
      runs: [
        { benchmark: 'boot', platform: 'typevisor', unit: 's', lowerIsBetter: true, runs: [6, 6, 6] },
        { benchmark: 'boot', platform: 'v86', unit: 's', lowerIsBetter: true, runs: [12, 12, 12] },
        { benchmark: 'blk', platform: 'typevisor', unit: 'MiB/s', lowerIsBetter: false, runs: [50] },
        { benchmark: 'blk', platform: 'qemu-tcg', unit: 'MiB/s', lowerIsBetter: false, runs: [100] },
      ],
    });
    expect(report.schema).toBe(REPORT_SCHEMA);
    expect(report.ratios).toEqual([
      { benchmark: 'boot', platform: 'typevisor', baseline: 'v86', value: 2 },
      { benchmark: 'blk', platform: 'typevisor', baseline: 'qemu-tcg', value: 0.5 },
    ]);
  });

  it('refuses to compare runs measured in different units', () => {
    expect(() =>
      buildReport({
        runs: [
          { benchmark: 'boot', platform: 'typevisor', unit: 's', lowerIsBetter: true, runs: [1] },
          { benchmark: 'boot', platform: 'v86', unit: 'ms', lowerIsBetter: true, runs: [1] },
        ],
      }),
    ).toThrow(/measured in s, v86 in ms/);
  });

  it('prints a table with the model figures and their units, and survives a JSON round trip', () => {
    const report = buildReport({
      host: { cores: 2 },
      runs: [{ benchmark: 'cpu', platform: 'typevisor', unit: 's', lowerIsBetter: true, runs: [4.2, 4.0, 4.4] }],
      model: { typevisor: modelFigures({ instructions: 420e6, hostSeconds: 4.2, latencySeconds: 0.001 }) },
    });
    const text = formatReport(report);
    expect(text).toContain('cores: 2');
    expect(text).toMatch(/cpu\s+typevisor\s+4\.200 s\s+4\.000–4\.400\s+3/);
    expect(text).toMatch(/typevisor\s+100\.0 MIPS\s+100000 MIPS\/s\s+—/);
    expect(parseReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });

  it('rejects documents that are not reports', () => {
    expect(() => parseReport(null)).toThrow(ReportError);
    expect(() => parseReport({ schema: 'other/1' })).toThrow(/unsupported report schema/);
    expect(() => parseReport({ schema: REPORT_SCHEMA, createdAt: 'yesterday', entries: [], ratios: [] })).toThrow(/ISO 8601/);
  });
});
