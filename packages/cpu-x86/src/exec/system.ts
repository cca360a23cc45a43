import {
  CR0_EM, CR0_MP, CR0_PE, CR0_TS, CR4_DE, CR4_SUPPORTED, CR4_TSD, CS, DB, EA_A16, IF, LDTR, NM, P_O32, RF, SS, TR,
  UD, VM, ZF,
} from '../constants.js';
import type { CpuCore } from '../core.js';
import {
  dDpl, desc, dIsCode, dIsSegment, dLimit, dPresent, dType, loadCache, loadCs, loadNull, readDescriptor,
} from '../system/segments.js';
import { eaOff, rdEw, wrEv, wrEw } from './operands.js';
import { checkCr0Change } from './control-registers.js';
import { readCounterMsr, writeCounterMsr } from '../system/pmu.js';

/** Instructions only CPL 0 may execute (#GP(0) otherwise; real mode is CPL 0). */
function requireCpl0(c: CpuCore): void {
  if ((c.cr0 & CR0_PE) !== 0 && ((c.flags & VM) !== 0 || c.cpl !== 0)) c.gp(0);
}
/** Instructions that do not exist in real and v8086 mode. */
function requireProtected(c: CpuCore): void {
  if ((c.cr0 & CR0_PE) === 0 || (c.flags & VM) !== 0) c.fault(UD, -1);
}

// ---- control and debug registers ----
export function movFromCr(c: CpuCore, d: number): void {
  requireCpl0(c);
  const n = (c.dRm[d] >> 3) & 7, r = (c.dRm[d] & 7) << 1;
  switch (n) {
    case 0: c.r32[r] = c.cr0; break;
    case 2: c.r32[r] = c.cr2; break;
    case 3: c.r32[r] = c.cr3; break;
    case 4: c.r32[r] = c.cr4; break;
    default: c.fault(UD, -1);
  }
}
export function movToCr(c: CpuCore, d: number): void {
  requireCpl0(c);
  const n = (c.dRm[d] >> 3) & 7;
  const v = c.r32[(c.dRm[d] & 7) << 1];
  switch (n) {
    case 0: checkCr0Change(c, v); break;
    case 2: c.cr2 = v; break;
    case 3: {
      const old = c.cr3;
      c.cr3 = (c.cr4 & 0x20) !== 0 ? v & ~0x7 : v & ~0xfe7;
      if (c.paging.writeCr3) c.paging.writeCr3(c.cr3); else c.paging.setControl(c.cr0, c.cr3, c.cr4, c.efer);
      c.flushTlb();
      if (c.paging.pdpteReservedFault === true && (c.cr0 & 0x80000000) !== 0) {
        c.cr3 = old;
        c.paging.setControl(c.cr0, c.cr3, c.cr4, c.efer);
        c.gp(0);
      }
      break;
    }
    case 4:
      if ((v & ~CR4_SUPPORTED) !== 0) c.gp(0);
      c.cr4 = v;
      if (c.paging.writeCr4) c.paging.writeCr4(c.cr4); else c.paging.setControl(c.cr0, c.cr3, c.cr4, c.efer);
      c.updateBreakpoints(); // CR4.DE enables I/O breakpoints; also flushes the TLB
      break;
    default: c.fault(UD, -1);
  }
  c.chunkBreak = true;
}
function drIndex(c: CpuCore, n: number): number {
  if (n === 4 || n === 5) {
    if ((c.cr4 & CR4_DE) !== 0) c.fault(UD, -1);
    return n + 2;
  }
  return n;
}
/**
 * General detect (DR7.GD): any MOV to or from a debug register is a #DB fault with DR6.BD, so a
 * debugger can keep the registers to itself; the processor clears GD when it delivers the #DB.
 */
