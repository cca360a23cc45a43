import { CODE_ADDR, DATA_START, REGION_END, REGION_START, STACK_START } from './layout.js';
import type { DiffCase, MemoryPatch } from './case-format.js';
import { DF, STATUS } from './flags.js';
import type { Rng } from './rng.js';

export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

const BOUNDARY32 = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
];
const BOUNDARY_BYTES = [0, 1, 0x7f, 0x80, 0xff];

/** A register or memory value biased toward the boundaries where flag logic goes wrong. */
export function boundaryValue(rng: Rng): number {
  switch (rng.below(7)) {
    case 0:
    case 1:
      return rng.pick(BOUNDARY32);
    case 2:
      return (rng.pick(BOUNDARY32) + rng.range(-2, 2)) >>> 0;
    case 3:
      return rng.below(64);
    case 4: {
      let v = 0;
      for (let i = 0; i < 4; i++) v |= (rng.bool(0.7) ? rng.pick(BOUNDARY_BYTES) : rng.below(256)) << (i * 8);
      return v >>> 0;
    }
    case 5: {
      // Small signed values in every operand size (sign-extension edges).
      const v = rng.range(-130, 130);
      return v >>> 0;
    }
    default:
      return rng.u32();
  }
}

export function sizeMask(size: number): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

/** Where a ModR/M operand ended up. */
export interface RmOperand {
  mem: boolean;
  /** Register number (mod = 3). */
  reg: number;
  /** Guest address of the memory operand. */
  address: number;
}

export interface MemOptions {
  /** Bytes the access touches starting at the effective address. */
  size: number;
  /** Inclusive range the effective address must lie in; defaults to the data+stack region. */
  lo?: number;
  hi?: number;
  /** LEA: the address need not be in mapped memory, so registers stay random. */
  anyAddress?: boolean;
}

/**
 * Builds one case: initial registers/flags/memory and the instruction bytes. Registers start with
 * boundary-biased random values; a form pins the ones with a role (`fix`) before asking for a memory
 * operand, and the ModR/M encoder solves the remaining address registers or displacement so the
 * effective address lands at a chosen target inside the mapped data or stack page.
 */
export class CaseBuilder {
  readonly regs = new Uint32Array(8);
  eflags: number;
  readonly patches: MemoryPatch[] = [];
  readonly code: number[] = [];
  undefinedFlags = 0;
  undefinedRegs = 0;
  /** Registers whose initial value has a role and must not be re-solved for addressing. */
  private fixed = 1 << ESP;
  /** Sequence mode: pointer registers instructions may not write; addressing limited to them. */
  readonly sequence: boolean;
  private prefixes: number[] = [];
  private body: number[] = [];
  private endAddressPatches: number[] = [];
  private endAddressRegs: number[] = [];
  opcode = '';
  form = '';
  /** Flag bookkeeping for sequences (which flags this instruction reads / defines / leaves undefined). */
  flagsRead = 0;
  flagsWritten = 0;
  flagsUndefined = 0;
  /** Set by a form that cannot produce a valid case with the current state (the generator retries). */
  rejected = false;

  constructor(readonly rng: Rng, sequence = false) {
    this.sequence = sequence;
    for (let r = 0; r < 8; r++) this.regs[r] = boundaryValue(rng);
    this.regs[ESP] = (STACK_START + 0x400 + rng.below(0x800)) & ~(rng.bool(0.9) ? 3 : 0);
    if (sequence) {
      this.regs[ESI] = DATA_START + 0x100 + rng.below(0xe00);
      this.regs[EDI] = DATA_START + 0x100 + rng.below(0xe00);
      this.fixed |= (1 << ESI) | (1 << EDI);
    }
    this.eflags = rng.u32() & (STATUS | DF);
  }

  // ---- instruction bytes ----
  prefix(...bytes: number[]): void {
    this.prefixes.push(...bytes);
  }
  op(...bytes: number[]): void {
    this.body.push(...bytes);
  }
  imm(size: number, value: number): void {
    for (let i = 0; i < size; i++) this.body.push((value >>> (i * 8)) & 0xff);
  }
  /** Operand-size choice for a `v` form: 4 or 2 (emits the 66 prefix). */
  osize(): 2 | 4 {
    if (this.rng.bool(0.35)) {
      this.prefix(0x66);
      return 2;
    }
    return 4;
  }
  /** Ends the instruction: prefixes (in random order) then body go into the code. */
  end(): void {
    const p = this.prefixes;
    for (let i = p.length - 1; i > 0; i--) {
      const j = this.rng.below(i + 1);
      [p[i], p[j]] = [p[j] as number, p[i] as number];
    }
    this.code.push(...p, ...this.body);
    this.prefixes = [];
    this.body = [];
  }
  /** Instructions of the current case so far plus the pending one (for length checks). */
  get length(): number {
    return this.code.length + this.prefixes.length + this.body.length;
  }

