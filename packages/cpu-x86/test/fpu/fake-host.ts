import type { FpuHost } from '../../src/fpu/fpu-host.js';

/** Thrown by FakeHost.raise() in place of the CPU's fault sentinel. */
export class FakeFault extends Error {
  constructor(readonly vector: number) {
    super(`CPU exception ${vector}`);
  }
}

/** A flat little-endian memory and the bits of CPU state the FPU touches. */
export class FakeHost implements FpuHost {
  readonly mem: Uint8Array;
  cr0 = 0x21; // PE | NE
  eflags = 0x2;
  ax = 0;
  ferrSignals = 0;
  /** Accesses at or above this address fault with #PF (to test restartability). */
  faultFrom = Infinity;

  constructor(size = 0x10000) {
    this.mem = new Uint8Array(size);
  }

  private check(a: number, n: number): void {
    if (a + n > this.faultFrom || a < 0 || a + n > this.mem.length) throw new FakeFault(14);
  }

  read8(a: number): number {
    this.check(a, 1);
    return this.mem[a]!;
  }
  read16(a: number): number {
    this.check(a, 2);
    return this.mem[a]! | (this.mem[a + 1]! << 8);
  }
  read32(a: number): number {
    this.check(a, 4);
    return (this.mem[a]! | (this.mem[a + 1]! << 8) | (this.mem[a + 2]! << 16) | (this.mem[a + 3]! << 24)) >>> 0;
  }
  write8(a: number, v: number): void {
    this.check(a, 1);
    this.mem[a] = v;
  }
  write16(a: number, v: number): void {
    this.check(a, 2);
    this.mem[a] = v;
    this.mem[a + 1] = v >>> 8;
  }
  write32(a: number, v: number): void {
    this.check(a, 4);
    for (let i = 0; i < 4; i++) this.mem[a + i] = v >>> (8 * i);
  }
  raise(vector: number): never {
    throw new FakeFault(vector);
  }
  setEflagsZPC(zf: boolean, pf: boolean, cf: boolean): void {
    this.eflags = (this.eflags & ~0x8d5) | (zf ? 0x40 : 0) | (pf ? 0x04 : 0) | (cf ? 0x01 : 0);
  }
  readEflags(): number {
    return this.eflags;
  }
  setAx(value: number): void {
    this.ax = value & 0xffff;
  }
  signalFerr(): void {
    this.ferrSignals++;
  }

  /** Writes an 80-bit value given as sign/exponent and 64-bit significand. */
  put80(a: number, sx: number, sig: bigint): void {
    this.write32(a, Number(sig & 0xffffffffn));
    this.write32(a + 4, Number(sig >> 32n));
    this.write16(a + 8, sx);
  }

  get80(a: number): { sx: number; sig: bigint } {
    return { sx: this.read16(a + 8), sig: (BigInt(this.read32(a + 4)) << 32n) | BigInt(this.read32(a)) };
  }

  putF64(a: number, x: number): void {
    new DataView(this.mem.buffer).setFloat64(a, x, true);
  }
  getF64(a: number): number {
    return new DataView(this.mem.buffer).getFloat64(a, true);
  }
  putF32(a: number, x: number): void {
    new DataView(this.mem.buffer).setFloat32(a, x, true);
  }
  getF32(a: number): number {
    return new DataView(this.mem.buffer).getFloat32(a, true);
  }
}
