import {
  C0, C1, C2, C3, CLS_DENORMAL, CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_ZERO, DE, EXP_BIAS, IE,
  PE, SF, SIG_BIAS, UE, ZE, classify, significandOf,
} from './float80.js';
import type { FpuHost } from './fpu-host.js';
import {
  applyEnvironment, applyRegisterImage, environmentSize, fxrstorArea, fxsaveArea, readEnvironment,
  readRegisterImage, storeEnvironment, storeRegisterImage, write80,
} from './fpu-layouts.js';
import {
  CC_MASK, FPU_CW, FPU_EMPTY, FPU_FCS, FPU_FDP, FPU_FDS, FPU_FIP, FPU_FOP, FPU_SW, FPU_TOP, FpuRegisters, type FpuStorage,
} from './fpu-registers.js';
import { FPU_STATE_VERSION, FpuSnapshotError, type FpuStateSnapshot } from './fpu-state.js';
import { extractParts, partialRemainder, remainderResult, scaleByPowerOfTwo } from './x87-exact-ops.js';
import { X87Math } from './x87-math.js';
import {
  cosReduced, log2Extended, log2OnePlus, reduceByHalfPi, scaledNumber, sinReduced, tanReduced, twoToXMinusOne,
} from './x87-transcendental.js';

const VEC_UD = 6;
const VEC_MF = 16;
const CR0_NE = 1 << 5;

const EFLAGS_CF = 0x01;
const EFLAGS_PF = 0x04;
const EFLAGS_ZF = 0x40;

/** Condition codes of a comparison result (0 >, 1 <, 2 =, 3 unordered). */
const COMPARE_CC = [0, C0, C3, C3 | C2 | C0];

/**
 * x87 constants: truncated 64-bit significand and whether round-to-nearest rounds it up (the
 * hardware keeps more bits and rounds with RC; no precision exception is reported).
 */
const CONSTANTS: readonly (readonly [sx: number, hi: number, lo: number, nearestUp: boolean])[] = [
  [0x3fff, 0x80000000, 0x00000000, false], // 1
  [0x4000, 0xd49a784b, 0xcd1b8afe, false], // log2(10)
  [0x3fff, 0xb8aa3b29, 0x5c17f0bb, true], // log2(e)
  [0x4000, 0xc90fdaa2, 0x2168c234, true], // pi
  [0x3ffd, 0x9a209a84, 0xfbcff798, true], // log10(2)
  [0x3ffe, 0xb17217f7, 0xd1cf79ab, true], // ln(2)
  [0x0000, 0x00000000, 0x00000000, false], // +0
];
const LN2_SX = 0x3ffe;
const LN2_HI = 0xb17217f7;
const LN2_LO = 0xd1cf79ac;
const LOG2E_SX = 0x3fff;
const LOG2E_HI = 0xb8aa3b29;
const LOG2E_LO = 0x5c17f0bc;

/** Constants that are inexact (all but 1 and 0) round up under RC=up. */
const INEXACT_CONSTANT = [false, true, true, true, true, true, false];

/**
 * The x87 floating-point unit of a P6-class processor.
 *
 * The CPU core calls {@link Fpu.execute} for escape opcodes D8-DF (after handling CR0.EM/TS #NM),
 * {@link Fpu.fwait} for WAIT/FWAIT (9B), and {@link Fpu.fxsave}/{@link Fpu.fxrstor}. All guest
 * reads of an instruction happen before any FPU state changes, so a faulting access can be restarted.
 */
export class Fpu {
  /** Architectural register state (exposed for the CPU core and debuggers; treat as read-only). */
  readonly registers: FpuRegisters;
  private readonly m = new X87Math();
  private readonly buf = new Uint8Array(10);

  /**
   * @param storage where the registers live (`FPU_BYTES` bytes); by default a buffer of their own.
   * The CPU puts them in its memory's host area, where translated hot blocks read and write them.
   */
  constructor(storage?: FpuStorage) {
    this.registers = new FpuRegisters(storage);
    this.reset();
  }

  /** FNINIT state: CW 037F, SW 0, all registers empty, pointers cleared. */
  reset(): void {
    this.registers.reset();
  }

  /**
   * WAIT/FWAIT: delivers a pending unmasked exception (#MF when CR0.NE = 1; otherwise the legacy
   * FERR#/IRQ13 path through `host.signalFerr`, and execution continues as with IGNNE# asserted).
   */
  fwait(host: FpuHost): void {
    if (this.registers.pending()) this.deliverPending(host);
  }

  /**
   * Executes one x87 instruction.
   * @param escape opcode byte 0xD8..0xDF
   * @param modrm the ModR/M byte
   * @param ea linear address of the memory operand (ignored when modrm >= 0xC0)
   * @param o32 32-bit operand size (FSTENV/FLDENV/FSAVE/FRSTOR layouts)
   * @param pm protected mode (environment layout); false for real mode
   * @param instructionPointer offset of the instruction (including prefixes) for FIP
   * @param codeSelector CS selector for FCS
   * @param dataSelector selector of the memory operand's segment for FDS
   */
  execute(host: FpuHost, escape: number, modrm: number, ea: number, o32: boolean, pm: boolean, instructionPointer: number, codeSelector: number, dataSelector: number): void {
    const esc = escape & 7;
    modrm &= 0xff;
    if (modrm < 0xc0) this.executeMemory(host, esc, modrm, ea >>> 0, o32, pm, instructionPointer, codeSelector, dataSelector);
    else this.executeRegister(host, esc, modrm, instructionPointer, codeSelector);
  }

  /**
   * FLD m64real (DD /0) as execute() runs it, for the CPU's x87 handler to call directly: loads
   * and stores of doubles are most of the x87 work of compiled C (busybox awk: 12 M of its 17 M x87
   * instructions), and the general path took ~44 ns each. A normal or zero double pushed onto an
   * empty ST(7) cannot raise anything, so it is written straight into the registers; any other
   * value goes the general way with the operand already read. Returns false, having done nothing,
   * when an unmasked exception is pending: execute() then delivers it first, as the CPU does.
   */
  loadF64(host: FpuHost, ea: number, modrm: number, ip: number, cs: number, ds: number): boolean {
    const r = this.registers;
    if (r.pending()) return false;
    const lo = host.read32(ea), hi = host.read32(ea + 4);
    const p = (r.words[FPU_TOP] + 7) & 7, e = (hi >>> 20) & 0x7ff;
    if (((r.words[FPU_EMPTY] >>> p) & 1) !== 0 && e !== 0x7ff && (e !== 0 || ((hi & 0xfffff) | lo) === 0)) {
      this.notePointers(5, modrm, ip, cs, ea >>> 0, ds);
      const sign = (hi >>> 16) & 0x8000;
      if (e === 0) r.setPhys(p, sign, 0, 0);
      else r.setPhys(p, sign | (e - 1023 + 16383), (0x80000000 | ((hi & 0xfffff) << 11) | (lo >>> 21)) >>> 0, (lo << 11) >>> 0);
      r.words[FPU_TOP] = p;
      r.words[FPU_SW] &= ~C1;
      return true;
    }
    const m = this.m;
    m.begin(r.words[FPU_CW]);
    const cls = m.loadF64(lo, hi);
    this.notePointers(5, modrm, ip, cs, ea >>> 0, ds);
    this.loadConverted(cls);
    return true;
  }

