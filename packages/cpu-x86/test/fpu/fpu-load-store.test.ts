import { describe, expect, it } from 'vitest';
import { Fpu } from '../../src/fpu/fpu.js';
import type { FpuStateSnapshot } from '../../src/fpu/fpu-state.js';
import { FakeFault, FakeHost } from './fake-host.js';
import { Rng, gen80 } from './native-cases.js';
import { SCRATCH, X87 } from './x87-driver.js';

const J = 1n << 63n;

describe('x87 loads and stores', () => {
  it('FLD/FSTP m80 round-trips every encoding bit-exactly, including unsupported ones', () => {
    const values: [number, bigint][] = [
      [0x3fff, J], [0x0000, 0x1234n], [0x8000, J | 5n], [0x7fff, J], [0xffff, J | (1n << 62n) | 7n],
      [0x7fff, J | 1n], [0x4000, 0x1234n], [0x7fff, 0x55n], [0x0000, 0n], [0x8000, 0n],
    ];
    for (const [sx, sig] of values) {
      const x = new X87().fld80(sx, sig);
      expect(x.sw() & 0x3f).toBe(0);
      expect(x.pop80()).toEqual({ sx, sig });
    }
  });

  it('FLD m64 converts exactly and FST m64 rounds per RC', () => {
    const x = new X87().fld64(Math.PI);
    expect(x.st(0)).toEqual({ sx: 0x4000, sig: 0xc90fdaa22168c000n });
    expect(x.st64()).toBe(Math.PI);
    // 1/3 in extended, stored as double under each rounding mode.
    const third = (rc: number): number => {
      const y = new X87().fldcw(0x037f | (rc << 10)).fld64(1).fld64(3);
      y.op(0xde, 0xf9); // FDIVP: ST(1) = ST(1) / ST(0)
      return y.st64();
    };
    expect(third(0)).toBe(1 / 3);
    expect(third(1)).toBe(1 / 3); // 1/3 double is below the exact value: down == nearest
    expect(third(2)).toBeGreaterThan(1 / 3);
    expect(third(3)).toBe(1 / 3);
  });

  it('FLD m32/m64 of a denormal reports DE and normalizes; of an SNaN reports IE and quiets it', () => {
    const x = new X87().fld64(5e-324);
    expect(x.sw() & 0x02).toBe(0x02);
    expect(x.st(0)).toEqual({ sx: 16383 - 1074, sig: J });
    const y = new X87();
    y.host.write32(SCRATCH, 0x7f800001);
    y.op(0xd9, X87.mem(0));
    expect(y.sw() & 0x01).toBe(1);
    expect(y.st(0)).toEqual({ sx: 0x7fff, sig: J | (1n << 62n) | (1n << 40n) });
  });

  it('FST m32 overflow: masked gives infinity with OE/PE; unmasked stores nothing', () => {
    const x = new X87().fld64(1e300);
    x.host.write32(SCRATCH, 0x12345678);
    x.op(0xd9, X87.mem(2));
    expect(x.host.read32(SCRATCH)).toBe(0x7f800000);
    expect(x.sw() & 0x3f).toBe(0x28);
    const y = new X87().fldcw(0x0377).fld64(1e300);
    y.host.write32(SCRATCH, 0x12345678);
    y.op(0xd9, X87.mem(3));
    expect(y.host.read32(SCRATCH)).toBe(0x12345678);
    expect(y.sw() & 0xbf).toBe(0x88); // OE + ES
    expect(y.top()).toBe(7); // FSTP did not pop
  });

  it('FILD/FIST handle all widths, rounding and the integer indefinite', () => {
    const x = new X87();
    x.host.write32(SCRATCH, 0);
    x.host.write32(SCRATCH + 4, 0x80000000);
    x.op(0xdf, X87.mem(5)); // FILD m64 INT64_MIN
    expect(x.st(0)).toEqual({ sx: 0xc03e, sig: J });
    x.op(0xdf, X87.mem(7)); // FISTP m64
    expect(x.host.read32(SCRATCH + 4)).toBe(0x80000000);
    expect(x.sw() & 0x01).toBe(0);
    const y = new X87().fld64(2.5);
    y.op(0xdf, X87.mem(2)); // FIST m16, nearest-even
    expect(y.host.read16(SCRATCH)).toBe(2);
    expect(y.sw() & 0x20).toBe(0x20);
    y.fld64(40000);
    y.op(0xdf, X87.mem(3)); // out of int16 range
    expect(y.host.read16(SCRATCH)).toBe(0x8000);
    expect(y.sw() & 0x01).toBe(1);
    const z = new X87().fldcw(0x037f | (1 << 10)).fld64(-2.5);
    z.op(0xdb, X87.mem(2)); // FIST m32, round down
    expect(z.host.read32(SCRATCH) | 0).toBe(-3);
  });

  it('FISTTP (SSE3) and reserved memory forms raise #UD', () => {
    for (const [esc, reg] of [[0xdb, 1], [0xdd, 1], [0xdf, 1], [0xd9, 1], [0xdb, 4], [0xdb, 6], [0xdd, 5]] as const) {
      expect(() => new X87().op(esc, X87.mem(reg))).toThrow(expect.objectContaining({ vector: 6 }));
    }
  });

  it('FBLD/FBSTP convert packed BCD, with the BCD indefinite for out-of-range values', () => {
    const x = new X87();
    const bcd = [0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0x80]; // -123456789
    bcd.forEach((b, i) => x.host.write8(SCRATCH + i, b));
    x.op(0xdf, X87.mem(4));
    expect(x.stNumber(0)).toBe(-123456789);
    x.op(0xdf, X87.mem(6));
    expect(Array.from(x.host.mem.subarray(SCRATCH, SCRATCH + 10))).toEqual(bcd);
    const y = new X87().fld64(1e19);
    y.op(0xdf, X87.mem(6));
    expect(Array.from(y.host.mem.subarray(SCRATCH + 7, SCRATCH + 10))).toEqual([0xc0, 0xff, 0xff]);
    expect(y.sw() & 0x01).toBe(1);
  });

  it('constants follow the rounding control', () => {
    const pi = (rc: number): bigint => new X87().fldcw(0x037f | (rc << 10)).op(0xd9, 0xeb).st(0).sig;
    expect(pi(0)).toBe(0xc90fdaa22168c235n);
    expect(pi(1)).toBe(0xc90fdaa22168c234n);
    expect(pi(2)).toBe(0xc90fdaa22168c235n);
    expect(pi(3)).toBe(0xc90fdaa22168c234n);
    const x = new X87();
    for (let m = 0xe8; m <= 0xee; m++) x.op(0xd9, m);
    expect(x.stNumber(0)).toBe(0); // FLDZ
    expect(x.stNumber(6)).toBe(1); // FLD1
    expect(x.sw() & 0x3f).toBe(0);
  });

  it('stack overflow pushes the indefinite with IE+SF and C1=1; underflow sets C1=0', () => {
    const x = new X87();
    for (let i = 0; i < 9; i++) x.op(0xd9, 0xe8);
    expect(x.sw() & 0x241).toBe(0x241);
    expect(x.st(0)).toEqual({ sx: 0xffff, sig: 0xc000000000000000n });
    const y = new X87();
    y.op(0xd9, 0xe0); // FCHS on an empty stack
    expect(y.sw() & 0x241).toBe(0x041);
  });
});