const DR7_GD = 0x2000, DR6_BD = 0x2000;
function generalDetect(c: CpuCore): void {
  if ((c.dr[7] & DR7_GD) === 0) return;
  c.dr[6] |= DR6_BD;
  c.fault(DB, -1);
}
export function movFromDr(c: CpuCore, d: number): void {
  requireCpl0(c);
  generalDetect(c);
  const n = drIndex(c, (c.dRm[d] >> 3) & 7);
  let v = c.dr[n];
  if (n === 6) v = (v & 0xe00f) | 0xffff0ff0;
  else if (n === 7) v = (v & ~0xd800) | 0x400;
  c.r32[(c.dRm[d] & 7) << 1] = v;
}
export function movToDr(c: CpuCore, d: number): void {
  requireCpl0(c);
  generalDetect(c);
  const n = drIndex(c, (c.dRm[d] >> 3) & 7);
  c.dr[n] = c.r32[(c.dRm[d] & 7) << 1];
  if (n <= 3 || n === 7) c.updateBreakpoints();
}
export function clts(c: CpuCore): void { requireCpl0(c); c.cr0 &= ~CR0_TS; }
export function lmsw(c: CpuCore, d: number): void {
  requireCpl0(c);
  const v = rdEw(c, d);
  // LMSW can set PE but never clear it; it touches only PE, MP, EM, TS.
  const nv = (c.cr0 & ~0xe) | (v & 0xe) | (c.cr0 & 1) | (v & 1);
  checkCr0Change(c, nv);
  c.chunkBreak = true;
}
export function smsw(c: CpuCore, d: number): void {
  if (c.dRm[d] >= 0xc0) wrEv(c, d, c.cr0); else wrEw(c, d, c.cr0);
}

// ---- descriptor tables ----
/** ext: 0 SGDT, 1 SIDT. */
export function sdt(c: CpuCore, d: number): void {
  if (c.dRm[d] >= 0xc0) c.fault(UD, -1);
  const seg = c.dSeg[d], off = eaOff(c, d);
  const isIdt = ((c.dRm[d] >> 3) & 7) === 1;
  const limit = isIdt ? c.idtLimit : c.gdtLimit, base = isIdt ? c.idtBase : c.gdtBase;
  const next = (c.dEa[d] & EA_A16) !== 0 ? (off + 2) & 0xffff : (off + 2) | 0;
  // One 6-byte check: the image as a whole needs 4-byte alignment under #AC, not its base field.
  const lin = c.linW(seg, off, 6);
  c.probeStore(lin, 6);
  // A 16-bit operand size stores the base with the top byte 0 on P6 (the SDM's 386/486 behaviour of 0xFF is for older parts).
  const stored = (c.dPfx[d] & P_O32) !== 0 ? base : base & 0xffffff;
  if (next === ((off + 2) | 0)) {
    c.write16(lin, limit);
    c.write32((lin + 2) | 0, stored);
  } else { // the 16-bit offset wraps inside the image
    c.writeSeg16(seg, off, limit);
    c.writeSeg32(seg, next, stored);
  }
}
export function ldt(c: CpuCore, d: number): void {
  requireCpl0(c);
  if (c.dRm[d] >= 0xc0) c.fault(UD, -1);
  const seg = c.dSeg[d], off = eaOff(c, d);
  const limit = c.readSeg16(seg, off);
  const next = (c.dEa[d] & EA_A16) !== 0 ? (off + 2) & 0xffff : (off + 2) | 0;
  let base = c.readSeg32(seg, next);
  if ((c.dPfx[d] & P_O32) === 0) base &= 0xffffff;
  if (((c.dRm[d] >> 3) & 7) === 3) { c.idtBase = base; c.idtLimit = limit; }
  else { c.gdtBase = base; c.gdtLimit = limit; }
}
export function sldt(c: CpuCore, d: number): void {
  requireProtected(c);
  if (c.dRm[d] >= 0xc0) wrEv(c, d, c.segSel[LDTR]); else wrEw(c, d, c.segSel[LDTR]);
}
export function str(c: CpuCore, d: number): void {
  requireProtected(c);
  if (c.dRm[d] >= 0xc0) wrEv(c, d, c.segSel[TR]); else wrEw(c, d, c.segSel[TR]);
}
export function lldt(c: CpuCore, d: number): void {
  requireProtected(c);
  requireCpl0(c);
  const sel = rdEw(c, d);
  if ((sel & 0xfffc) === 0) { loadNull(c, LDTR, sel); return; }
  if ((sel & 4) !== 0) c.gp(sel & 0xfffc);
  readDescriptor(c, sel, 13);
  if (dIsSegment(desc.hi) || dType(desc.hi) !== 2) c.gp(sel & 0xfffc);
  if (!dPresent(desc.hi)) c.fault(11, sel & 0xfffc);
  loadCache(c, LDTR, sel, desc.lo, desc.hi);
}
export function ltr(c: CpuCore, d: number): void {
  requireProtected(c);
  requireCpl0(c);
  const sel = rdEw(c, d);
  if ((sel & 0xfffc) === 0 || (sel & 4) !== 0) c.gp(sel & 0xfffc);
  readDescriptor(c, sel, 13);
  const t = dType(desc.hi);
  if (dIsSegment(desc.hi) || (t !== 1 && t !== 9)) c.gp(sel & 0xfffc);
  if (!dPresent(desc.hi)) c.fault(11, sel & 0xfffc);
  c.writeSys8((desc.addr + 5) | 0, ((desc.hi >> 8) | 2) & 0xff);
  loadCache(c, TR, sel, desc.lo, desc.hi | 0x200);
}