  /**
   * FST/FSTP m64real (DD /2, /3) as execute() runs them (see loadF64): ST(0) that a double holds
   * exactly (normal in double range with its low 11 significand bits zero, or zero) is written
   * without rounding or flags; anything else goes the general way. Returns false, having done
   * nothing, when an unmasked exception is pending.
   */
  storeF64(host: FpuHost, ea: number, modrm: number, pop: boolean, ip: number, cs: number, ds: number): boolean {
    const r = this.registers;
    if (r.pending()) return false;
    const p = r.words[FPU_TOP], sx = r.sx[p]!, hi = r.hi[p]!, lo = r.lo[p]!;
    const e = sx & 0x7fff, de = e - 16383 + 1023;
    this.notePointers(5, modrm, ip, cs, ea >>> 0, ds);
    const exact = ((r.words[FPU_EMPTY] >>> p) & 1) === 0 && (e === 0
      ? (hi | lo) === 0
      : (hi & 0x80000000) !== 0 && de >= 1 && de <= 2046 && (lo & 0x7ff) === 0);
    if (!exact) {
      this.m.begin(r.words[FPU_CW]);
      this.storeReal(host, ea >>> 0, 64, pop);
      return true;
    }
    const sign = (sx & 0x8000) << 16;
    host.write32(ea, e === 0 ? 0 : (hi << 21) | (lo >>> 11));
    host.write32(ea + 4, e === 0 ? sign : sign | (de << 20) | ((hi >>> 11) & 0xfffff));
    if (pop) this.pop();
    r.words[FPU_SW] &= ~C1;
    return true;
  }

  /** FXSAVE: writes the x87 part of the 512-byte area at ea (bytes 0-159; the rest is untouched). */
  fxsave(host: FpuHost, ea: number): void {
    fxsaveArea(this.registers, host, ea >>> 0);
  }

  /** FXRSTOR: loads the x87 part of the 512-byte area at ea. */
  fxrstor(host: FpuHost, ea: number): void {
    fxrstorArea(this.registers, host, ea >>> 0);
  }

  saveState(): FpuStateSnapshot {
    const r = this.registers;
    return {
      version: FPU_STATE_VERSION,
      signExponent: Array.from(r.sx),
      significandHigh: Array.from(r.hi),
      significandLow: Array.from(r.lo),
      emptyMask: r.emptyMask,
      controlWord: r.cw,
      statusWord: r.statusWord(),
      lastInstructionPointer: r.fip,
      lastCodeSelector: r.fcs,
      lastDataPointer: r.fdp,
      lastDataSelector: r.fds,
      lastOpcode: r.fop,
    };
  }

  restoreState(s: FpuStateSnapshot): void {
    if (s === null || typeof s !== 'object' || s.version !== FPU_STATE_VERSION) {
      throw new FpuSnapshotError(`unsupported FPU snapshot version ${String((s as { version?: unknown } | null)?.version)}`);
    }
    const arrays = [s.signExponent, s.significandHigh, s.significandLow];
    for (const a of arrays) {
      if (!Array.isArray(a) || a.length !== 8 || !a.every((v) => Number.isInteger(v))) {
        throw new FpuSnapshotError('malformed FPU snapshot: register arrays must hold 8 integers');
      }
    }
    const r = this.registers;
    for (let i = 0; i < 8; i++) {
      r.sx[i] = s.signExponent[i]!;
      r.hi[i] = s.significandHigh[i]!;
      r.lo[i] = s.significandLow[i]!;
    }
    r.emptyMask = s.emptyMask & 0xff;
    r.setControlWord(s.controlWord);
    r.setStatusWord(s.statusWord);
    r.fip = s.lastInstructionPointer >>> 0;
    r.fcs = s.lastCodeSelector & 0xffff;
    r.fdp = s.lastDataPointer >>> 0;
    r.fds = s.lastDataSelector & 0xffff;
    r.fop = s.lastOpcode & 0x7ff;
  }

  // ================================================================ dispatch: memory operands

