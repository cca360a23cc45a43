import { AC, CR0_PE, CS, DB, DS, ES, FS, GP, GS, IF, IOPL, NP, NT, PFV, RF, SS, TF, VIF, VIP, VM } from '../constants.js';
import type { CpuCore } from '../core.js';
import { writeFlags } from '../exec/data.js';
import {
  checkInnerStack, dBase, dDpl, desc, dIsCode, dIsSegment, dLimit, dPresent, frame, invalidateDataSegs, loadCache,
  loadCs, loadNull, readDescriptor, setAccessed, ssDesc, tssStack,
} from './segments.js';
import { CpuStat } from '../stats.js';
import { countersWake, countHardwareInterrupt } from './pmu.js';
import { TASK_INT, TASK_IRET, taskSwitch } from './task.js';
import { virtualPopFlags, vmeActive } from './vme.js';

/** How an event reached the CPU: it decides the gate-DPL check and the EXT bit of error codes. */
export const EV_SOFTWARE = 0, EV_EXCEPTION = 1, EV_EXTERNAL = 2;

/**
 * Deliver interrupt/exception `vector` through the IVT (real mode) or IDT. `error` < 0 means no
 * error code. `c.eip` must hold the return address. May raise (a fault during delivery).
 */
export function deliver(c: CpuCore, vector: number, error: number, kind: number): void {
  if (kind === EV_EXCEPTION) countException(c, vector);
  // Performance counters: the halted time ends here; HW_INT_RX counts at the interrupted CPL.
  if (c.pmu.sleeping) countersWake(c);
  if (kind === EV_EXTERNAL && c.pmu.active) countHardwareInterrupt(c);
  c.halted = false;
  // Entering the debug exception handler clears DR7.GD so the handler can use the debug registers.
  if (vector === DB && kind === EV_EXCEPTION) c.dr[7] &= ~0x2000;
  const flags = c.getFlags();
  if ((c.cr0 & CR0_PE) === 0) {
    if (vector * 4 + 3 > c.idtLimit) c.gp(0);
    const ip = c.readSys16((c.idtBase + vector * 4) | 0);
    const cs = c.readSys16((c.idtBase + vector * 4 + 2) | 0);
    const l1 = c.linW(SS, c.spOff(-2), 2), l2 = c.linW(SS, c.spOff(-4), 2), l3 = c.linW(SS, c.spOff(-6), 2);
    c.write16(l1, flags); c.write16(l2, c.segSel[CS]); c.write16(l3, c.eip);
    c.addSp(-6);
    c.flags = flags & ~(IF | TF | AC | RF);
    c.loadSegReal(CS, cs);
    c.eip = ip;
    return;
  }
  const ext = kind === EV_SOFTWARE ? 0 : 1;
  const idtErr = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > c.idtLimit) c.gp(idtErr);
  const lo = c.readSys32((c.idtBase + vector * 8) | 0);
  const hi = c.readSys32((c.idtBase + vector * 8 + 4) | 0);
  const type = (hi >> 8) & 0x1f;
  if (type !== 5 && type !== 6 && type !== 7 && type !== 14 && type !== 15) c.gp(idtErr);
  if (kind === EV_SOFTWARE && dDpl(hi) < c.cpl) c.gp(idtErr);
  if (!dPresent(hi)) c.fault(NP, idtErr);

  if (type === 5) {
    const tss = lo >>> 16;
    if ((tss & 4) !== 0) c.fault(10, (tss & 0xfffc) | ext);
    readDescriptor(c, tss, 10, ext);
    const debugTrap = taskSwitch(c, tss, desc.lo, desc.hi, TASK_INT, c.eip);
    if (error >= 0) {
      if ((c.segAttr[7] & 8) !== 0) c.push32(error); else c.push16(error);
    }
    if (debugTrap) taskSwitchTrap(c);
    return;
  }
  const gate32 = (type & 8) !== 0;
  const w = gate32 ? 4 : 2;
  const target = lo >>> 16;
  const off = gate32 ? ((hi & 0xffff0000) | (lo & 0xffff)) : lo & 0xffff;
  if ((target & 0xfffc) === 0) c.gp(ext);
  readDescriptor(c, target, GP, ext);
  const clo = desc.lo, chi = desc.hi;
  if (!dIsCode(chi) || dDpl(chi) > c.cpl) c.gp((target & 0xfffc) | ext);
  if (!dPresent(chi)) c.fault(NP, (target & 0xfffc) | ext);
  const newCpl = (chi & 0x400) !== 0 ? c.cpl : dDpl(chi);
  const fromV86 = (flags & VM) !== 0;
  if ((off >>> 0) > dLimit(clo, chi)) c.gp(ext);

  if (newCpl < c.cpl || fromV86) {
    if (fromV86 && newCpl !== 0) c.gp((target & 0xfffc) | ext);
    const st = tssStack(c, newCpl);
    const newSs = st.ss, newEsp = st.esp;
    checkInnerStack(c, newSs, newCpl, ext);
    const slo = ssDesc.lo, shi = ssDesc.hi;
    frame.setup(dBase(slo, shi), dLimit(slo, shi), (shi & 0x400000) !== 0, newEsp, newSs);
    if (fromV86) {
      frame.push(c, c.segSel[GS], w); frame.push(c, c.segSel[FS], w);
      frame.push(c, c.segSel[DS], w); frame.push(c, c.segSel[ES], w);
    }
    frame.push(c, c.segSel[SS], w);
    frame.push(c, c.r32[8], w);
    frame.push(c, flags, w);
    frame.push(c, c.segSel[CS], w);
    frame.push(c, c.eip, w);
    if (error >= 0) frame.push(c, error, w);
    // Commit.
    c.flags = flags & ~(TF | NT | RF | VM | (type & 1 ? 0 : IF));
    if (fromV86) { loadNull(c, GS, 0); loadNull(c, FS, 0); loadNull(c, DS, 0); loadNull(c, ES, 0); }
    loadCache(c, SS, (newSs & 0xfffc) | newCpl, slo, shi);
    c.r32[8] = frame.big ? frame.sp : (newEsp & ~0xffff) | frame.sp;
    setAccessedAt(c, target, chi);
    loadCs(c, target, clo, chi, newCpl);
  } else {
    const l0 = c.linW(SS, c.spOff(-w), w);
    const l1 = c.linW(SS, c.spOff(-2 * w), w);
    const l2 = c.linW(SS, c.spOff(-3 * w), w);
    const l3 = error >= 0 ? c.linW(SS, c.spOff(-4 * w), w) : 0;
    const k = 1; // supervisor-or-current: the frame is written at the current privilege
    void k;
    if (gate32) {
      c.write32(l0, flags); c.write32(l1, c.segSel[CS]); c.write32(l2, c.eip);
      if (error >= 0) c.write32(l3, error);
    } else {
      c.write16(l0, flags); c.write16(l1, c.segSel[CS]); c.write16(l2, c.eip);
      if (error >= 0) c.write16(l3, error);
    }
    c.addSp(-(error >= 0 ? 4 : 3) * w);
    c.flags = flags & ~(TF | NT | RF | VM | (type & 1 ? 0 : IF));
    setAccessedAt(c, target, chi);
    loadCs(c, target, clo, chi, newCpl);
  }
  c.eip = off;
}