/** Descriptor visible to LAR/LSL/VERR/VERW at the current privilege? Leaves it in `desc`. */
function visibleDescriptor(c: CpuCore, sel: number, kind: number): boolean {
  if ((sel & 0xfffc) === 0) return false;
  const index = sel & 0xfff8;
  const limit = (sel & 4) !== 0 ? c.segLimit[LDTR] : c.gdtLimit;
  if ((sel & 4) !== 0 && (c.segAttr[LDTR] & 0x80) === 0) return false;
  if (index + 7 > limit) return false;
  readDescriptor(c, sel, 13);
  const hi = desc.hi;
  if (dIsSegment(hi)) {
    const conformingCode = dIsCode(hi) && (hi & 0x400) !== 0;
    if (!conformingCode && (dDpl(hi) < c.cpl || dDpl(hi) < (sel & 3))) return false;
    if (kind === 2) return !dIsCode(hi) || (hi & 0x200) !== 0; // VERR: readable
    if (kind === 3) return !dIsCode(hi) && (hi & 0x200) !== 0; // VERW: writable data
    return true;
  }
  if (kind >= 2) return false;
  const t = dType(hi);
  const ok = kind === 0 ? [1, 2, 3, 4, 5, 9, 11, 12].includes(t) : [1, 2, 3, 9, 11].includes(t);
  if (!ok) return false;
  return dDpl(hi) >= c.cpl && dDpl(hi) >= (sel & 3);
}
export function lar(c: CpuCore, d: number): void {
  requireProtected(c);
  const sel = rdEw(c, d);
  if (!visibleDescriptor(c, sel, 0)) { c.setArith(ZF, 0); return; }
  const r = (c.dRm[d] >> 3) & 7;
  const v = desc.hi & ((c.dPfx[d] & P_O32) !== 0 ? 0x00f0ff00 : 0xff00);
  if ((c.dPfx[d] & P_O32) !== 0) c.r32[r << 1] = v; else c.r16[r << 2] = v;
  c.setArith(ZF, ZF);
}
export function lsl(c: CpuCore, d: number): void {
  requireProtected(c);
  const sel = rdEw(c, d);
  if (!visibleDescriptor(c, sel, 1)) { c.setArith(ZF, 0); return; }
  const r = (c.dRm[d] >> 3) & 7;
  const v = dLimit(desc.lo, desc.hi);
  if ((c.dPfx[d] & P_O32) !== 0) c.r32[r << 1] = v; else c.r16[r << 2] = v;
  c.setArith(ZF, ZF);
}
export function verr(c: CpuCore, d: number): void {
  requireProtected(c);
  c.setArith(ZF, visibleDescriptor(c, rdEw(c, d), 2) ? ZF : 0);
}
export function verw(c: CpuCore, d: number): void {
  requireProtected(c);
  c.setArith(ZF, visibleDescriptor(c, rdEw(c, d), 3) ? ZF : 0);
}
export function arpl(c: CpuCore, d: number): void {
  requireProtected(c);
  const dst = rdEw(c, d);
  const src = c.r16[((c.dRm[d] >> 3) & 7) << 2];
  if ((dst & 3) < (src & 3)) {
    wrEw(c, d, (dst & ~3) | (src & 3));
    c.setArith(ZF, ZF);
  } else c.setArith(ZF, 0);
}

