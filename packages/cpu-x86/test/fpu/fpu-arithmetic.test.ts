import { describe, expect, it } from 'vitest';
import { SCRATCH, X87 } from './x87-driver.js';

const J = 1n << 63n;

describe('x87 arithmetic', () => {
  it('rounds to the precision control: 1/3 at 24, 53 and 64 bits', () => {
    const third = (pc: number): bigint => new X87().fldcw(0x007f | (pc << 8)).fld64(1).fld64(3).op(0xde, 0xf9).st(0).sig;
    expect(third(0)).toBe(0xaaaaab0000000000n);
    expect(third(2)).toBe(0xaaaaaaaaaaaaa800n);
    expect(third(3)).toBe(0xaaaaaaaaaaaaaaabn);
  });

  it('C1 reports a rounded-up result and PE an inexact one', () => {
    const x = new X87().fld64(2).fld64(3).op(0xde, 0xf9); // 2/3 rounds up at 64 bits
    expect(x.sw() & 0x220).toBe(0x220);
    const y = new X87().fld64(1).fld64(4).op(0xde, 0xf9); // 0.25: exact
    expect(y.sw() & 0x220).toBe(0);
    expect(y.stNumber(0)).toBe(0.25);
  });

  it('add/sub/mul/div/sqrt of extended values are exact-then-rounded', () => {
    // (2^64 - 1) as extended + 0.5: the tie rounds to even at 64 bits.
    const x = new X87().fld80(0x403e, (1n << 64n) - 1n).fld64(0.5).op(0xde, 0xc1);
    expect(x.st(0)).toEqual({ sx: 0x403f, sig: J });
    const s = new X87().fld64(2).op(0xd9, 0xfa);
    expect(s.st(0)).toEqual({ sx: 0x3fff, sig: 0xb504f333f9de6484n });
    const m = new X87().fld80(0x3fff, 0xffffffffffffffffn).fld80(0x3fff, 0xffffffffffffffffn).op(0xde, 0xc9);
    expect(m.st(0)).toEqual({ sx: 0x4000, sig: 0xfffffffffffffffen });
    const d = new X87().fld64(10).fld64(1).op(0xd8, 0xe1); // ST0 = 1 - 10
    expect(d.stNumber(0)).toBe(-9);
  });

  it('signals zero divide and invalid with the masked responses', () => {
    const z = new X87().fld64(-1).fld64(0).op(0xde, 0xf9); // -1 / 0
    expect(z.sw() & 0x3f).toBe(0x04);
    expect(z.stNumber(0)).toBe(-Infinity);
    const i = new X87().fld64(0).fld64(0).op(0xde, 0xf9);
    expect(i.sw() & 0x3f).toBe(0x01);
    expect(i.st(0)).toEqual({ sx: 0xffff, sig: 0xc000000000000000n });
    const n = new X87().fld64(-4).op(0xd9, 0xfa);
    expect(n.sw() & 1).toBe(1);
  });

  it('masked underflow gives a denormal; unmasked underflow wraps the exponent by 24576', () => {
    const tiny = (cw: number): X87 => new X87().fldcw(cw).fld80(0x0001, J | 3n).fld64(0.75).op(0xde, 0xc9);
    const masked = tiny(0x037f);
    expect(masked.st(0).sx).toBe(0);
    expect(masked.sw() & 0x30).toBe(0x30);
    const unmasked = tiny(0x036f);
    expect(unmasked.st(0).sx).toBe(0x6000);
    expect(unmasked.sw() & 0x90).toBe(0x90);
  });

  it('NaN operands propagate the larger significand as a quiet NaN', () => {
    const x = new X87().fld80(0x7fff, J | 5n).fld80(0xffff, J | (1n << 62n) | 9n).op(0xde, 0xc1);
    expect(x.st(0)).toEqual({ sx: 0xffff, sig: J | (1n << 62n) | 9n });
    expect(x.sw() & 1).toBe(1); // the SNaN still signals
  });

  it('compares set C3/C2/C0 and FCOMI sets ZF/PF/CF', () => {
    const x = new X87().fld64(2).fld64(1).op(0xd8, 0xd1); // FCOM: 1 < 2
    expect(x.sw() & 0x4500).toBe(0x0100);
    x.op(0xdb, 0xf1); // FCOMI
    expect(x.host.eflags & 0x45).toBe(0x01);
    x.op(0xde, 0xd9); // FCOMPP
    expect(x.top()).toBe(0);
    const u = new X87().fld80(0x7fff, J | (1n << 62n)).fld64(1).op(0xdd, 0xe1); // FUCOM with QNaN
    expect(u.sw() & 0x4501).toBe(0x4500);
    const c = new X87().fld80(0x7fff, J | (1n << 62n)).fld64(1).op(0xd8, 0xd1); // FCOM with QNaN
    expect(c.sw() & 0x4501).toBe(0x4501);
  });

  it('FXAM classifies, FTST compares with zero, FCHS/FABS touch only the sign', () => {
    const cls = (sx: number, sig: bigint): number => new X87().fld80(sx, sig).op(0xd9, 0xe5).sw() & 0x4700;
    expect(cls(0x3fff, J)).toBe(0x0400);
    expect(cls(0x8000, 0n)).toBe(0x4200);
    expect(cls(0x0000, 1n)).toBe(0x4400);
    expect(cls(0x7fff, J)).toBe(0x0500);
    expect(cls(0x7fff, J | 1n)).toBe(0x0100);
    expect(cls(0x3fff, 1n)).toBe(0x0000);
    expect(new X87().op(0xd9, 0xe5).sw() & 0x4500).toBe(0x4100);
    expect(new X87().fld64(-3).op(0xd9, 0xe4).sw() & 0x4500).toBe(0x0100);
    expect(new X87().fld64(-3).op(0xd9, 0xe1).stNumber(0)).toBe(3);
  });

  it('FPREM gives exact partial remainders and quotient bits', () => {
    const x = new X87().fld64(3).fld64(17).op(0xd9, 0xf8); // 17 rem 3 = 2, q = 5 (101b)
    expect(x.stNumber(0)).toBe(2);
    expect(x.sw() & 0x4700).toBe(0x0300); // C0=1 (q2), C3=0 (q1), C1=1 (q0), C2=0
    const y = new X87().fld64(3).fld64(-17).op(0xd9, 0xf5); // FPREM1: -17 - (-6)*3 = 1
    expect(y.stNumber(0)).toBe(1);
    const big = new X87().fld64(3).fld64(2 ** 200).op(0xd9, 0xf8);
    expect(big.sw() & 0x400).toBe(0x400); // incomplete
    for (let k = 0; k < 10 && (big.sw() & 0x400) !== 0; k++) big.op(0xd9, 0xf8);
    expect(big.stNumber(0)).toBe(Number(2n ** 200n % 3n));
  });

  it('FSCALE, FXTRACT and FRNDINT are exact', () => {
    expect(new X87().fld64(-3.5).fld64(5.75).op(0xd9, 0xfd).stNumber(0)).toBe(5.75 / 8);
    const x = new X87().fld64(-12).op(0xd9, 0xf4);
    expect(x.stNumber(0)).toBe(-1.5);
    expect(x.stNumber(1)).toBe(3);
    expect(new X87().fld64(2.5).op(0xd9, 0xfc).stNumber(0)).toBe(2);
    expect(new X87().fldcw(0x0b7f).fld64(2.1).op(0xd9, 0xfc).stNumber(0)).toBe(3);
  });

  it('trigonometric functions leave |x| >= 2^63 unchanged with C2 set', () => {
    const x = new X87().fld64(2 ** 64).op(0xd9, 0xfe);
    expect(x.sw() & 0x400).toBe(0x400);
    expect(x.stNumber(0)).toBe(2 ** 64);
    const y = new X87().fld64(1).op(0xd9, 0xfb); // FSINCOS
    expect(y.stNumber(0)).toBeCloseTo(Math.cos(1), 15);
    expect(y.stNumber(1)).toBeCloseTo(Math.sin(1), 15);
  });

  it('FCMOVcc copies ST(i) when the EFLAGS condition holds', () => {
    const x = new X87().fld64(7).fld64(1);
    x.host.eflags = 0x41; // ZF CF
    x.op(0xda, 0xc9); // FCMOVE
    expect(x.stNumber(0)).toBe(7);
    const y = new X87().fld64(7).fld64(1);
    y.host.eflags = 0x2;
    y.op(0xda, 0xc1); // FCMOVB: CF clear, no move
    expect(y.stNumber(0)).toBe(1);
  });

  it('integer and memory operands: FIADD m16, FIDIVR m32, FSUBR m32', () => {
    const x = new X87().fld64(1.5);
    x.host.write16(SCRATCH, 0xfffe); // -2
    x.op(0xde, X87.mem(0));
    expect(x.stNumber(0)).toBe(-0.5);
    x.host.write32(SCRATCH, 3);
    x.op(0xda, X87.mem(7)); // 3 / -0.5
    expect(x.stNumber(0)).toBe(-6);
    x.host.putF32(SCRATCH, 1);
    x.op(0xd8, X87.mem(5)); // 1 - (-6)
    expect(x.stNumber(0)).toBe(7);
  });
});