  // ---- registers and memory ----
  isFixed(r: number): boolean {
    return (this.fixed & (1 << r)) !== 0;
  }
  fix(r: number, value: number): void {
    if (this.sequence && this.isFixed(r)) {
      this.rejected = true;
      return;
    }
    this.regs[r] = value >>> 0;
    this.fixed |= 1 << r;
  }
  /** Sets the low `size` bytes of register r (upper bytes keep their random value). */
  fixPart(r: number, size: number, value: number): void {
    const m = sizeMask(size);
    this.fix(r, ((this.regs[r] as number) & ~m) | (value & m));
  }
  /** A register that this instruction may write (not a sequence's pointer registers). */
  destReg(size = 4): number {
    if (size === 1) return this.rng.below(8);
    if (!this.sequence) return this.rng.bool(0.06) ? ESP : this.rng.pick([EAX, ECX, EDX, EBX, EBP, ESI, EDI]);
    return this.rng.pick([EAX, ECX, EDX, EBX, EBP]);
  }
  anyReg(): number {
    return this.rng.below(8);
  }
  patch(address: number, size: number, value: number): void {
    const bytes: number[] = [];
    for (let i = 0; i < size; i++) bytes.push((value >>> (i * 8)) & 0xff);
    this.patches.push({ address, bytes });
  }
  patchBytes(address: number, bytes: number[]): void {
    this.patches.push({ address, bytes });
  }
  /** Writes the snippet's end address at `address` once the code length is known (RET targets). */
  patchEndAddress(address: number): void {
    this.endAddressPatches.push(address);
  }

  /** Sets register r to the snippet's end address once the code length is known (JMP/CALL r32). */
  fixEndAddress(r: number): void {
    this.fix(r, 0);
    this.endAddressRegs.push(r);
  }

  /** A ModR/M operand: register (when allowed) or memory with a random addressing form. */
  modrm(regField: number, size: number, options: { mem?: boolean; reg?: boolean; writes?: boolean; mem16ok?: boolean } & Partial<MemOptions> = {}): RmOperand {
    const allowReg = options.reg ?? true;
    const allowMem = options.mem ?? true;
    if (allowReg && (!allowMem || this.rng.bool(0.45))) {
      const r = options.writes ? this.destReg(size) : this.anyReg();
      this.op(0xc0 | (regField << 3) | r);
      return { mem: false, reg: r, address: 0 };
    }
    const address = this.memory(regField, { size, ...options });
    return { mem: true, reg: -1, address };
  }

  /** Emits a memory ModR/M (+SIB, displacement, 67 prefix) and returns the effective address. */
  memory(regField: number, options: MemOptions & { mem16ok?: boolean }): number {
    const rng = this.rng;
    const lo = options.lo ?? REGION_START;
    const hi = options.hi ?? REGION_END - options.size;
    for (let attempt = 0; attempt < 50; attempt++) {
      let target = this.pickTarget(lo, hi, options.size);
      if (!this.sequence && options.mem16ok !== false && rng.bool(0.12)) {
        const encoded = this.memory16(regField, target, options.anyAddress === true);
        if (encoded) {
          this.prefix(0x67);
          this.op(...encoded.bytes);
          return encoded.address;
        }
        continue;
      }
      const encoded = this.memory32(regField, target, options.anyAddress === true);
      if (encoded) {
        this.op(...encoded.bytes);
        target = encoded.address;
        return target;
      }
    }
    // Always encodable: [disp32].
    const target = this.pickTarget(lo, hi, options.size);
    this.op((regField << 3) | 5);
    this.imm(4, target);
    return target;
  }