  private executeMemory(host: FpuHost, esc: number, modrm: number, ea: number, o32: boolean, pm: boolean, ip: number, cs: number, ds: number): void {
    const reg = (modrm >>> 3) & 7;
    const r = this.registers;
    // Control instructions: no pointer update; the FN forms do not wait.
    if (esc === 1 && reg >= 4) {
      switch (reg) {
        case 4: // FLDENV
          this.fwait(host);
          readEnvironment(host, ea, o32);
          applyEnvironment(r, o32, pm);
          return;
        case 5: // FLDCW
          this.fwait(host);
          r.setControlWord(host.read16(ea));
          return;
        case 6: // FNSTENV
          storeEnvironment(r, host, ea, o32, pm);
          r.words[FPU_CW] |= 0x3f;
          return;
        default: // FNSTCW
          host.write16(ea, r.words[FPU_CW]);
          return;
      }
    }
    if (esc === 5 && (reg === 4 || reg === 6 || reg === 7)) {
      if (reg === 4) {
        // FRSTOR
        this.fwait(host);
        readEnvironment(host, ea, o32);
        readRegisterImage(host, ea + environmentSize(o32), 10);
        applyEnvironment(r, o32, pm);
        applyRegisterImage(r);
      } else if (reg === 6) {
        // FNSAVE
        storeEnvironment(r, host, ea, o32, pm);
        storeRegisterImage(r, host, ea + environmentSize(o32), 10);
        r.reset();
      } else host.write16(ea, r.statusWord()); // FNSTSW m16
      return;
    }
    // Reserved encodings, and FISTTP (SSE3; not a P6 instruction).
    if ((reg === 1 && (esc === 1 || esc === 3 || esc === 5 || esc === 7)) || (esc === 3 && (reg === 4 || reg === 6)) || (esc === 5 && reg === 5)) {
      host.raise(VEC_UD);
    }
    this.fwait(host);
    const m = this.m;
    m.begin(r.words[FPU_CW]);
    switch (esc) {
      case 0: { // D8: arithmetic with m32real
        const cls = m.loadF32(host.read32(ea));
        this.notePointers(esc, modrm, ip, cs, ea, ds);
        this.memoryOperandArith(reg, cls);
        return;
      }
      case 4: { // DC: arithmetic with m64real
        const lo = host.read32(ea);
        const hi = host.read32(ea + 4);
        const cls = m.loadF64(lo, hi);
        this.notePointers(esc, modrm, ip, cs, ea, ds);
        this.memoryOperandArith(reg, cls);
        return;
      }
      case 2: // DA: arithmetic with m32int
        m.loadInt32(host.read32(ea));
        this.notePointers(esc, modrm, ip, cs, ea, ds);
        this.memoryOperandArith(reg, CLS_NORMAL);
        return;
      case 6: // DE: arithmetic with m16int
        m.loadInt32((host.read16(ea) << 16) >> 16);
        this.notePointers(esc, modrm, ip, cs, ea, ds);
        this.memoryOperandArith(reg, CLS_NORMAL);
        return;
      case 1: // D9: FLD/FST/FSTP m32real
        if (reg === 0) {
          const cls = m.loadF32(host.read32(ea));
          this.notePointers(esc, modrm, ip, cs, ea, ds);
          this.loadConverted(cls);
        } else {
          this.notePointers(esc, modrm, ip, cs, ea, ds);
          this.storeReal(host, ea, 32, reg === 3);
        }
        return;
      case 5: // DD: FLD/FST/FSTP m64real
        if (reg === 0) {
          const lo = host.read32(ea);
          const hi = host.read32(ea + 4);
          const cls = m.loadF64(lo, hi);
          this.notePointers(esc, modrm, ip, cs, ea, ds);
          this.loadConverted(cls);
        } else {
          this.notePointers(esc, modrm, ip, cs, ea, ds);
          this.storeReal(host, ea, 64, reg === 3);
        }
        return;
      case 3: // DB: FILD/FIST/FISTP m32int, FLD/FSTP m80real
        switch (reg) {
          case 0:
            m.loadInt32(host.read32(ea));
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            this.loadConverted(CLS_NORMAL);
            return;
          case 5: {
            const lo = host.read32(ea);
            const hi = host.read32(ea + 4);
            const sx = host.read16(ea + 8);
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            m.setResult(sx, hi, lo);
            this.loadConverted(CLS_NORMAL);
            return;
          }
          case 7:
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            this.storeExtended(host, ea);
            return;
          default:
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            this.storeInteger(host, ea, 32, reg === 3);
            return;
        }
      default: // DF: FILD/FIST/FISTP m16int, FBLD, FILD m64int, FBSTP, FISTP m64int
        switch (reg) {
          case 0:
            m.loadInt32((host.read16(ea) << 16) >> 16);
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            this.loadConverted(CLS_NORMAL);
            return;
          case 4:
            this.loadBcd(host, ea);
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            this.loadConverted(CLS_NORMAL);
            return;
          case 5: {
            const lo = host.read32(ea);
            const hi = host.read32(ea + 4);
            m.loadInt64(lo, hi);
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            this.loadConverted(CLS_NORMAL);
            return;
          }
          case 6:
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            this.storeBcd(host, ea);
            return;
          case 7:
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            this.storeInteger(host, ea, 64, true);
            return;
          default:
            this.notePointers(esc, modrm, ip, cs, ea, ds);
            this.storeInteger(host, ea, 16, reg === 3);
            return;
        }
    }
  }

  private notePointers(esc: number, modrm: number, ip: number, cs: number, ea: number, ds: number): void {
    const r = this.registers;
    r.words[FPU_FIP] = ip >>> 0;
    r.words[FPU_FCS] = cs & 0xffff;
    r.words[FPU_FOP] = (esc << 8) | modrm;
    r.words[FPU_FDP] = ea;
    r.words[FPU_FDS] = ds & 0xffff;
  }

  private noteInstruction(esc: number, modrm: number, ip: number, cs: number): void {
    const r = this.registers;
    r.words[FPU_FIP] = ip >>> 0;
    r.words[FPU_FCS] = cs & 0xffff;
    r.words[FPU_FOP] = (esc << 8) | modrm;
  }

  /** ST(0) op memory operand (already converted into m.r*). */
  private memoryOperandArith(reg: number, cls: number): void {
    const m = this.m;
    if (cls === CLS_DENORMAL) m.srcDenormal = true;
    const ysx = m.rsx;
    const yhi = m.rhi;
    const ylo = m.rlo;
    if (reg === 2 || reg === 3) this.compareWith(-1, ysx, yhi, ylo, false, reg === 3 ? 1 : 0, false);
    else this.binary(reg, 0, -1, ysx, yhi, ylo, false);
  }

  // ================================================================ dispatch: register operands

  private executeRegister(host: FpuHost, esc: number, modrm: number, ip: number, cs: number): void {
    const i = modrm & 7;
    const reg = (modrm >>> 3) & 7;
    const r = this.registers;
    // Non-waiting control instructions.
    if (esc === 3 && modrm >= 0xe0 && modrm <= 0xe4) {
      if (modrm === 0xe2) r.words[FPU_SW] &= ~0x80ff & 0xffff; // FNCLEX
      else if (modrm === 0xe3) r.reset(); // FNINIT
      // E0 FNENI, E1 FNDISI, E4 FNSETPM: no-ops since the 80387.
      return;
    }
    if (esc === 7 && modrm === 0xe0) {
      if (host.setAx === undefined) host.raise(VEC_UD);
      host.setAx(r.statusWord());
      return;
    }
    if (!this.validRegisterForm(esc, modrm)) host.raise(VEC_UD);
    if ((esc === 2 || esc === 3) && reg < 4 && host.readEflags === undefined) host.raise(VEC_UD);
    if (((esc === 3 || esc === 7) && (reg === 5 || reg === 6)) && host.setEflagsZPC === undefined) host.raise(VEC_UD);
    this.fwait(host);
    this.noteInstruction(esc, modrm, ip, cs);
    this.m.begin(r.words[FPU_CW]);
    switch (esc) {
      case 0:
        if (reg === 2 || reg === 3) this.compareWith(i, 0, 0, 0, false, reg === 3 ? 1 : 0, false);
        else this.binary(reg, 0, i, 0, 0, 0, false);
        return;
      case 1:
        this.executeD9(host, modrm, i);
        return;
      case 2:
        if (modrm === 0xe9) this.compareWith(1, 0, 0, 0, true, 2, false);
        else this.fcmov(host, reg, i, false);
        return;
      case 3:
        if (reg < 4) this.fcmov(host, reg, i, true);
        else this.compareWith(i, 0, 0, 0, reg === 5, 0, true, host);
        return;
      case 4:
        if (reg === 2 || reg === 3) this.compareWith(i, 0, 0, 0, false, reg === 3 ? 1 : 0, false);
        else this.binary(reg, i, i, 0, 0, 0, false);
        return;
      case 5:
        switch (reg) {
          case 0: // FFREE
            r.words[FPU_EMPTY] |= 1 << r.phys(i);
            return;
          case 1: // FXCH4
            this.fxch(i);
            return;
          case 2:
          case 3: // FST / FSTP ST(i)
            this.storeRegister(i, reg === 3);
            return;
          default: // FUCOM / FUCOMP
            this.compareWith(i, 0, 0, 0, true, reg === 5 ? 1 : 0, false);
            return;
        }
      case 6:
        if (reg === 2 || reg === 3) this.compareWith(i, 0, 0, 0, false, reg === 3 ? 2 : 1, false);
        else this.binary(reg, i, i, 0, 0, 0, true);
        return;
      default:
        switch (reg) {
          case 0: // FFREEP
            r.words[FPU_EMPTY] |= 1 << r.phys(i);
            this.pop();
            return;
          case 1: // FXCH7
            this.fxch(i);
            return;
          case 2:
          case 3: // FSTP8 / FSTP9
            this.storeRegister(i, true);
            return;
          default: // FUCOMIP / FCOMIP
            this.compareWith(i, 0, 0, 0, reg === 5, 1, true, host);
            return;
        }
    }
  }

