import { describe, expect, it } from 'vitest';
import { FpuSnapshotError } from '../../src/fpu/fpu-state.js';
import { AREA, SCRATCH, X87 } from './x87-driver.js';

const J = 1n << 63n;

describe('x87 control, environment and exceptions', () => {
  it('an unmasked exception is pending until the next waiting instruction raises #MF', () => {
    const x = new X87().fldcw(0x037b).fld64(1).fld64(0).op(0xde, 0xf9); // ZE unmasked: 1/0
    expect(x.sw() & 0x8084).toBe(0x8084); // B, ES, ZE
    expect(x.stNumber(1)).toBe(1); // destination untouched, no pop
    expect(x.top()).toBe(6);
    expect(() => x.op(0xd9, 0xe8)).toThrow(expect.objectContaining({ vector: 16 }));
    expect(() => x.fpu.fwait(x.host)).toThrow(expect.objectContaining({ vector: 16 }));
    x.op(0xdd, X87.mem(7)); // FNSTSW does not wait
    expect(x.host.read16(SCRATCH) & 0x80).toBe(0x80);
    x.op(0xdb, 0xe2); // FNCLEX
    expect(x.sw() & 0x80ff).toBe(0);
    x.op(0xd9, 0xe8); // now fine
  });

  it('with CR0.NE = 0 a pending exception signals FERR# and execution continues', () => {
    const x = new X87().fldcw(0x037b).fld64(1).fld64(0).op(0xde, 0xf9);
    x.host.cr0 = 0x11;
    x.op(0xd9, 0xe8);
    expect(x.host.ferrSignals).toBe(1);
  });

  it('FLDCW unmasking a set flag makes it pending (ES)', () => {
    const x = new X87().fld64(2).op(0xd9, 0xfa); // PE
    expect(x.sw() & 0x80).toBe(0);
    x.fldcw(0x035f);
    expect(x.sw() & 0x80a0).toBe(0x80a0);
  });

  it('FNSTSW AX and FNSTCW', () => {
    const x = new X87().fld64(1);
    x.op(0xdf, 0xe0);
    expect(x.host.ax).toBe(0x3800);
    x.op(0xd9, X87.mem(7));
    expect(x.host.read16(SCRATCH)).toBe(0x037f);
  });

  it('FNSTENV (32-bit protected mode) reports derived tags and masks all exceptions', () => {
    const x = new X87().fldcw(0x0360).fld64(0).fld64(1).fld80(0x7fff, J);
    x.op(0xd9, X87.mem(6), AREA);
    expect(x.host.read32(AREA)).toBe(0xffff0360);
    expect(x.host.read16(AREA + 8)).toBe((2 << 10) | (0 << 12) | (1 << 14) | 0x3ff); // phys 5 special, 6 valid, 7 zero
    expect(x.host.read32(AREA + 12)).toBe(x.ip - 4); // FIP of the last FLD (FNSTENV is a control instruction)
    expect(x.host.read16(AREA + 16)).toBe(0x1b);
    expect(x.host.read16(AREA + 18)).toBe(0x32d); // FOP of FLD m80 (DB 2D)
    expect(x.host.read32(AREA + 20)).toBe(SCRATCH);
    expect(x.fpu.registers.cw & 0x3f).toBe(0x3f);
  });

  it('FNSAVE/FRSTOR round-trip in all four layouts; FNSAVE reinitializes', () => {
    for (const [o32, pm] of [[true, true], [true, false], [false, true], [false, false]] as const) {
      const x = new X87().fldcw(0x0a7f).fld64(1.25).fld80(0x0000, 5n).fld64(-7);
      const before = x.fpu.saveState();
      x.op(0xdd, X87.mem(6), AREA, o32, pm);
      expect(x.fpu.registers.emptyMask).toBe(0xff);
      expect(x.fpu.registers.cw).toBe(0x037f);
      x.op(0xdd, X87.mem(4), AREA, o32, pm);
      const after = x.fpu.saveState();
      expect(after.signExponent).toEqual(before.signExponent);
      expect(after.significandLow).toEqual(before.significandLow);
      expect(after.statusWord).toBe(before.statusWord);
      expect(after.controlWord).toBe(before.controlWord);
      expect(after.emptyMask).toBe(before.emptyMask);
      expect(after.lastDataPointer).toBe(before.lastDataPointer & (o32 ? 0xffffffff : pm ? 0xffff : 0xfffff));
    }
  });

  it('real-mode FSTENV stores a linear FIP (CS * 16 + IP) with FOP beside it', () => {
    const x = new X87();
    x.fpu.execute(x.host, 0xd9, 0xe8, 0, false, false, 0x0123, 0x1000, 0); // FLD1 at 1000:0123
    x.op(0xd9, X87.mem(6), AREA, false, false);
    expect(x.host.read16(AREA + 6)).toBe(0x0123);
    expect(x.host.read16(AREA + 8)).toBe((0x1 << 12) | 0x1e8);
  });

  it('FXSAVE/FXRSTOR use the 512-byte layout with abridged tags and a reset MXCSR', () => {
    const x = new X87().fld64(3).fld80(0xffff, 0xc000000000000000n);
    x.host.mem.fill(0xaa, AREA, AREA + 512);
    x.fpu.fxsave(x.host, AREA);
    expect(x.host.read16(AREA)).toBe(0x037f);
    expect(x.host.read16(AREA + 2)).toBe(0x3000);
    expect(x.host.read8(AREA + 4)).toBe(0xc0);
    expect(x.host.read32(AREA + 24)).toBe(0x1f80);
    expect(x.host.read32(AREA + 28)).toBe(0);
    expect(x.host.get80(AREA + 32)).toEqual({ sx: 0xffff, sig: 0xc000000000000000n });
    expect(x.host.read16(AREA + 42)).toBe(0);
    expect(x.host.get80(AREA + 48).sx).toBe(0x4000);
    expect(x.host.read8(AREA + 160)).toBe(0xaa); // XMM area untouched
    const y = new X87();
    y.fpu.fxrstor(y.host, AREA);
    // fxrstor read from a different host's memory: copy it first
    y.host.mem.set(x.host.mem.subarray(AREA, AREA + 512), AREA);
    y.fpu.fxrstor(y.host, AREA);
    expect(y.fpu.saveState().signExponent).toEqual(x.fpu.saveState().signExponent);
    expect(y.fpu.registers.emptyMask).toBe(x.fpu.registers.emptyMask);
    expect(y.top()).toBe(6);
  });

  it('a faulting memory operand leaves the FPU unchanged (restartable)', () => {
    const x = new X87().fld64(1);
    const before = x.fpu.saveState();
    x.host.faultFrom = AREA + 50;
    expect(() => x.op(0xdd, X87.mem(4), AREA)).toThrow(expect.objectContaining({ vector: 14 })); // FRSTOR
    expect(x.fpu.saveState()).toEqual(before);
    expect(() => x.op(0xdb, X87.mem(5), AREA + 45)).toThrow(expect.objectContaining({ vector: 14 })); // FLD m80
    expect(x.fpu.saveState().emptyMask).toBe(before.emptyMask);
  });

  it('reserved register encodings raise #UD; FCOMI/FCMOV/FNSTSW AX need their host hooks', () => {
    for (const [esc, modrm] of [[0xd9, 0xd1], [0xd9, 0xe2], [0xd9, 0xef], [0xda, 0xe8], [0xdb, 0xe5], [0xdb, 0xf8], [0xdd, 0xf0], [0xde, 0xd8], [0xdf, 0xe1], [0xdf, 0xf8]]) {
      expect(() => new X87().op(esc!, modrm!)).toThrow(expect.objectContaining({ vector: 6 }));
    }
    const x = new X87().fld64(1).fld64(2);
    const hostWithout = Object.assign(Object.create(null) as object, { raise: x.host.raise.bind(x.host), cr0: 0x21 });
    expect(() => x.fpu.execute(hostWithout as never, 0xdb, 0xf1, 0, true, true, 0, 0, 0)).toThrow(expect.objectContaining({ vector: 6 }));
    expect(() => x.fpu.execute(hostWithout as never, 0xdf, 0xe0, 0, true, true, 0, 0, 0)).toThrow(expect.objectContaining({ vector: 6 }));
    expect(() => x.fpu.execute(hostWithout as never, 0xda, 0xc1, 0, true, true, 0, 0, 0)).toThrow(expect.objectContaining({ vector: 6 }));
  });

  it('FFREE, FINCSTP, FDECSTP, FXCH and the undocumented aliases', () => {
    const x = new X87().fld64(1).fld64(2);
    x.op(0xd9, 0xc9); // FXCH
    expect(x.stNumber(0)).toBe(1);
    x.op(0xdd, 0xc9); // FXCH4 alias
    expect(x.stNumber(0)).toBe(2);
    x.op(0xd9, 0xf7); // FINCSTP
    expect(x.top()).toBe(7);
    expect(x.stNumber(0)).toBe(1);
    x.op(0xd9, 0xf6); // FDECSTP
    x.op(0xdd, 0xc0); // FFREE ST0
    expect(x.tagWord() >>> 12 & 3).toBe(3);
    x.op(0xdf, 0xd8 + 1); // FSTP9 alias: ST1 = ST0 (empty -> underflow, masked indefinite) and pop
    expect(x.sw() & 0x41).toBe(0x41);
  });

  it('snapshots are plain, versioned data and restore exactly', () => {
    const x = new X87().fldcw(0x0c7f).fld64(Math.E).fld80(0x0000, 123n);
    const snap = JSON.parse(JSON.stringify(x.fpu.saveState()));
    const y = new X87();
    y.fpu.restoreState(snap);
    expect(y.fpu.saveState()).toEqual(x.fpu.saveState());
    expect(y.pop80()).toEqual({ sx: 0, sig: 123n });
    expect(() => y.fpu.restoreState({ ...snap, version: 99 })).toThrow(FpuSnapshotError);
  });
});