describe('the direct FLD/FST/FSTP m64real entries (Fpu.loadF64/storeF64, the CPU\'s shortcut)', () => {
  // Each case: a random x87 state (registers from the comparison's generator, random empty
  // registers, TOP, control word, pending exceptions) and a random or special double in memory.
  // The entry and execute() must leave the same state, memory and fault behind.
  const doubles = (rng: Rng): [number, number] => {
    const pick = rng.int(8);
    const hi = pick === 0 ? (rng.int(2) << 31) | (0x7ff << 20) | (rng.u32() & 0xfffff) // NaN or infinity
      : pick === 1 ? (rng.int(2) << 31) | (rng.u32() & 0xfffff) // denormal or zero
      : pick === 2 ? (rng.int(2) << 31) >>> 0 : rng.u32();
    return [hi >>> 0, pick === 2 || (pick === 1 && rng.int(2) === 0) ? 0 : rng.u32()];
  };
  const state = (rng: Rng): FpuStateSnapshot => {
    const values = Array.from({ length: 8 }, () => (rng.int(3) === 0 ? { sx: 0x3ff0 + rng.int(32), sig: J | (rng.sig64() & ~0x7ffn) } : gen80(rng)));
    return {
      version: 1, signExponent: values.map((v) => v.sx), significandHigh: values.map((v) => Number(v.sig >> 32n)),
      significandLow: values.map((v) => Number(v.sig & 0xffffffffn)), emptyMask: rng.int(4) === 0 ? 0xff : rng.int(256),
      controlWord: rng.int(4) === 0 ? rng.int(0x10000) : 0x37f | (rng.int(4) << 10), statusWord: rng.int(8) === 0 ? rng.int(0x10000) : rng.int(8) << 11,
      lastInstructionPointer: 0, lastCodeSelector: 0, lastDataPointer: 0, lastDataSelector: 0, lastOpcode: 0,
    };
  };
  const outcome = (f: () => void, fpu: Fpu, host: FakeHost): unknown => {
    let thrown: unknown = null;
    try { f(); } catch (e) { thrown = e instanceof FakeFault ? e.vector : String(e); }
    return { thrown, state: fpu.saveState(), memory: Array.from(host.mem.subarray(0x100, 0x110)), ferr: host.ferrSignals };
  };

  it('leave the same state as execute() on 20,000 random cases, including faults and pending exceptions', () => {
    const rng = new Rng(0x64);
    let direct = 0;
    for (let k = 0; k < 20000; k++) {
      const s = state(rng), [hi, lo] = doubles(rng), reg = [0, 2, 3][rng.int(3)]!, modrm = (reg << 3) | 5;
      const ea = rng.int(16) === 0 ? 0xffc : 0x100; // 0xffc: the access faults (FakeHost.faultFrom)
      const run = (viaEntry: boolean): unknown => {
        const fpu = new Fpu(), host = new FakeHost();
        host.cr0 = rng.int(2) === 0 ? 0x21 : 0x01;
        host.faultFrom = 0x1000;
        fpu.restoreState(s);
        host.write32(0x100, lo);
        host.write32(0x104, hi);
        return outcome(() => {
          const done = viaEntry && (reg === 0 ? fpu.loadF64(host, ea, modrm, 0x1234, 0x23, 0x2b) : fpu.storeF64(host, ea, modrm, reg === 3, 0x1234, 0x23, 0x2b));
          if (done) direct++;
          else fpu.execute(host, 0xdd, modrm, ea, true, true, 0x1234, 0x23, 0x2b);
        }, fpu, host);
      };
      const seed = rng.u32();
      const rngState = (): void => { (rng as unknown as { s: number }).s = seed; };
      rngState();
      const expected = run(false);
      rngState();
      expect(run(true), `case ${k}: reg ${reg}, double ${hi.toString(16)}:${lo.toString(16)}, ea ${ea.toString(16)}`).toEqual(expected);
    }
    // Most cases take the entries (the rest have an exception pending and go through execute()).
    expect(direct).toBeGreaterThan(15000);
  });
});