// ---- cache/TLB ----
export function invlpg(c: CpuCore, d: number): void {
  requireCpl0(c);
  if (c.dRm[d] >= 0xc0) c.fault(UD, -1);
  const lin = (c.segBase[c.dSeg[d]] + eaOff(c, d)) | 0;
  c.invalidateTlbPage(lin);
}
export function wbinvd(c: CpuCore): void { requireCpl0(c); }

// ---- identification, time, MSRs ----
export function cpuid(c: CpuCore): void {
  const leaf = c.r32[0] >>> 0;
  const r = c.r32;
  const basic = leaf <= 2 ? leaf : 2;
  switch (basic) {
    case 0:
      r[0] = 2;
      r[6] = 0x756e6547; r[4] = 0x49656e69; r[2] = 0x6c65746e; // "GenuineIntel" in EBX, EDX, ECX
      break;
    case 1: {
      r[0] = 0x0619; // family 6, model 1, stepping 9
      r[6] = 0; r[2] = 0;
      // VME DE PSE TSC MSR PAE CX8 SEP PGE CMOV (+ FPU, FXSR when an FPU is attached)
      let edx = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 11) | (1 << 13) | (1 << 15);
      if (c.fpu !== null) edx |= 1 | (1 << 24);
      if (c.reportApic) edx |= 1 << 9;
      r[4] = edx;
      break;
    }
    default:
      r[0] = 0x00000001; r[6] = 0; r[2] = 0; r[4] = 0; // one iteration, no cache descriptors
      break;
  }
}
export function readTsc(c: CpuCore): number {
  const t = c.time !== null ? c.time.readTsc() : c.retired;
  return t + c.tscOffset;
}
export function rdtsc(c: CpuCore): void {
  if ((c.cr4 & CR4_TSD) !== 0 && (c.cr0 & CR0_PE) !== 0 && c.cpl !== 0) c.gp(0);
  const t = readTsc(c);
  c.r32[0] = t % 4294967296;
  c.r32[4] = Math.floor(t / 4294967296);
}
export { rdpmc } from '../system/pmu.js';

const MTRR_MSRS = new Set([0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f, 0x2ff]);
function isMtrr(msr: number): boolean {
  return (msr >= 0x200 && msr <= 0x20f) || MTRR_MSRS.has(msr);
}
export function rdmsr(c: CpuCore): void {
  requireCpl0(c);
  const msr = c.r32[2] >>> 0;
  let lo = 0, hi = 0;
  switch (msr) {
    case 0x10: { const t = readTsc(c); lo = t % 4294967296; hi = Math.floor(t / 4294967296); break; }
    case 0x17: case 0x2a: case 0x8b: break;
    case 0x1b: lo = c.apicBase; break;
    case 0xfe: lo = 0; break; // MTRRcap: no variable ranges, no fixed ranges
    case 0x174: lo = c.sysenterCs; break;
    case 0x175: lo = c.sysenterEsp; break;
    case 0x176: lo = c.sysenterEip; break;
    case 0x1a0: lo = c.miscEnable; break;
    case 0x277: lo = c.patLo; hi = c.patHi; break;
    default: {
      if (readCounterMsr(c, msr)) return;
      if (!isMtrr(msr)) c.gp(0);
      const v = c.msrStore.get(msr);
      if (v !== undefined) { lo = v[0]; hi = v[1]; }
    }
  }
  c.r32[0] = lo; c.r32[4] = hi;
}
export function wrmsr(c: CpuCore): void {
  requireCpl0(c);
  const msr = c.r32[2] >>> 0, lo = c.r32[0], hi = c.r32[4];
  switch (msr) {
    case 0x10: c.tscOffset = (hi >>> 0) * 4294967296 + (lo >>> 0) - (c.time !== null ? c.time.readTsc() : c.retired); break;
    case 0x79: case 0x8b: break; // microcode update: accepted and ignored
    case 0x1b: c.apicBase = (lo & ~0x6ff) | (c.apicBase & 0x100); break;
    case 0x174: c.sysenterCs = lo & 0xffff; break;
    case 0x175: c.sysenterEsp = lo; break;
    case 0x176: c.sysenterEip = lo; break;
    case 0x1a0: c.miscEnable = lo; break;
    case 0x277: c.patLo = lo; c.patHi = hi; break;
    default:
      if (writeCounterMsr(c, msr, lo)) return;
      if (!isMtrr(msr)) c.gp(0);
      c.msrStore.set(msr, [lo, hi]);
  }
}