  private pickTarget(lo: number, hi: number, size: number): number {
    const rng = this.rng;
    if (size > 1 && rng.bool(0.1) && lo <= STACK_START - 1 && hi >= STACK_START - size + 1) {
      return STACK_START - rng.range(1, size - 1); // straddles the page boundary
    }
    let t = rng.range(lo, hi);
    if (rng.bool(0.5)) t = Math.max(lo, t & ~(size >= 4 ? 3 : size - 1));
    return t;
  }

  private regValue(r: number): number {
    return this.regs[r] as number;
  }

  private memory32(regField: number, target: number, anyAddress: boolean): { bytes: number[]; address: number } | null {
    const rng = this.rng;
    if (this.sequence) {
      // Only pointer registers (never written in a sequence) or absolute addresses.
      const form = rng.below(4);
      if (form === 0) return { bytes: [(regField << 3) | 5, ...le(target, 4)], address: target };
      const base = form === 1 ? ESI : form === 2 ? EDI : ESP;
      const baseValue = this.regValue(base);
      const disp = rng.range(-128, 127);
      const address = (baseValue + disp) >>> 0;
      if (!anyAddress && (address < REGION_START || address > REGION_END - 16)) return null;
      if (base === ESP) return { bytes: [0x44 | (regField << 3), 0x24, disp & 0xff], address };
      return { bytes: [0x40 | (regField << 3) | base, disp & 0xff], address };
    }
    const form = rng.below(8);
    if (form === 0) return { bytes: [(regField << 3) | 5, ...le(target, 4)], address: target };
    const dispKind = form === 5 ? 4 : rng.pick([0, 1, 4]); // 0: none, 1: disp8, 4: disp32
    let base = -1;
    let index = -1;
    let scale = 1;
    if (form <= 2) {
      base = rng.pick([EAX, ECX, EDX, EBX, EBP, ESI, EDI]);
      if (base === EBP && dispKind === 0) return null;
    } else if (form === 3) {
      base = ESP; // [esp+disp] through SIB with no index
    } else {
      base = form === 5 ? -1 : rng.below(8);
      index = rng.pick([EAX, ECX, EDX, EBX, EBP, ESI, EDI]);
      scale = rng.pick([1, 2, 4, 8]);
      if (base === EBP && dispKind === 0) return null;
      if (form === 6 && base >= 0 && base !== ESP) index = base; // [r + r*scale]
    }
    // Solve for an unknown so base + index*scale + disp == target.
    let disp = dispKind === 1 ? rng.range(-128, 127) : dispKind === 4 ? rng.u32() : 0;
    const baseFree = base >= 0 && !this.isFixed(base);
    const indexFree = index >= 0 && !this.isFixed(index);
    if (anyAddress) {
      // LEA: keep the random register values; the result is whatever the address arithmetic gives.
    } else if (dispKind === 4) {
      const sum = (base >= 0 ? this.regValue(base) : 0) + (index >= 0 ? Math.imul(this.regValue(index), scale) : 0);
      disp = (target - sum) >>> 0;
    } else if (baseFree && base !== index) {
      const rest = (index >= 0 ? Math.imul(this.regValue(index), scale) : 0) + disp;
      this.regs[base] = (target - rest) >>> 0;
    } else if (baseFree && base === index) {
      const factor = 1 + scale;
      let need = (target - disp) >>> 0;
      if (factor === 2) {
        if (need & 1) {
          if (dispKind !== 1) return null;
          disp += disp < 127 ? 1 : -1;
          need = (target - disp) >>> 0;
        }
        this.regs[base] = ((need >>> 1) + (rng.bool() ? 0x80000000 : 0)) >>> 0;
      } else {
        this.regs[base] = Math.imul(need, inverseOdd(factor)) >>> 0;
      }
    } else if (indexFree) {
      const baseValue = base >= 0 ? this.regValue(base) : 0;
      let need = (target - baseValue - disp) >>> 0;
      const rem = need % scale;
      if (rem !== 0) {
        if (dispKind === 1 && disp + rem <= 127) disp += rem;
        else return null;
        need = (target - baseValue - disp) >>> 0;
      }
      // Any of the `scale` values that wrap to the same product: exercises 32-bit address wrap.
      this.regs[index] = ((need / scale) + rng.below(scale) * (0x100000000 / scale)) >>> 0;
    } else {
      const sum = (base >= 0 ? this.regValue(base) : 0) + (index >= 0 ? Math.imul(this.regValue(index), scale) : 0);
      const d = (target - sum) | 0;
      if (dispKind === 1 && d >= -128 && d <= 127) disp = d;
      else if (dispKind === 0 && d === 0) disp = 0;
      else return null;
    }
    const address = ((base >= 0 ? this.regValue(base) : 0) + (index >= 0 ? Math.imul(this.regValue(index), scale) : 0) + disp) >>> 0;
    const mod = base === -1 ? 0 : dispKind === 0 ? 0 : dispKind === 1 ? 1 : 2;
    const bytes: number[] = [];
    if (index === -1 && base !== ESP) {
      bytes.push((mod << 6) | (regField << 3) | base);
    } else {
      const ss = scale === 1 ? 0 : scale === 2 ? 1 : scale === 4 ? 2 : 3;
      const sibIndex = index === -1 ? 4 : index;
      const sibBase = base === -1 ? 5 : base;
      bytes.push((mod << 6) | (regField << 3) | 4, (ss << 6) | (sibIndex << 3) | sibBase);
    }
    if (base === -1 || dispKind === 4) bytes.push(...le(disp, 4));
    else if (dispKind === 1) bytes.push(disp & 0xff);
    return { bytes, address };
  }