  private validRegisterForm(esc: number, modrm: number): boolean {
    switch (esc) {
      case 1:
        if (modrm >= 0xd1 && modrm <= 0xd7) return false;
        return !(modrm === 0xe2 || modrm === 0xe3 || modrm === 0xe6 || modrm === 0xe7 || modrm === 0xef);
      case 2:
        return modrm < 0xe0 || modrm === 0xe9;
      case 3:
        return modrm < 0xe0 || (modrm >= 0xe8 && modrm < 0xf8);
      case 5:
        return modrm < 0xf0;
      case 6:
        return modrm < 0xd8 || modrm === 0xd9 || modrm >= 0xe0;
      case 7:
        return modrm < 0xe0 || (modrm >= 0xe8 && modrm < 0xf8);
      default:
        return true;
    }
  }

  private executeD9(host: FpuHost, modrm: number, i: number): void {
    const r = this.registers;
    const m = this.m;
    void host;
    if (modrm < 0xc8) {
      // FLD ST(i)
      if (r.isEmpty(i)) {
        this.pushChecked(0xffff, 0xc0000000, 0, true);
      } else {
        const p = r.phys(i);
        this.pushChecked(r.sx[p]!, r.hi[p]!, r.lo[p]!, false);
      }
      return;
    }
    if (modrm < 0xd0) {
      this.fxch(i);
      return;
    }
    if (modrm === 0xd0) return; // FNOP
    if (modrm < 0xe0) {
      this.storeRegister(i, true); // FSTP1
      return;
    }
    switch (modrm) {
      case 0xe0: // FCHS
      case 0xe1: // FABS
        if (r.isEmpty(0)) {
          if (this.stackUnderflow()) this.setSt(0, 0xffff, 0xc0000000, 0);
        } else {
          const p = r.phys(0);
          r.sx[p] = modrm === 0xe0 ? r.sx[p]! ^ 0x8000 : r.sx[p]! & 0x7fff;
        }
        this.commit();
        return;
      case 0xe4: // FTST
        this.compareWith(-1, 0, 0, 0, false, 0, false);
        return;
      case 0xe5: // FXAM
        this.fxam();
        return;
      case 0xe8: case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed: case 0xee:
        this.loadConstant(modrm - 0xe8);
        return;
      case 0xf6: // FDECSTP
      case 0xf7: // FINCSTP
        r.words[FPU_TOP] = (r.words[FPU_TOP] + (modrm === 0xf6 ? 7 : 1)) & 7;
        r.words[FPU_SW] &= ~C1;
        return;
      default:
        break;
    }
    // Operations on ST(0) [and ST(1)].
    const needsTwo = modrm === 0xf1 || modrm === 0xf3 || modrm === 0xf5 || modrm === 0xf8 || modrm === 0xf9 || modrm === 0xfd;
    if (r.isEmpty(0) || (needsTwo && r.isEmpty(1))) {
      if (this.stackUnderflow()) {
        if (modrm === 0xf1 || modrm === 0xf3 || modrm === 0xf9) {
          this.setSt(1, 0xffff, 0xc0000000, 0);
          this.pop();
        } else {
          this.setSt(0, 0xffff, 0xc0000000, 0);
          if ((modrm === 0xf2 || modrm === 0xfb || modrm === 0xf4) && r.isEmpty(7)) this.push(0xffff, 0xc0000000, 0);
        }
      }
      this.commit();
      return;
    }
    const p0 = r.phys(0);
    const xsx = r.sx[p0]!;
    const xhi = r.hi[p0]!;
    const xlo = r.lo[p0]!;
    const p1 = r.phys(1);
    const ysx = r.sx[p1]!;
    const yhi = r.hi[p1]!;
    const ylo = r.lo[p1]!;
    switch (modrm) {
      case 0xfa: // FSQRT
        if (m.sqrt(xsx, xhi | 0, xlo | 0)) this.setSt(0, m.rsx, m.rhi, m.rlo);
        break;
      case 0xfc: // FRNDINT
        this.roundToInteger(xsx, xhi, xlo);
        break;
      case 0xfd: // FSCALE
        if (scaleByPowerOfTwo(m, xsx, xhi, xlo, ysx, yhi, ylo)) this.setSt(0, m.rsx, m.rhi, m.rlo);
        break;
      case 0xf8: // FPREM
      case 0xf5: // FPREM1
        this.remainder(xsx, xhi, xlo, ysx, yhi, ylo, modrm === 0xf5);
        return;
      case 0xf4: // FXTRACT
        this.fxtract(xsx, xhi, xlo);
        return;
      default:
        this.transcendental(modrm, xsx, xhi, xlo, ysx, yhi, ylo);
        return;
    }
    this.commit();
  }

  // ================================================================ stack helpers

  private push(sx: number, hi: number, lo: number): void {
    const r = this.registers;
    r.words[FPU_TOP] = (r.words[FPU_TOP] + 7) & 7;
    r.setPhys(r.words[FPU_TOP], sx, hi, lo);
  }

  private pop(): void {
    const r = this.registers;
    r.words[FPU_EMPTY] |= 1 << r.words[FPU_TOP];
    r.words[FPU_TOP] = (r.words[FPU_TOP] + 1) & 7;
  }

  private setSt(i: number, sx: number, hi: number, lo: number): void {
    this.registers.setPhys(this.registers.phys(i), sx, hi, lo);
  }

  /** Stack underflow: IE + SF, C1 = 0. Returns true when masked (write the indefinite). */
  private stackUnderflow(): boolean {
    const m = this.m;
    m.exc |= IE | SF;
    m.c1 = 0;
    return m.masked(IE);
  }

  /** Stack overflow: IE + SF, C1 = 1. Returns true when masked. */
  private stackOverflow(): boolean {
    const m = this.m;
    m.exc |= IE | SF;
    m.c1 = 1;
    return m.masked(IE);
  }

  /** Merges the instruction's exceptions and C1 into the status word. */
  private commit(): void {
    const r = this.registers;
    const m = this.m;
    r.words[FPU_SW] = (r.words[FPU_SW] & ~C1) | (m.exc & 0x7f) | (m.c1 !== 0 ? C1 : 0);
  }