/** DR6.BT: the #DB was raised by a task switch into a TSS with the T bit set. */
const DR6_BT = 0x8000;

/**
 * The TSS debug trap: a completed task switch into a task whose TSS has T set raises #DB (a trap,
 * DR6.BT) before the new task's first instruction, so the saved EIP is that instruction. Delivered
 * here, from inside the switching instruction or event, so the switching instruction still retires.
 */
export function taskSwitchTrap(c: CpuCore): void {
  c.dr[6] |= DR6_BT;
  c.curEip = c.eip;
  if (c.stopOnException) c.trapStop(DB);
  deliver(c, DB, -1, EV_EXCEPTION);
}

function setAccessedAt(c: CpuCore, sel: number, hi: number): void {
  if ((hi & 0x100) !== 0) return;
  readDescriptor(c, sel, GP);
  setAccessed(c);
}

/** IRET / IRETD. */
export function iret(c: CpuCore, o32: boolean): void {
  const w = o32 ? 4 : 2;
  const flags = c.getFlags();
  c.chunkBreak = true;
  c.nmiBlocked = false;
  if ((c.cr0 & CR0_PE) === 0) {
    const ip = o32 ? c.peek32(0) : c.peek16(0);
    const cs = o32 ? c.peek32(4) & 0xffff : c.peek16(2);
    const fl = o32 ? c.peek32(8) : c.peek16(4);
    c.addSp(3 * w);
    c.loadSegReal(CS, cs);
    c.eip = o32 ? ip : ip & 0xffff;
    writeFlags(c, fl, o32);
    if (o32) c.flags = (c.flags & ~RF) | (fl & RF); // IRETD loads RF (POPF cannot)
    return;
  }
  if ((flags & VM) !== 0) {
    if (((flags >> 12) & 3) < 3) {
      // VME: a 16-bit IRET in v8086 mode works on VIF; everything else is the monitor's job.
      if (o32 || !vmeActive(c)) c.gp(0);
      const ip = c.peek16(0), cs = c.peek16(2), fl = c.peek16(4);
      virtualPopFlags(c, fl);
      c.addSp(6);
      c.loadSegReal(CS, cs);
      c.eip = ip;
      return;
    }
    const ip = o32 ? c.peek32(0) : c.peek16(0);
    const cs = o32 ? c.peek32(4) & 0xffff : c.peek16(2);
    const fl = o32 ? c.peek32(8) : c.peek16(4);
    if (!o32 && (ip & 0xffff0000) !== 0) c.gp(0);
    c.addSp(3 * w);
    c.loadSegReal(CS, cs);
    c.eip = ip;
    const mask = o32 ? ~(IOPL | VM | VIP | VIF) : 0xffff & ~IOPL;
    c.flags = (c.getFlags() & ~mask) | (fl & mask);
    c.updateAlignCheck();
    return;
  }
  if ((flags & NT) !== 0) {
    const link = c.readSys16(c.segBase[7]);
    readDescriptor(c, link, 10);
    if (dIsSegment(desc.hi) || ((desc.hi >> 8) & 0x17) !== 3) c.fault(10, link & 0xfffc);
    if (taskSwitch(c, link, desc.lo, desc.hi, TASK_IRET, c.eip)) taskSwitchTrap(c);
    return;
  }
  const eip = o32 ? c.peek32(0) : c.peek16(0);
  const cs = (o32 ? c.peek32(4) : c.peek16(2)) & 0xffff;
  const fl = o32 ? c.peek32(8) : c.peek16(4);
  if ((fl & VM) !== 0 && c.cpl === 0 && o32) {
    returnToV86(c, eip, cs, fl);
    return;
  }
  if ((cs & 0xfffc) === 0) c.gp(0);
  readDescriptor(c, cs, GP);
  const lo = desc.lo, hi = desc.hi;
  const rpl = cs & 3;
  if (rpl < c.cpl || !dIsCode(hi)) c.gp(cs & 0xfffc);
  if ((hi & 0x400) !== 0 ? dDpl(hi) > rpl : dDpl(hi) !== rpl) c.gp(cs & 0xfffc);
  if (!dPresent(hi)) c.fault(NP, cs & 0xfffc);
  if ((eip >>> 0) > dLimit(lo, hi)) c.gp(0);
  const oldCpl = c.cpl;
  if (rpl === c.cpl) {
    c.addSp(3 * w);
    setAccessed(c);
    loadCs(c, cs, lo, hi, rpl);
    c.eip = eip;
    writeFlagsAt(c, fl, o32, oldCpl);
    return;
  }
  const newEsp = o32 ? c.peek32(12) : c.peek16(6);
  const newSs = (o32 ? c.peek32(16) : c.peek16(8)) & 0xffff;
  if ((newSs & 0xfffc) === 0) c.gp(0);
  const codeAddr = desc.addr;
  readDescriptor(c, newSs, GP);
  const shi = desc.hi, slo = desc.lo;
  if ((newSs & 3) !== rpl || dDpl(shi) !== rpl || !dIsSegment(shi) || (shi & 0x800) !== 0 || (shi & 0x200) === 0) c.gp(newSs & 0xfffc);
  if (!dPresent(shi)) c.fault(0xc, newSs & 0xfffc);
  setAccessed(c);
  if ((hi & 0x100) === 0) c.writeSys8((codeAddr + 5) | 0, ((hi | 0x100) >> 8) & 0xff);
  loadCs(c, cs, lo, hi | 0x100, rpl);
  writeFlagsAt(c, fl, o32, oldCpl);
  loadCache(c, SS, newSs, slo, shi);
  if (c.ss32) c.r32[8] = newEsp; else c.r16[16] = newEsp;
  c.eip = eip;
  invalidateDataSegs(c);
}

