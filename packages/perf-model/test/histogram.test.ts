import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram, SUB_BUCKETS } from '@typevisor/perf-model';

function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('Histogram', () => {
  it('summarizes an empty histogram as zeros', () => {
    expect(new Histogram().summary()).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 });
  });

  it('reports exact min, max and mean, and p100 = max', () => {
    const h = new Histogram();
    for (const v of [5, 1, 1000, 250]) h.record(v);
    const s = h.summary();
    expect([s.count, s.min, s.max, s.mean]).toEqual([4, 1, 1000, 314]);
    expect(h.percentile(100)).toBe(1000);
  });

  it('is within 0.5 below the first power-of-two split', () => {
    const h = new Histogram();
    for (const v of [1, 2, 3]) h.record(v + 0.25);
    expect(Math.abs(h.percentile(50) - 2.25)).toBeLessThanOrEqual(0.5);
  });

  it('resolves integers exactly below the first power-of-two split', () => {
    const h = new Histogram();
    for (let v = 0; v < SUB_BUCKETS; v++) h.record(v);
    expect(Math.floor(h.percentile(50))).toBe(31);
  });

  it('answers every percentile within 1/64 of the true value from 64 up, over seven decades', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: SUB_BUCKETS, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.constantFrom(50, 90, 99),
        (values, p) => {
          const h = new Histogram();
          for (const v of values) h.record(v);
          const exact = exactPercentile(values, p);
          expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThanOrEqual(1 / 64 + 1e-12);
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('rejects values that are not latencies', () => {
    const h = new Histogram();
    expect(() => h.record(-1)).toThrow(RangeError);
    expect(() => h.record(Number.NaN)).toThrow(/finite value/);
    expect(() => h.percentile(101)).toThrow(RangeError);
  });
});