  /** Pushes a value (stack underflow of the source already decided by `sourceEmpty`). */
  private pushChecked(sx: number, hi: number, lo: number, sourceEmpty: boolean): void {
    const r = this.registers;
    if (!r.isEmpty(7)) {
      if (this.stackOverflow()) this.push(0xffff, 0xc0000000, 0);
    } else if (sourceEmpty) {
      if (this.stackUnderflow()) this.push(0xffff, 0xc0000000, 0);
    } else this.push(sx, hi, lo);
    this.commit();
  }

  /** FLD/FILD/FBLD of a value converted into m.r* (source class for SNaN/denormal signalling). */
  private loadConverted(cls: number): void {
    const r = this.registers;
    const m = this.m;
    if (!r.isEmpty(7)) {
      if (this.stackOverflow()) this.push(0xffff, 0xc0000000, 0);
      this.commit();
      return;
    }
    if (cls === CLS_SNAN) {
      m.exc |= IE;
      if (!m.masked(IE)) return this.commit();
      m.rhi = (m.rhi | 0x40000000) >>> 0;
    } else if (cls === CLS_DENORMAL) {
      m.exc |= DE; // reported, but the value is loaded even when DE is unmasked
    }
    this.push(m.rsx, m.rhi, m.rlo);
    this.commit();
  }

  private loadConstant(index: number): void {
    const [sx, hi, lo, nearestUp] = CONSTANTS[index]!;
    const rc = this.m.rc();
    const up = INEXACT_CONSTANT[index]! && (rc === 0 ? nearestUp : rc === 2);
    this.pushChecked(sx, hi, up ? (lo + 1) >>> 0 : lo, false);
  }

  private fxch(i: number): void {
    const r = this.registers;
    if (r.isEmpty(0) || r.isEmpty(i)) {
      if (!this.stackUnderflow()) return this.commit();
      if (r.isEmpty(0)) this.setSt(0, 0xffff, 0xc0000000, 0);
      if (r.isEmpty(i)) this.setSt(i, 0xffff, 0xc0000000, 0);
    }
    const a = r.phys(0);
    const b = r.phys(i);
    const sx = r.sx[a]!;
    const hi = r.hi[a]!;
    const lo = r.lo[a]!;
    r.sx[a] = r.sx[b]!;
    r.hi[a] = r.hi[b]!;
    r.lo[a] = r.lo[b]!;
    r.sx[b] = sx;
    r.hi[b] = hi;
    r.lo[b] = lo;
    this.commit();
  }

  /** FST/FSTP ST(i): a plain copy (no conversion, no exceptions besides stack underflow). */
  private storeRegister(i: number, popAfter: boolean): void {
    const r = this.registers;
    if (r.isEmpty(0)) {
      if (!this.stackUnderflow()) return this.commit();
      this.setSt(i, 0xffff, 0xc0000000, 0);
    } else {
      const p = r.phys(0);
      this.setSt(i, r.sx[p]!, r.hi[p]!, r.lo[p]!);
    }
    if (popAfter) this.pop();
    this.commit();
  }

  // ================================================================ arithmetic

  /**
   * ST(dst) = X op Y where X = ST(0) and Y = ST(src) (src >= 0) or the given memory value.
   * `kind` is the reg field: 0 add, 1 mul, 4 X-Y, 5 Y-X, 6 X/Y, 7 Y/X.
   */
  private binary(kind: number, dst: number, src: number, ysx: number, yhi: number, ylo: number, popAfter: boolean): void {
    const r = this.registers;
    const m = this.m;
    if (r.isEmpty(0) || (src >= 0 && r.isEmpty(src))) {
      if (this.stackUnderflow()) {
        this.setSt(dst, 0xffff, 0xc0000000, 0);
        if (popAfter) this.pop();
      }
      this.commit();
      return;
    }
    const p0 = r.phys(0);
    const xsx = r.sx[p0]!;
    const xhi = r.hi[p0]!;
    const xlo = r.lo[p0]!;
    if (src >= 0) {
      const ps = r.phys(src);
      ysx = r.sx[ps]!;
      yhi = r.hi[ps]!;
      ylo = r.lo[ps]!;
    }
    let ok: boolean;
    switch (kind) {
      // Significand words travel as int32 (the callees reinterpret them as uint32): V8 would
      // box uint32 values >= 2^31 into heap numbers at every call boundary.
      case 0: ok = m.add(xsx, xhi | 0, xlo | 0, ysx, yhi | 0, ylo | 0, false); break;
      case 1: ok = m.mul(xsx, xhi | 0, xlo | 0, ysx, yhi | 0, ylo | 0); break;
      case 4: ok = m.add(xsx, xhi | 0, xlo | 0, ysx, yhi | 0, ylo | 0, true); break;
      case 5: ok = m.add(ysx, yhi | 0, ylo | 0, xsx, xhi | 0, xlo | 0, true); break;
      case 6: ok = m.div(xsx, xhi | 0, xlo | 0, ysx, yhi | 0, ylo | 0); break;
      default: ok = m.div(ysx, yhi | 0, ylo | 0, xsx, xhi | 0, xlo | 0); break;
    }
    if (ok) {
      this.setSt(dst, m.rsx, m.rhi, m.rlo);
      if (popAfter) this.pop();
    }
    this.commit();
  }

  /**
   * Compares ST(0) with ST(src) (src >= 0), the memory value (src = -1 with y given; FTST passes
   * +0). `pops` = 0, 1, 2. `toEflags` = FCOMI family (EFLAGS instead of C0/C2/C3).
   */
  private compareWith(src: number, ysx: number, yhi: number, ylo: number, quiet: boolean, pops: number, toEflags: boolean, host?: FpuHost): void {
    const r = this.registers;
    const m = this.m;
    let res: number;
    if (r.isEmpty(0) || (src >= 0 && r.isEmpty(src))) {
      this.stackUnderflow();
      res = 3;
    } else {
      const p0 = r.phys(0);
      if (src >= 0) {
        const ps = r.phys(src);
        ysx = r.sx[ps]!;
        yhi = r.hi[ps]!;
        ylo = r.lo[ps]!;
      }
      res = m.compare(r.sx[p0]!, r.hi[p0]!, r.lo[p0]!, ysx, yhi, ylo, quiet);
      m.c1 = 0;
    }
    // The condition codes (or EFLAGS) are written even when an unmasked exception occurs;
    // only the pops are suppressed.
    if (res < 0) res = 3;
    if (toEflags) host!.setEflagsZPC!(res >= 2, res === 3, res === 1 || res === 3);
    else r.words[FPU_SW] = (r.words[FPU_SW] & ~(C0 | C2 | C3)) | COMPARE_CC[res]!;
    if ((m.exc & ~r.words[FPU_CW] & 0x3f) === 0) for (let k = 0; k < pops; k++) this.pop();
    this.commit();
  }

