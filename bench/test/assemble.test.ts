import { describe, expect, it } from 'vitest';
import { formatReport, parseReport } from '@typevisor/perf-model';
import { assembleReport, p50Seconds } from '@typevisor/cli/bench';
import type { PlatformResult } from '@typevisor/cli/bench';

function result(platform: string, over: Partial<PlatformResult>): PlatformResult {
  return { platform, description: platform, runs: [], cpuInstructions: null, cpuSeconds: [], startLatencies: [], notes: [], ...over };
}
const boot = (platform: string, runs: number[]) => ({ benchmark: 'boot-to-shell', platform, unit: 's', lowerIsBetter: true, runs });

describe('assembleReport', () => {
  const typevisor = result('typevisor', { runs: [boot('typevisor', [20, 22, 21])], cpuInstructions: [2e9, 2.2e9, 2.1e9], cpuSeconds: [100, 110, 105], startLatencies: [0.5, 0.4, 0.6] });
  const qemu = result('qemu-tcg', { runs: [boot('qemu-tcg', [1.4, 1.5, 1.3])], cpuSeconds: [6, 6, 6], startLatencies: [0.5, 0.5, 0.5], notes: ['blk: none'] });
  const native = result('native', { cpuSeconds: [0.4, 0.5, 0.45], startLatencies: [0.004, 0.005, 0.0045] });

  it('computes ratios against typevisor and R, P, Q with the medians and the p50 latency', () => {
    const report = assembleReport({ results: [typevisor, qemu, native], host: { cores: 2 }, createdAt: new Date('2026-01-01T00:00:00Z') });
    expect(parseReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.ratios).toEqual([{ benchmark: 'boot-to-shell', platform: 'typevisor', baseline: 'qemu-tcg', value: 1.4 / 21 }]);
    const tv = report.model.typevisor;
    expect(tv.r).toEqual({ value: 2.1e9 / 105 / 1e6, unit: 'MIPS' });
    expect(tv.p.unit).toBe('MIPS/s');
    expect(tv.p.value).toBeCloseTo(20 / 0.5, 0);
    // Native runs the same busybox work: C is typevisor's count, T and C' its own.
    const nativeR = 2.1e9 / 0.45 / 1e6;
    expect(report.model.native.r.value).toBeCloseTo(nativeR, 6);
    expect(report.model.native.q).toBeNull();
    expect(tv.q?.value).toBeCloseTo(tv.p.value / (nativeR / 0.0045), 2);
    // QEMU has no counter: no model figures, and the report says why it has none.
    expect(report.model['qemu-tcg']).toBeUndefined();
    expect(report.host['note.qemu-tcg']).toBe('blk: none');
    expect(report.host['note.native.C']).toMatch(/typevisor's count/);
    expect(formatReport(report)).toMatch(/typevisor\s+20\.0 MIPS/);
  });

  it('leaves Q out without a native run, and R/P/Q out without start-latency samples', () => {
    const report = assembleReport({ results: [typevisor, result('v86', { cpuInstructions: [1e9], cpuSeconds: [10] })], host: {} });
    expect(report.model.typevisor.q).toBeNull();
    expect(report.model.v86).toBeUndefined();
  });

  it('takes the p50 through a perf-model histogram (within its 1.6 % resolution)', () => {
    expect(p50Seconds([0.3, 0.1, 0.2])).toBeCloseTo(0.2, 2);
  });
});