// ---- fast system calls ----
const FLAT_CODE_HI = 0x00cf9b00, FLAT_DATA_HI = 0x00cf9300, FLAT_LO = 0x0000ffff;
export function sysenter(c: CpuCore): void {
  if ((c.cr0 & CR0_PE) === 0 || (c.sysenterCs & 0xfffc) === 0) c.gp(0);
  c.flags = c.getFlags() & ~(VM | IF | RF);
  const cs = c.sysenterCs & 0xfffc;
  loadCs(c, cs, FLAT_LO, FLAT_CODE_HI, 0);
  loadCache(c, SS, (cs + 8) & 0xfffc, FLAT_LO, FLAT_DATA_HI);
  c.r32[8] = c.sysenterEsp;
  c.eip = c.sysenterEip;
  c.chunkBreak = true;
}
export function sysexit(c: CpuCore): void {
  if ((c.cr0 & CR0_PE) === 0 || (c.flags & VM) !== 0 || c.cpl !== 0 || (c.sysenterCs & 0xfffc) === 0) c.gp(0);
  const cs = c.sysenterCs;
  loadCs(c, ((cs + 16) & 0xfffc) | 3, FLAT_LO, FLAT_CODE_HI | 0x6000, 3);
  loadCache(c, SS, ((cs + 24) & 0xfffc) | 3, FLAT_LO, FLAT_DATA_HI | 0x6000);
  c.r32[8] = c.r32[2];
  c.eip = c.r32[4];
  c.chunkBreak = true;
}

// ---- x87 routing ----
/** ESC D8-DF: #NM when CR0.EM or CR0.TS, else hand the instruction to the FPU. */
export function esc(c: CpuCore, d: number): void {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0 || c.fpu === null) c.fault(NM, -1);
  const m = c.dRm[d];
  let ea = 0;
  if (m < 0xc0) {
    // The operand's segment checks (limit, writability; #GP, or #SS through SS) cover all of its
    // bytes; reserved encodings are left to the FPU's #UD.
    const ext = c.dExt[d], reg = (m >> 3) & 7, form = (ext << 3) | reg, size = X87_SIZE[form]!;
    const off = eaOff(c, d), store = X87_STORE[form] !== 0;
    if (size === 0) ea = (c.segBase[c.dSeg[d]] + off) | 0;
    else {
      const bytes = size > 0 ? size : X87_STATE_SIZE[(size === -1 ? 0 : 2) + ((c.dPfx[d] & P_O32) !== 0 ? 1 : 0)]!;
      ea = c.linUnaligned(c.dSeg[d], off, bytes, store);
      if (store) c.probeStore(ea, bytes);
    }
    if (c.alignCheck !== 0) x87AlignmentCheck(c, d, ea, size, store);
    // FLD/FST/FSTP m64real straight to the FPU's own entries for them (Fpu.loadF64/storeF64).
    if (ext === 5 && (reg === 0 || reg === 2 || reg === 3)) {
      const fpu = c.fpu, cs = c.segSel[CS], ds = c.segSel[c.dSeg[d]];
      if (reg === 0 ? fpu.loadF64 !== undefined && fpu.loadF64(c, ea, m, c.curEip, cs, ds)
        : fpu.storeF64 !== undefined && fpu.storeF64(c, ea, m, reg === 3, c.curEip, cs, ds)) return;
    }
  }
  c.fpu.execute(c, 0xd8 + c.dExt[d], m, ea, (c.dPfx[d] & P_O32) !== 0, (c.cr0 & CR0_PE) !== 0 && (c.flags & VM) === 0,
    c.curEip, c.segSel[CS], c.segSel[c.dSeg[d]]);
}
/**
 * Size in bytes of an x87 memory operand by escape byte (D8..DF) and ModRM.reg: 0 for the reserved
 * encodings (#UD), -1 for the environment (FLDENV/FNSTENV: 14 or 28 bytes by operand size), -2 for
 * the whole state (FRSTOR/FNSAVE: 94 or 108).
 */