  private fcmov(host: FpuHost, reg: number, i: number, negate: boolean): void {
    const r = this.registers;
    const f = host.readEflags!();
    let cond: boolean;
    switch (reg & 3) {
      case 0: cond = (f & EFLAGS_CF) !== 0; break;
      case 1: cond = (f & EFLAGS_ZF) !== 0; break;
      case 2: cond = (f & (EFLAGS_CF | EFLAGS_ZF)) !== 0; break;
      default: cond = (f & EFLAGS_PF) !== 0; break;
    }
    if (negate) cond = !cond;
    if (r.isEmpty(0) || r.isEmpty(i)) {
      if (this.stackUnderflow()) this.setSt(0, 0xffff, 0xc0000000, 0);
    } else if (cond) {
      const p = r.phys(i);
      this.setSt(0, r.sx[p]!, r.hi[p]!, r.lo[p]!);
    }
    this.commit();
  }

  private fxam(): void {
    const r = this.registers;
    const p = r.phys(0);
    const sign = (r.sx[p]! & 0x8000) !== 0 ? C1 : 0;
    let cc: number;
    if (r.isEmpty(0)) cc = C3 | C0;
    else {
      switch (classify(r.sx[p]!, r.hi[p]!, r.lo[p]!)) {
        case CLS_ZERO: cc = C3; break;
        case CLS_NORMAL: cc = C2; break;
        case CLS_DENORMAL: cc = C3 | C2; break;
        case CLS_INF: cc = C2 | C0; break;
        case CLS_QNAN:
        case CLS_SNAN: cc = C0; break;
        default: cc = 0; break;
      }
    }
    r.words[FPU_SW] = (r.words[FPU_SW] & ~CC_MASK) | cc | sign;
  }

  private roundToInteger(sx: number, hi: number, lo: number): void {
    const m = this.m;
    const cls = classify(sx, hi, lo);
    if (cls >= CLS_QNAN) {
      if (m.nan1(sx, hi, lo, cls)) this.setSt(0, m.rsx, m.rhi, m.rlo);
      return;
    }
    if (cls === CLS_DENORMAL && !m.denormal()) return;
    if (cls === CLS_ZERO || cls === CLS_INF) return;
    m.roundToInteger(sx, hi, lo);
    this.setSt(0, m.rsx, m.rhi, m.rlo);
  }

  private remainder(xsx: number, xhi: number, xlo: number, ysx: number, yhi: number, ylo: number, nearest: boolean): void {
    const r = this.registers;
    const m = this.m;
    if (partialRemainder(m, xsx, xhi, xlo, ysx, yhi, ylo, nearest)) {
      this.setSt(0, m.rsx, m.rhi, m.rlo);
      const q = remainderResult.q;
      let cc = remainderResult.incomplete ? C2 : 0;
      if (!remainderResult.incomplete) cc |= ((q & 4) !== 0 ? C0 : 0) | ((q & 2) !== 0 ? C3 : 0);
      r.words[FPU_SW] = (r.words[FPU_SW] & ~(C0 | C2 | C3)) | cc;
      m.c1 = !remainderResult.incomplete && (q & 1) !== 0 ? 1 : 0;
    }
    this.commit();
  }

  private fxtract(sx: number, hi: number, lo: number): void {
    const r = this.registers;
    const m = this.m;
    if (!r.isEmpty(7)) {
      if (this.stackOverflow()) {
        this.setSt(0, 0xffff, 0xc0000000, 0);
        this.push(0xffff, 0xc0000000, 0);
      }
      return this.commit();
    }
    const cls = classify(sx, hi, lo);
    if (cls >= CLS_QNAN) {
      if (m.nan1(sx, hi, lo, cls)) {
        this.setSt(0, m.rsx, m.rhi, m.rlo);
        this.push(m.rsx, m.rhi, m.rlo);
      }
      return this.commit();
    }
    if (cls === CLS_ZERO) {
      m.exc |= ZE;
      if (m.masked(ZE)) {
        this.setSt(0, 0xffff, 0x80000000, 0);
        this.push(sx, 0, 0);
      }
      return this.commit();
    }
    if (cls === CLS_INF) {
      this.setSt(0, 0x7fff, 0x80000000, 0);
      this.push(sx, hi, lo);
      return this.commit();
    }
    if (cls === CLS_DENORMAL && !m.denormal()) return this.commit();
    const parts = extractParts(sx, hi, lo);
    const ssx = parts.sx;
    const shi = parts.hi;
    const slo = parts.lo;
    m.loadInt32(parts.exponent);
    this.setSt(0, m.rsx, m.rhi, m.rlo);
    this.push(ssx, shi, slo);
    this.commit();
  }

  // ================================================================ transcendental (float64 based)

  private transcendental(modrm: number, xsx: number, xhi: number, xlo: number, ysx: number, yhi: number, ylo: number): void {
    const r = this.registers;
    const m = this.m;
    const cx = classify(xsx, xhi, xlo);
    const pushes = modrm === 0xf2 || modrm === 0xfb;
    if (pushes && !r.isEmpty(7)) {
      if (this.stackOverflow()) {
        this.setSt(0, 0xffff, 0xc0000000, 0);
        this.push(0xffff, 0xc0000000, 0);
      }
      return this.commit();
    }
    if (modrm === 0xf1 || modrm === 0xf3 || modrm === 0xf9) {
      if (this.twoOperandTranscendental(modrm, xsx, xhi, xlo, cx, ysx, yhi, ylo)) {
        this.setSt(1, m.rsx, m.rhi, m.rlo);
        this.pop();
      }
      return this.commit();
    }
    if (cx >= CLS_QNAN) {
      if (m.nan1(xsx, xhi, xlo, cx)) {
        this.setSt(0, m.rsx, m.rhi, m.rlo);
        if (pushes) this.push(m.rsx, m.rhi, m.rlo);
      }
      return this.commit();
    }
    const trig = modrm !== 0xf0;
    if (trig && cx === CLS_INF) {
      if (m.invalid()) {
        this.setSt(0, m.rsx, m.rhi, m.rlo);
        if (pushes) this.push(m.rsx, m.rhi, m.rlo);
      }
      return this.commit();
    }
    if (trig && (xsx & 0x7fff) >= EXP_BIAS + 63) {
      r.words[FPU_SW] |= C2; // out of range: operand unchanged
      return this.commit();
    }
    if (cx === CLS_DENORMAL && !m.denormal()) return this.commit();
    if (trig) r.words[FPU_SW] &= ~C2;
    const neg = (xsx & 0x8000) !== 0;
    const exp = xsx & 0x7fff;
    if (modrm === 0xf0) {
      // F2XM1
      if (cx === CLS_ZERO) m.setResult(xsx, 0, 0);
      else if (cx === CLS_INF) {
        if (neg) m.setResult(0xbfff, 0x80000000, 0);
        else m.setResult(xsx, xhi, xlo);
      }
      else if (exp < EXP_BIAS - 60) this.mulExtended(xsx, xhi, xlo, LN2_SX, LN2_HI, LN2_LO);
      else this.setNumberInexact(twoToXMinusOne(scaledNumber(xsx, xhi, xlo, 0)));
      this.setSt(0, m.rsx, m.rhi, m.rlo);
      return this.commit();
    }
    // FSIN, FCOS, FSINCOS, FPTAN.
    const tiny = cx === CLS_ZERO || exp < EXP_BIAS - 40;
    let sinValue = 0;
    let cosValue = 1;
    let tanValue = 0;
    if (!tiny) {
      reduceByHalfPi(xsx, xhi, xlo);
      sinValue = neg ? -sinReduced() : sinReduced();
      cosValue = cosReduced();
      tanValue = neg ? -tanReduced() : tanReduced();
    }
    if (modrm === 0xff) {
      m.setResult(0x3fff, 0x80000000, 0);
      if (tiny) {
        if (cx !== CLS_ZERO) m.exc |= PE;
      } else this.setNumberInexact(cosValue);
      this.setSt(0, m.rsx, m.rhi, m.rlo);
      return this.commit();
    }
    if (tiny) this.tinyIdentity(xsx, xhi, xlo, cx);
    else this.setNumberInexact(modrm === 0xf2 ? tanValue : sinValue);
    this.setSt(0, m.rsx, m.rhi, m.rlo);
    if (modrm === 0xf2) this.push(0x3fff, 0x80000000, 0);
    else if (modrm === 0xfb) {
      if (tiny) m.setResult(0x3fff, 0x80000000, 0);
      else this.setNumberInexact(cosValue);
      this.push(m.rsx, m.rhi, m.rlo);
    }
    this.commit();
  }

