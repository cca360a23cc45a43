import { CR0_PE, CS, DS, ES, FS, GP, GS, LDTR, NP, SS, SSF, TS, VM } from '../constants.js';
import type { CpuCore } from '../core.js';

/** The last descriptor read by {@link readDescriptor} (module state: no allocation per load). */
export const desc = { lo: 0, hi: 0, addr: 0 };

/** Descriptor attribute helpers over the high dword. */
export const dPresent = (hi: number): boolean => (hi & 0x8000) !== 0;
export const dDpl = (hi: number): number => (hi >> 13) & 3;
export const dIsSegment = (hi: number): boolean => (hi & 0x1000) !== 0;
export const dIsCode = (hi: number): boolean => (hi & 0x1800) === 0x1800;
export const dType = (hi: number): number => (hi >> 8) & 0xf;
export function dBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0;
}
export function dLimit(lo: number, hi: number): number {
  const raw = (hi & 0xf0000) | (lo & 0xffff);
  return (hi & 0x800000) !== 0 ? raw * 4096 + 0xfff : raw;
}

/**
 * Read the descriptor for `sel` from the GDT or LDT into {@link desc}. A selector beyond the table
 * limit raises `vector` with the selector as error code (plus `ext`).
 */
export function readDescriptor(c: CpuCore, sel: number, vector: number, ext = 0): void {
  const index = sel & 0xfff8;
  let base: number, limit: number;
  if ((sel & 4) !== 0) {
    if ((c.segAttr[LDTR] & 0x80) === 0) c.fault(vector, (sel & 0xfffc) | ext);
    base = c.segBase[LDTR]; limit = c.segLimit[LDTR];
  } else {
    base = c.gdtBase; limit = c.gdtLimit;
  }
  if (index + 7 > limit) c.fault(vector, (sel & 0xfffc) | ext);
  desc.addr = (base + index) | 0;
  desc.lo = c.readSys32(desc.addr);
  desc.hi = c.readSys32((desc.addr + 4) | 0);
}
/** Set the accessed bit of the descriptor last read (code/data segments). */
export function setAccessed(c: CpuCore): void {
  if ((desc.hi & 0x100) === 0) {
    desc.hi |= 0x100;
    c.writeSys8((desc.addr + 5) | 0, (desc.hi >> 8) & 0xff);
  }
}

/** Fill segment cache `seg` from a descriptor. */
export function loadCache(c: CpuCore, seg: number, sel: number, lo: number, hi: number): void {
  c.segSel[seg] = sel & 0xffff;
  c.segBase[seg] = dBase(lo, hi);
  c.segLimit[seg] = dLimit(lo, hi);
  c.segAttr[seg] = (hi >>> 8) & 0xf0ff;
  c.updateSegCheck(seg);
  if (seg === SS) c.ssChanged();
}
/** Mark a data segment register null (usable for nothing). */
export function loadNull(c: CpuCore, seg: number, sel: number): void {
  c.segSel[seg] = sel & 0xffff;
  c.segAttr[seg] = 0;
  c.segBase[seg] = 0;
  c.segLimit[seg] = 0;
  c.updateSegCheck(seg);
}
/** Load CS from a code descriptor at privilege `cpl` (selector RPL becomes CPL). */
export function loadCs(c: CpuCore, sel: number, lo: number, hi: number, cpl: number): void {
  loadCache(c, CS, (sel & 0xfffc) | cpl, lo, hi);
  c.setCpl(cpl);
  c.csChanged();
}

/**
 * MOV/POP/LxS to a segment register, with all protected-mode checks. A task switch passes #TS as
 * `vector` for the checks that raise #GP otherwise.
 */
export function loadSeg(c: CpuCore, seg: number, sel: number, vector = GP): void {
  sel &= 0xffff;
  if ((c.cr0 & CR0_PE) === 0 || (c.flags & VM) !== 0) { c.loadSegReal(seg, sel); return; }
  const rpl = sel & 3;
  if (seg === SS) {
    if ((sel & 0xfffc) === 0) c.fault(vector, 0);
    readDescriptor(c, sel, vector);
    const hi = desc.hi;
    if (rpl !== c.cpl || dDpl(hi) !== c.cpl || !dIsSegment(hi) || (hi & 0x800) !== 0 || (hi & 0x200) === 0) c.fault(vector, sel & 0xfffc);
    if (!dPresent(hi)) c.fault(SSF, sel & 0xfffc);
    setAccessed(c);
    loadCache(c, SS, sel, desc.lo, desc.hi);
    return;
  }
  if ((sel & 0xfffc) === 0) { loadNull(c, seg, sel); return; }
  readDescriptor(c, sel, vector);
  const hi = desc.hi;
  if (!dIsSegment(hi)) c.fault(vector, sel & 0xfffc);
  if (dIsCode(hi) && (hi & 0x200) === 0) c.fault(vector, sel & 0xfffc); // execute-only code
  const conformingCode = dIsCode(hi) && (hi & 0x400) !== 0;
  if (!conformingCode && (rpl > dDpl(hi) || c.cpl > dDpl(hi))) c.fault(vector, sel & 0xfffc);
  if (!dPresent(hi)) c.fault(NP, sel & 0xfffc);
  setAccessed(c);
  loadCache(c, seg, sel, desc.lo, desc.hi);
}