const X87_SIZE = new Int8Array([
  4, 4, 4, 4, 4, 4, 4, 4, // D8 m32real
  4, 0, 4, 4, -1, 2, -1, 2, // D9 FLD/FST(P) m32, FLDENV, FLDCW, FNSTENV, FNSTCW
  4, 4, 4, 4, 4, 4, 4, 4, // DA m32int
  4, 0, 4, 4, 0, 10, 0, 10, // DB m32int, FLD/FSTP m80
  8, 8, 8, 8, 8, 8, 8, 8, // DC m64real
  8, 0, 8, 8, -2, 0, -2, 2, // DD FLD/FST(P) m64, FRSTOR, FNSAVE, FNSTSW
  2, 2, 2, 2, 2, 2, 2, 2, // DE m16int
  2, 0, 2, 2, 10, 8, 10, 8, // DF m16int, FBLD, FILD m64, FBSTP, FISTP m64
]);
/** [environment 16-bit, 32-bit, whole state 16-bit, 32-bit] sizes (X87_SIZE -1 and -2). */
const X87_STATE_SIZE = [14, 28, 94, 108];
/** The x87 memory forms that write their operand (FST, FSTP, FIST, FISTP, FBSTP, FNSTENV, FNSTCW, FNSAVE, FNSTSW). */
const X87_STORE = new Uint8Array(64);
for (const ext of [1, 3, 5, 7]) for (const reg of [2, 3, 6, 7]) X87_STORE[(ext << 3) | reg] = 1;
/**
 * #AC for an x87 memory operand of `size` (X87_SIZE) at linear `ea`, per the SDM's alignment table:
 * m16 2, m32 4, m64 and m80 8, control/status words 2, FLDENV/FSTENV/FRSTOR/FSAVE 4 (32-bit operand
 * size) or 2. Packed BCD (FBLD/FBSTP, the 10-byte forms of DF) has no entry there and is not
 * checked, nor are the reserved encodings (their #UD comes first). Stores probe as writes, so a #PF
 * reports a write.
 */
function x87AlignmentCheck(c: CpuCore, d: number, ea: number, size: number, store: boolean): void {
  const mask = size < 0 ? ((c.dPfx[d] & P_O32) !== 0 ? 3 : 1) : size === 10 ? (c.dExt[d] === 7 ? 0 : 7) : size === 0 ? 0 : size - 1;
  if (mask !== 0) c.checkAlignment(ea, mask, mask + 1, c.userKind + (store ? 1 : 0));
}
export function fwait(c: CpuCore): void {
  if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) c.fault(NM, -1);
  if (c.fpu !== null) c.fpu.fwait(c);
}
/** 0F AE /0 FXSAVE, /1 FXRSTOR. */
export function fxsaveRstor(c: CpuCore, d: number): void {
  if (c.dRm[d] >= 0xc0 || c.fpu === null || (c.cr0 & CR0_EM) !== 0) c.fault(UD, -1);
  if ((c.cr0 & CR0_TS) !== 0) c.fault(NM, -1);
  const off = eaOff(c, d);
  if ((off & 15) !== 0) c.gp(0);
  const store = ((c.dRm[d] >> 3) & 7) === 0;
  const lin = store ? c.linW(c.dSeg[d], off, 512) : c.linR(c.dSeg[d], off, 512);
  if (store) {
    c.probeStore(lin, 512);
    c.fpu.fxsave(c, lin);
  } else c.fpu.fxrstor(c, lin);
}