  /** sin x = tan x = x for tiny x (inexact unless zero; a denormal result underflows). */
  private tinyIdentity(sx: number, hi: number, lo: number, cls: number): void {
    const m = this.m;
    if (cls === CLS_ZERO) {
      m.setResult(sx, 0, 0);
      return;
    }
    m.roundSig(sx >>> 15, hi, lo, 0, Math.max(sx & 0x7fff, 1), 64);
    m.exc |= PE | ((m.rsx & 0x7fff) === 0 ? UE : 0);
  }

  /** FYL2X, FPATAN, FYL2XP1: computes the value stored into ST(1); false when nothing is stored. */
  private twoOperandTranscendental(modrm: number, xsx: number, xhi: number, xlo: number, cx: number, ysx: number, yhi: number, ylo: number): boolean {
    const m = this.m;
    const cy = classify(ysx, yhi, ylo);
    if (cx >= CLS_QNAN || cy >= CLS_QNAN) return m.nan2(xsx, xhi, xlo, cx, ysx, yhi, ylo, cy);
    const xNeg = (xsx & 0x8000) !== 0;
    const yNeg = (ysx & 0x8000) !== 0;
    if (modrm === 0xf3) {
      // FPATAN: atan2(ST1, ST0); both scaled by the same power of two so their ratio survives.
      if ((cx === CLS_DENORMAL || cy === CLS_DENORMAL) && !m.denormal()) return false;
      const shift = EXP_BIAS - Math.max(xsx & 0x7fff, ysx & 0x7fff, 1);
      const x = cx === CLS_INF ? (xNeg ? -Infinity : Infinity) : scaledNumber(xsx, xhi, xlo, shift);
      const y = cy === CLS_INF ? (yNeg ? -Infinity : Infinity) : scaledNumber(ysx, yhi, ylo, shift);
      if (cy === CLS_ZERO && cx !== CLS_ZERO && !xNeg) {
        m.setResult(ysx, 0, 0);
        return true;
      }
      const a = Math.atan2(cy === CLS_ZERO ? (yNeg ? -0 : 0) : y, cx === CLS_ZERO ? (xNeg ? -0 : 0) : x);
      if (cx !== CLS_INF && cy !== CLS_ZERO && (ysx & 0x7fff) - (xsx & 0x7fff) < -60 && !xNeg) {
        // |y/x| tiny: atan(y/x) = y/x exactly enough, computed in extended.
        const cw = m.cw;
        m.cw = cw | 0x300;
        const ok = m.div(ysx, yhi, ylo, xsx, xhi, xlo);
        m.cw = cw;
        return ok && this.markInexact();
      }
      m.setNumber(a);
      return this.markInexact();
    }
    if (modrm === 0xf1) {
      // FYL2X: ST1 * log2(ST0).
      if (xNeg && cx !== CLS_ZERO) return m.invalid();
      if (cx === CLS_ZERO && cy === CLS_ZERO) return m.invalid();
      if (cx === CLS_INF && cy === CLS_ZERO) return m.invalid();
      const xIsOne = (xsx & 0x7fff) === EXP_BIAS && xhi === 0x80000000 && xlo === 0;
      if (xIsOne && cy === CLS_INF) return m.invalid();
      if (cx === CLS_ZERO) {
        // Zero divide takes precedence over a denormal ST(1).
        if (cy !== CLS_INF) {
          m.exc |= ZE;
          if (!m.masked(ZE)) return false;
        }
        m.setResult((yNeg ? 0 : 0x8000) | 0x7fff, 0x80000000, 0);
        return true;
      }
      if ((cx === CLS_DENORMAL || cy === CLS_DENORMAL) && !m.denormal()) return false;
      if (cx === CLS_INF) {
        m.setResult((ysx & 0x8000) | 0x7fff, 0x80000000, 0);
        return true;
      }
      if (xIsOne) {
        m.setResult((ysx & 0x8000) ^ 0, 0, 0);
        return true;
      }
      const e = xsx & 0x7fff;
      if (e === EXP_BIAS || e === EXP_BIAS - 1) {
        // Near 1: log2(x) = log1p(x - 1) / ln 2, with x - 1 exact in extended precision.
        const cw = m.cw;
        m.cw = cw | 0x300;
        m.add(xsx, xhi, xlo, 0xbfff, 0x80000000, 0, false);
        m.cw = cw;
        m.setNumber(log2OnePlus(scaledNumber(m.rsx, m.rhi, m.rlo, 0)));
      } else m.setNumber(log2Extended(xsx, xhi, xlo));
      return this.mulExtended(ysx, yhi, ylo, m.rsx, m.rhi, m.rlo) && this.markInexact();
    }
    // FYL2XP1: ST1 * log2(ST0 + 1), defined for |ST0| < 1 - sqrt(2)/2.
    if ((cx === CLS_INF && (xNeg || cy === CLS_ZERO)) || (cx === CLS_ZERO && cy === CLS_INF)) return m.invalid();
    if ((cx === CLS_DENORMAL || cy === CLS_DENORMAL) && !m.denormal()) return false;
    if (cx === CLS_INF) {
      m.setResult((ysx & 0x8000) | 0x7fff, 0x80000000, 0);
      return true;
    }
    if (cx === CLS_ZERO) {
      m.setResult((xsx ^ ysx) & 0x8000, 0, 0);
      return true;
    }
    if (cy === CLS_INF) {
      m.setResult(((xsx ^ ysx) & 0x8000) | 0x7fff, 0x80000000, 0);
      return true;
    }
    if (cy === CLS_ZERO) {
      m.setResult((xsx ^ ysx) & 0x8000, 0, 0);
      return true;
    }
    if ((xsx & 0x7fff) < EXP_BIAS - 60) {
      // y * log2(1 + x) = y * x * log2(e) for tiny x, with a single rounding.
      const sig = significandOf(xhi, xlo) * significandOf(yhi, ylo) * significandOf(LOG2E_HI, LOG2E_LO);
      const e = Math.max(xsx & 0x7fff, 1) + Math.max(ysx & 0x7fff, 1) + LOG2E_SX - 3 * SIG_BIAS;
      return m.roundBig((xsx ^ ysx) >>> 15 & 1, sig, e, true, 64) && this.markInexact();
    }
    const l = log2OnePlus(scaledNumber(xsx, xhi, xlo, 0));
    if (Number.isNaN(l)) return m.invalid();
    m.setNumber(l);
    return this.mulExtended(ysx, yhi, ylo, m.rsx, m.rhi, m.rlo) && this.markInexact();
  }