  private memory16(regField: number, target: number, anyAddress: boolean): { bytes: number[]; address: number } | null {
    const rng = this.rng;
    if (target > 0xffff) return null;
    const rm = rng.below(8);
    const mod = rng.below(3);
    if (mod === 0 && rm === 6) return { bytes: [(regField << 3) | 6, ...le(target, 2)], address: target };
    const pairs: number[][] = [[EBX, ESI], [EBX, EDI], [EBP, ESI], [EBP, EDI], [ESI], [EDI], [EBP], [EBX]];
    const regsUsed = pairs[rm] as number[];
    let disp = mod === 1 ? rng.range(-128, 127) : mod === 2 ? rng.below(0x10000) : 0;
    const free = regsUsed.filter((r) => !this.isFixed(r));
    const sumOf = (): number => regsUsed.reduce((s, r) => s + (this.regValue(r) & 0xffff), 0);
    if (!anyAddress) {
      if (free.length > 0) {
        const solve = rng.pick(free);
        const others = regsUsed.filter((r) => r !== solve).reduce((s, r) => s + (this.regValue(r) & 0xffff), 0);
        const low = (target - others - disp) & 0xffff;
        this.regs[solve] = (((this.regs[solve] as number) & 0xffff0000) | low) >>> 0;
      } else if (mod === 2) {
        disp = (target - sumOf()) & 0xffff;
      } else {
        const d = (target - sumOf()) & 0xffff;
        const signed = d >= 0x8000 ? d - 0x10000 : d;
        if (mod === 1 && signed >= -128 && signed <= 127) disp = signed;
        else if (mod === 0 && d === 0) disp = 0;
        else return null;
      }
    }
    const address = (sumOf() + disp) & 0xffff;
    const bytes = [(mod << 6) | (regField << 3) | rm];
    if (mod === 1) bytes.push(disp & 0xff);
    if (mod === 2) bytes.push(...le(disp, 2));
    return { bytes, address };
  }

  // ---- flags bookkeeping ----
  /** Declares this instruction's flag behaviour: reads, defined writes, undefined results. */
  flags(reads: number, writes: number, undefinedFlags = 0): void {
    this.flagsRead |= reads;
    this.flagsWritten |= writes & ~undefinedFlags;
    this.flagsUndefined |= undefinedFlags;
  }

  finish(index: number): DiffCase {
    const end = CODE_ADDR + this.code.length;
    for (const a of this.endAddressPatches) this.patch(a, 4, end);
    for (const r of this.endAddressRegs) this.regs[r] = end;
    return {
      index,
      opcode: this.opcode,
      form: this.form,
      regs: this.regs,
      eflags: this.eflags,
      memorySeed: this.rng.u32(),
      patches: this.patches,
      code: Uint8Array.from(this.code),
      undefinedFlags: this.undefinedFlags,
      undefinedRegs: this.undefinedRegs,
    };
  }
}

export function le(value: number, size: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push((value >>> (i * 8)) & 0xff);
  return out;
}

/** Multiplicative inverse of an odd number modulo 2^32. */
function inverseOdd(a: number): number {
  let x = a;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(a, x)) >>> 0;
  return x;
}

export { DATA_START, STACK_START };