/** EFLAGS update of IRET with the privilege rules evaluated at the CPL the IRET started at. */
function writeFlagsAt(c: CpuCore, value: number, o32: boolean, cpl: number): void {
  const saved = c.cpl;
  c.cpl = cpl;
  writeFlags(c, value, o32);
  c.cpl = saved;
  c.updateAlignCheck();
  // IRETD loads RF (POPF cannot): a debug handler sets it to step over an instruction breakpoint.
  if (o32) c.flags = (c.flags & ~RF) | (value & RF);
  // VIF/VIP are only writable at CPL 0 with a 32-bit IRET.
  if (o32 && cpl === 0) c.flags = (c.flags & ~(VIF | VIP)) | (value & (VIF | VIP));
}

function returnToV86(c: CpuCore, eip: number, cs: number, fl: number): void {
  const esp = c.peek32(12), ss = c.peek32(16), es = c.peek32(20), ds = c.peek32(24), fs = c.peek32(28), gs = c.peek32(32);
  c.flags = (fl & 0x3f7fd5) | 2;
  c.flags |= VM;
  c.setCpl(3);
  c.loadSegReal(CS, cs);
  c.loadSegReal(SS, ss);
  c.loadSegReal(ES, es); c.loadSegReal(DS, ds); c.loadSegReal(FS, fs); c.loadSegReal(GS, gs);
  c.r32[8] = esp;
  c.eip = eip & 0xffff;
  c.csChanged(); c.ssChanged();
  c.syncAlignCheck();
}

/** The vector classes of the double-fault table. */
export function isContributory(v: number): boolean {
  return v === 0 || (v >= 10 && v <= 13);
}

export { dLimit };

/** Counts one exception (and a #PF separately) in the CPU statistics. */
export function countException(c: CpuCore, vector: number): void {
  c.stats[CpuStat.Exceptions]++;
  if (vector === PFV) c.stats[CpuStat.PageFaults]++;
}