  /** Multiplication at full 64-bit precision (transcendentals ignore PC). */
  private mulExtended(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number): boolean {
    const m = this.m;
    const cw = m.cw;
    m.cw = cw | 0x300;
    const ok = m.mul(asx, ahi, alo, bsx, bhi, blo);
    m.cw = cw;
    return ok;
  }

  /** Marks a finite nonzero transcendental result inexact (zeros and infinities are exact). */
  private markInexact(): boolean {
    const m = this.m;
    const e = m.rsx & 0x7fff;
    if (e !== 0x7fff && (e !== 0 || (m.rhi | m.rlo) !== 0)) m.exc |= PE;
    // A tiny inexact result underflows (masked: the denormal stays, UE is reported).
    if (e === 0 && (m.rhi | m.rlo) !== 0 && m.masked(UE)) m.exc |= UE;
    return true;
  }

  /** Writes a float64 transcendental result (never exact in practice: PE). */
  private setNumberInexact(v: number): void {
    this.m.setNumber(v);
    this.m.exc |= PE;
  }

  // ================================================================ stores

  private storeReal(host: FpuHost, ea: number, bits: 32 | 64, popAfter: boolean): void {
    const r = this.registers;
    const m = this.m;
    let ok: boolean;
    if (r.isEmpty(0)) {
      ok = this.stackUnderflow();
      m.rlo = bits === 32 ? 0xffc00000 : 0;
      m.rhi = 0xfff80000;
    } else {
      const p = r.phys(0);
      ok = bits === 32 ? m.storeF32(r.sx[p]!, r.hi[p]!, r.lo[p]!) : m.storeF64(r.sx[p]!, r.hi[p]!, r.lo[p]!);
    }
    if (ok) {
      host.write32(ea, m.rlo);
      if (bits === 64) host.write32(ea + 4, m.rhi);
      if (popAfter) this.pop();
    }
    this.commit();
  }

  private storeExtended(host: FpuHost, ea: number): void {
    const r = this.registers;
    if (r.isEmpty(0)) {
      if (this.stackUnderflow()) {
        write80(host, ea, 0xffff, 0xc0000000, 0);
        this.pop();
      }
    } else {
      const p = r.phys(0);
      write80(host, ea, r.sx[p]!, r.hi[p]!, r.lo[p]!);
      this.pop();
    }
    this.commit();
  }

  private storeInteger(host: FpuHost, ea: number, bits: 16 | 32 | 64, popAfter: boolean): void {
    const r = this.registers;
    const m = this.m;
    let ok: boolean;
    if (r.isEmpty(0)) {
      ok = this.stackUnderflow();
      m.rlo = bits === 16 ? 0x8000 : bits === 32 ? 0x80000000 : 0;
      m.rhi = 0x80000000;
    } else {
      const p = r.phys(0);
      ok = m.storeInt(r.sx[p]!, r.hi[p]!, r.lo[p]!, bits);
    }
    if (ok) {
      if (bits === 16) host.write16(ea, m.rlo & 0xffff);
      else {
        host.write32(ea, m.rlo);
        if (bits === 64) host.write32(ea + 4, m.rhi);
      }
      if (popAfter) this.pop();
    }
    this.commit();
  }

  // ================================================================ packed BCD

  private loadBcd(host: FpuHost, ea: number): void {
    const b = this.buf;
    for (let k = 0; k < 10; k++) b[k] = host.read8(ea + k);
    let v = 0n;
    for (let k = 8; k >= 0; k--) v = v * 100n + BigInt((b[k]! >>> 4) * 10 + (b[k]! & 15));
    const m = this.m;
    const neg = (b[9]! & 0x80) !== 0;
    if (v === 0n) m.setResult(neg ? 0x8000 : 0, 0, 0);
    else {
      m.loadInt64(Number(v & 0xffffffffn), Number(v >> 32n));
      if (neg) m.rsx |= 0x8000;
    }
  }

  private storeBcd(host: FpuHost, ea: number): void {
    const r = this.registers;
    const m = this.m;
    const b = this.buf;
    let ok = true;
    let indefinite = false;
    if (r.isEmpty(0)) {
      ok = this.stackUnderflow();
      indefinite = true;
    } else {
      const p = r.phys(0);
      const sx = r.sx[p]!;
      const cls = classify(sx, r.hi[p]!, r.lo[p]!);
      if (cls === CLS_INF || cls >= CLS_QNAN) {
        m.exc |= IE;
        ok = m.masked(IE);
        indefinite = true;
      } else {
        let mag = 0n;
        if (cls !== CLS_ZERO) {
          if ((sx & 0x7fff) > EXP_BIAS + 63) mag = 10n ** 18n;
          else {
            m.roundToInteger(sx, r.hi[p]!, r.lo[p]!);
            mag = (BigInt(m.gHi) << 32n) | BigInt(m.gLo);
          }
        }
        if (mag >= 10n ** 18n) {
          m.exc = (m.exc & ~0x20) | IE;
          m.c1 = 0;
          ok = m.masked(IE);
          indefinite = true;
        } else {
          for (let k = 0; k < 9; k++) {
            const lowDigit = Number(mag % 10n);
            mag /= 10n;
            const highDigit = Number(mag % 10n);
            mag /= 10n;
            b[k] = (highDigit << 4) | lowDigit;
          }
          b[9] = (sx & 0x8000) !== 0 ? 0x80 : 0;
        }
      }
    }
    if (!ok) return this.commit();
    if (indefinite) {
      b.fill(0);
      b[7] = 0xc0;
      b[8] = 0xff;
      b[9] = 0xff;
    }
    for (let k = 0; k < 10; k++) host.write8(ea + k, b[k]!);
    this.pop();
    this.commit();
  }

  // ================================================================ exceptions

  private deliverPending(host: FpuHost): void {
    if ((host.cr0 & CR0_NE) !== 0) host.raise(VEC_MF);
    host.signalFerr?.();
  }
}
