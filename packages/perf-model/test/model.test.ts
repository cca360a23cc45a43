import { describe, expect, it } from 'vitest';
import { ModelInputError, Units, efficiency, modelFigures, performance, power } from '@typevisor/perf-model';

describe('the R/P/Q model', () => {
  it('R = C/T in MIPS', () => {
    expect(performance(250e6, 2)).toEqual({ value: 125, unit: Units.mips });
  });

  it('P = R/C′ in MIPS/s', () => {
    expect(power({ value: 125, unit: 'MIPS' }, 0.5)).toEqual({ value: 250, unit: 'MIPS/s' });
  });

  it('Q = P/P′native, dimensionless', () => {
    const figures = modelFigures(
      { instructions: 100e6, hostSeconds: 1, latencySeconds: 0.002 },
      { instructions: 4000e6, hostSeconds: 1, latencySeconds: 0.0001 },
    );
    expect(figures.r.value).toBeCloseTo(100);
    expect(figures.p.value).toBeCloseTo(50_000);
    expect(figures.q?.unit).toBe('1');
    expect(figures.q?.value).toBeCloseTo(50_000 / 40_000_000);
  });

  it('leaves Q out without a native measurement', () => {
    expect(modelFigures({ instructions: 1, hostSeconds: 1, latencySeconds: 1 }).q).toBeNull();
  });

  it('rejects measurements that cannot be divided by and mixed units', () => {
    expect(() => performance(1, 0)).toThrow(ModelInputError);
    expect(() => power({ value: 1, unit: 'MIPS' }, Number.NaN)).toThrow(/latencySeconds/);
    expect(() => power({ value: 1, unit: 's' }, 1)).toThrow(/needs R in MIPS/);
    expect(() => efficiency({ value: 1, unit: 'MIPS' }, { value: 1, unit: 'MIPS/s' })).toThrow(/like with like/);
  });
});