const DATA_SEGS = [ES, DS, FS, GS] as const;

/** After a return to an outer privilege level: data segments the new CPL may not use become null. */
export function invalidateDataSegs(c: CpuCore): void {
  for (let i = 0; i < DATA_SEGS.length; i++) {
    const s = DATA_SEGS[i];
    const a = c.segAttr[s];
    if ((a & 0x80) === 0) continue;
    const conformingCode = (a & 0x18) === 0x18 && (a & 0x4) !== 0;
    const dpl = (a >> 5) & 3;
    if (!conformingCode && dpl < c.cpl) loadNull(c, s, 0);
  }
}

/**
 * Check a code-segment descriptor (in {@link desc}) as the target of a far transfer. Returns the new CPL.
 * `call` distinguishes CALL (may go inward through gates only) from JMP; both require same privilege here.
 */
export function checkCodeTarget(c: CpuCore, sel: number, hi: number): number {
  if (!dIsCode(hi)) c.gp(sel & 0xfffc);
  const dpl = dDpl(hi);
  if ((hi & 0x400) !== 0) { if (dpl > c.cpl) c.gp(sel & 0xfffc); }
  else if ((sel & 3) > c.cpl || dpl !== c.cpl) c.gp(sel & 0xfffc);
  if (!dPresent(hi)) c.fault(NP, sel & 0xfffc);
  return c.cpl;
}

/** Stack pointer for privilege level `dpl` from the current TSS (32- or 16-bit); raises #TS on overrun. */
export function tssStack(c: CpuCore, dpl: number): { ss: number; esp: number } {
  const type = (c.segAttr[7] & 0xf);
  const is32 = (type & 8) !== 0;
  const off = is32 ? 4 + dpl * 8 : 2 + dpl * 4;
  const size = is32 ? 8 : 4;
  if (off + size - 1 > c.segLimit[7]) c.fault(TS, c.segSel[7] & 0xfffc);
  const base = c.segBase[7];
  if (is32) {
    tssResult.esp = c.readSys32((base + off) | 0);
    tssResult.ss = c.readSys16((base + off + 4) | 0);
  } else {
    tssResult.esp = c.readSys16((base + off) | 0);
    tssResult.ss = c.readSys16((base + off + 2) | 0);
  }
  return tssResult;
}
const tssResult = { ss: 0, esp: 0 };

/** Validate the new SS for an inner-privilege transfer; leaves its descriptor in `ssDesc`. */
export function checkInnerStack(c: CpuCore, ss: number, dpl: number, ext: number): void {
  if ((ss & 0xfffc) === 0) c.fault(TS, ext);
  readDescriptor(c, ss, TS, ext);
  const hi = desc.hi;
  if ((ss & 3) !== dpl || dDpl(hi) !== dpl || !dIsSegment(hi) || (hi & 0x800) !== 0 || (hi & 0x200) === 0) {
    c.fault(TS, (ss & 0xfffc) | ext);
  }
  if (!dPresent(hi)) c.fault(SSF, (ss & 0xfffc) | ext);
  setAccessed(c);
  ssDesc.lo = desc.lo; ssDesc.hi = desc.hi;
}
export const ssDesc = { lo: 0, hi: 0 };

/** A little stack writer for building frames on a stack that is not loaded yet (supervisor accesses). */
export class FrameWriter {
  base = 0; limit = 0; big = false; sp = 0; sel = 0;
  setup(base: number, limit: number, big: boolean, sp: number, sel: number): void {
    this.base = base; this.limit = limit; this.big = big; this.sp = big ? sp | 0 : sp & 0xffff; this.sel = sel;
  }
  push(c: CpuCore, v: number, size: number): void {
    const sp = this.big ? (this.sp - size) | 0 : (this.sp - size) & 0xffff;
    if ((sp >>> 0) + size - 1 > this.limit) c.fault(SSF, this.sel & 0xfffc);
    const lin = (this.base + sp) | 0;
    if (size === 4) c.writeSys32(lin, v); else c.writeSys16(lin, v);
    this.sp = sp;
  }
}
export const frame = new FrameWriter();

/** Read a code descriptor for a far transfer target and check presence/type basics. */
export function readCodeDescriptor(c: CpuCore, sel: number): void {
  if ((sel & 0xfffc) === 0) c.gp(0);
  readDescriptor(c, sel, GP);
}
