import {
  BUSY, C0, C1, C2, C3, CLS_NORMAL, CLS_ZERO, ES, classify,
} from './float80.js';

/** Condition-code bits of the status word. */
export const CC_MASK = C0 | C1 | C2 | C3;

/**
 * Where FpuRegisters keeps its state, as byte offsets from its start (FPU_BYTES in all): the three
 * register arrays, then the scalars as i32 (FPU_WORD + 4 x FPU_*). The CPU places them in its
 * memory's host area (wasm/host-area.ts HOST.fpu), where translated code runs the commonest x87
 * loads and stores itself (wasm/hot-blocks.ts).
 */
export const FPU_SX = 0, FPU_HI = 16, FPU_LO = 48, FPU_WORD = 80;
export const FPU_EMPTY = 0, FPU_TOP = 1, FPU_CW = 2, FPU_SW = 3, FPU_FIP = 4, FPU_FCS = 5, FPU_FDP = 6, FPU_FDS = 7, FPU_FOP = 8;
export const FPU_BYTES = FPU_WORD + 9 * 4;

/** Memory for FpuRegisters: `FPU_BYTES` bytes at `byteOffset` (a multiple of 4) of `buffer`. */
export interface FpuStorage { readonly buffer: ArrayBufferLike; readonly byteOffset: number }

/**
 * The architectural x87 state: eight physical 80-bit registers, TOP, control/status words, the
 * empty bits of the tag word, and the last-instruction/last-operand pointers.
 *
 * Full 2-bit tags are not stored: as on P6 and later, they are derived from the register contents
 * whenever FSTENV/FSAVE report them; only "empty" is architectural state.
 */
export class FpuRegisters {
  /** Sign | biased exponent of each physical register. */
  readonly sx: Uint16Array;
  /** Significand bits 63..32 (bit 63 is the explicit integer bit). */
  readonly hi: Uint32Array;
  /** Significand bits 31..0. */
  readonly lo: Uint32Array;
  /**
   * The scalar fields below by FPU_EMPTY, FPU_TOP...: the FPU's own code indexes them directly (its
   * large functions would spend V8's inlining budget on the accessors). fip and fdp read back signed.
   */
  readonly words: Int32Array;
  /** Where the state is (its own buffer unless one was given). */
  readonly storage: FpuStorage;

  constructor(storage?: FpuStorage) {
    this.storage = storage ?? { buffer: new ArrayBuffer(FPU_BYTES), byteOffset: 0 };
    const { buffer, byteOffset } = this.storage;
    this.sx = new Uint16Array(buffer, byteOffset + FPU_SX, 8);
    this.hi = new Uint32Array(buffer, byteOffset + FPU_HI, 8);
    this.lo = new Uint32Array(buffer, byteOffset + FPU_LO, 8);
    this.words = new Int32Array(buffer, byteOffset + FPU_WORD, 9);
    this.emptyMask = 0xff;
    this.cw = 0x037f;
  }

  /** Bit i set: physical register i is empty. */
  get emptyMask(): number { return this.words[FPU_EMPTY]!; }
  set emptyMask(v: number) { this.words[FPU_EMPTY] = v; }
  get top(): number { return this.words[FPU_TOP]!; }
  set top(v: number) { this.words[FPU_TOP] = v; }
  get cw(): number { return this.words[FPU_CW]!; }
  set cw(v: number) { this.words[FPU_CW] = v; }
  /** Status word without TOP, ES and B (those are derived). */
  get sw(): number { return this.words[FPU_SW]!; }
  set sw(v: number) { this.words[FPU_SW] = v; }
  // (The two 32-bit pointers read back unsigned; every other field is far below 2^31.)
  get fip(): number { return this.words[FPU_FIP]! >>> 0; }
  set fip(v: number) { this.words[FPU_FIP] = v; }
  get fcs(): number { return this.words[FPU_FCS]!; }
  set fcs(v: number) { this.words[FPU_FCS] = v; }
  get fdp(): number { return this.words[FPU_FDP]! >>> 0; }
  set fdp(v: number) { this.words[FPU_FDP] = v; }
  get fds(): number { return this.words[FPU_FDS]!; }
  set fds(v: number) { this.words[FPU_FDS] = v; }
  /** Last non-control opcode: ((escape & 7) << 8) | modrm, 11 bits. */
  get fop(): number { return this.words[FPU_FOP]!; }
  set fop(v: number) { this.words[FPU_FOP] = v; }

  reset(): void {
    this.words[FPU_CW] = 0x037f;
    this.words[FPU_SW] = 0;
    this.words[FPU_TOP] = 0;
    this.words[FPU_EMPTY] = 0xff;
    this.words[FPU_FIP] = 0;
    this.words[FPU_FCS] = 0;
    this.words[FPU_FDP] = 0;
    this.words[FPU_FDS] = 0;
    this.words[FPU_FOP] = 0;
  }

  /** Physical index of ST(i). */
  phys(i: number): number {
    return (this.words[FPU_TOP] + i) & 7;
  }

  isEmpty(i: number): boolean {
    return ((this.words[FPU_EMPTY] >>> ((this.words[FPU_TOP] + i) & 7)) & 1) !== 0;
  }

  /** An unmasked exception is pending (ES). */
  pending(): boolean {
    return (this.words[FPU_SW] & ~this.words[FPU_CW] & 0x3f) !== 0;
  }

  statusWord(): number {
    let w = (this.words[FPU_SW] & 0x477f) | (this.words[FPU_TOP] << 11);
    if (this.pending()) w |= ES | BUSY;
    return w;
  }

  /** Loads a status word (FLDENV/FRSTOR/FXRSTOR); ES and B are recomputed from flags and masks. */
  setStatusWord(w: number): void {
    this.words[FPU_SW] = w & 0x477f;
    this.words[FPU_TOP] = (w >>> 11) & 7;
  }

  /** Control word as stored: reserved bits 6, 13-15 read as 0 except bit 6 which reads 1. */
  setControlWord(w: number): void {
    this.words[FPU_CW] = (w & 0x1f3f) | 0x40;
  }

  /** 2-bit tag of physical register p: 0 valid, 1 zero, 2 special, 3 empty. */
  tagOf(p: number): number {
    if (((this.words[FPU_EMPTY] >>> p) & 1) !== 0) return 3;
    const cls = classify(this.sx[p]!, this.hi[p]!, this.lo[p]!);
    return cls === CLS_NORMAL ? 0 : cls === CLS_ZERO ? 1 : 2;
  }

  tagWord(): number {
    let w = 0;
    for (let p = 0; p < 8; p++) w |= this.tagOf(p) << (2 * p);
    return w;
  }

  /** FLDENV/FRSTOR: only "empty" (11) matters; other tags are recomputed from contents. */
  setTagWord(w: number): void {
    let m = 0;
    for (let p = 0; p < 8; p++) if (((w >>> (2 * p)) & 3) === 3) m |= 1 << p;
    this.words[FPU_EMPTY] = m;
  }

  /** FXSAVE abridged tag: bit p set when physical register p is not empty. */
  abridgedTag(): number {
    return ~this.words[FPU_EMPTY] & 0xff;
  }

  setAbridgedTag(t: number): void {
    this.words[FPU_EMPTY] = ~t & 0xff;
  }

  setPhys(p: number, sx: number, hi: number, lo: number): void {
    this.sx[p] = sx;
    this.hi[p] = hi;
    this.lo[p] = lo;
    this.words[FPU_EMPTY] &= ~(1 << p);
  }
}
