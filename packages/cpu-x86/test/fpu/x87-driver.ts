import { Fpu } from '../../src/fpu/fpu.js';
import { FakeHost } from './fake-host.js';

/** Scratch addresses in the fake memory. */
export const SCRATCH = 0x800;
export const AREA = 0x1000;

/** Drives an Fpu through FakeHost with instruction-level helpers (32-bit protected mode). */
export class X87 {
  readonly fpu = new Fpu();
  readonly host = new FakeHost();
  ip = 0x1000;

  /** Executes escape/modrm with the memory operand at ea. */
  op(esc: number, modrm: number, ea = SCRATCH, o32 = true, pm = true): this {
    this.fpu.execute(this.host, esc, modrm, ea, o32, pm, this.ip, 0x1b, 0x23);
    this.ip += 2;
    return this;
  }

  /** A memory-form ModR/M for reg field `reg`. */
  static mem(reg: number): number {
    return (reg << 3) | 5;
  }

  fldcw(cw: number): this {
    this.host.write16(SCRATCH + 0x100, cw);
    return this.op(0xd9, X87.mem(5), SCRATCH + 0x100);
  }

  fld64(x: number): this {
    this.host.putF64(SCRATCH, x);
    return this.op(0xdd, X87.mem(0));
  }

  fld32(x: number): this {
    this.host.putF32(SCRATCH, x);
    return this.op(0xd9, X87.mem(0));
  }

  fld80(sx: number, sig: bigint): this {
    this.host.put80(SCRATCH, sx, sig);
    return this.op(0xdb, X87.mem(5));
  }

  fildInt32(v: number): this {
    this.host.write32(SCRATCH, v >>> 0);
    return this.op(0xdb, X87.mem(0));
  }

  /** FST m64 (no pop) and read back the double. */
  st64(): number {
    this.op(0xdd, X87.mem(2));
    return this.host.getF64(SCRATCH);
  }

  /** FSTP m80 of ST(0), returned. */
  pop80(): { sx: number; sig: bigint } {
    this.op(0xdb, X87.mem(7));
    return this.host.get80(SCRATCH);
  }

  /** ST(i) without side effects (through the register file). */
  st(i: number): { sx: number; sig: bigint } {
    const r = this.fpu.registers;
    const p = r.phys(i);
    return { sx: r.sx[p]!, sig: (BigInt(r.hi[p]!) << 32n) | BigInt(r.lo[p]!) };
  }

  stNumber(i: number): number {
    const v = this.st(i);
    const e = v.sx & 0x7fff;
    const mag = Number(v.sig) * 2 ** (Math.max(e, 1) - 16383 - 63);
    return (v.sx & 0x8000) !== 0 ? -mag : mag;
  }

  sw(): number {
    return this.fpu.registers.statusWord();
  }

  top(): number {
    return (this.sw() >>> 11) & 7;
  }

  tagWord(): number {
    return this.fpu.registers.tagWord();
  }
}
