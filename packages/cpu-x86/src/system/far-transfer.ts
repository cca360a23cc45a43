import { CR0_PE, CS, GP, NP, SS, VM } from '../constants.js';
import type { CpuCore } from '../core.js';
import {
  checkCodeTarget, checkInnerStack, dDpl, desc, dIsCode, dIsSegment, dLimit, dPresent, dType, frame,
  invalidateDataSegs, loadCache, loadCs, readCodeDescriptor, readDescriptor, setAccessed, ssDesc, tssStack,
} from './segments.js';
import { taskSwitchTrap } from './interrupts.js';
import { TASK_CALL, TASK_JMP, taskSwitch } from './task.js';

function inRealOrV86(c: CpuCore): boolean {
  return (c.cr0 & CR0_PE) === 0 || (c.flags & VM) !== 0;
}

/** JMP ptr16:16/32 or JMP m16:16/32. */
export function farJump(c: CpuCore, sel: number, off: number, o32: boolean): void {
  sel &= 0xffff;
  if (!o32) off &= 0xffff;
  if (inRealOrV86(c)) {
    c.loadSegReal(CS, sel);
    c.eip = off;
    return;
  }
  readCodeDescriptor(c, sel);
  const hi = desc.hi, lo = desc.lo;
  if (dIsSegment(hi)) {
    checkCodeTarget(c, sel, hi);
    if ((off >>> 0) > dLimit(lo, hi)) c.gp(0);
    setAccessed(c);
    loadCs(c, sel, desc.lo, desc.hi, c.cpl);
    c.eip = off;
    return;
  }
  const type = dType(hi);
  if (type === 4 || type === 12) { // call gate
    if (dDpl(hi) < c.cpl || dDpl(hi) < (sel & 3)) c.gp(sel & 0xfffc);
    if (!dPresent(hi)) c.fault(NP, sel & 0xfffc);
    const target = lo >>> 16;
    const gateOff = type === 12 ? ((hi & 0xffff0000) | (lo & 0xffff)) : lo & 0xffff;
    readCodeDescriptor(c, target);
    const thi = desc.hi;
    if (!dIsCode(thi)) c.gp(target & 0xfffc);
    if ((thi & 0x400) !== 0 ? dDpl(thi) > c.cpl : dDpl(thi) !== c.cpl) c.gp(target & 0xfffc);
    if (!dPresent(thi)) c.fault(NP, target & 0xfffc);
    if ((gateOff >>> 0) > dLimit(desc.lo, thi)) c.gp(0);
    setAccessed(c);
    loadCs(c, target, desc.lo, desc.hi, c.cpl);
    c.eip = gateOff;
    return;
  }
  if (type === 5 || type === 1 || type === 9) {
    taskJump(c, sel, lo, hi, TASK_JMP);
    return;
  }
  c.gp(sel & 0xfffc);
}

function taskJump(c: CpuCore, sel: number, lo: number, hi: number, reason: number): void {
  if (dDpl(hi) < c.cpl || dDpl(hi) < (sel & 3)) c.gp(sel & 0xfffc);
  if (!dPresent(hi)) c.fault(NP, sel & 0xfffc);
  let tssSel = sel;
  if (dType(hi) === 5) {
    tssSel = lo >>> 16;
    if ((tssSel & 4) !== 0) c.gp(tssSel & 0xfffc);
    readDescriptor(c, tssSel, GP);
  }
  if (taskSwitch(c, tssSel, desc.lo, desc.hi, reason, c.eip)) taskSwitchTrap(c);
}

/** CALL ptr16:16/32 or CALL m16:16/32 (c.eip already holds the return address). */
export function farCall(c: CpuCore, sel: number, off: number, o32: boolean): void {
  sel &= 0xffff;
  if (!o32) off &= 0xffff;
  const retCs = c.segSel[CS], retEip = c.eip;
  if (inRealOrV86(c)) {
    // Both pushes must succeed before CS changes.
    const sp0 = c.r32[8];
    c.pushV(retCs, o32);
    c.pushV(retEip, o32);
    void sp0;
    c.loadSegReal(CS, sel);
    c.eip = off;
    return;
  }
  readCodeDescriptor(c, sel);
  const hi = desc.hi, lo = desc.lo;
  if (dIsSegment(hi)) {
    checkCodeTarget(c, sel, hi);
    if ((off >>> 0) > dLimit(lo, hi)) c.gp(0);
    const w = o32 ? 4 : 2;
    // Write the return frame first; commit ESP and CS afterwards.
    const l1 = c.linW(SS, c.spOff(-w), w), l2 = c.linW(SS, c.spOff(-2 * w), w);
    if (o32) { c.write32(l1, retCs); c.write32(l2, retEip); } else { c.write16(l1, retCs); c.write16(l2, retEip); }
    setAccessed(c);
    loadCs(c, sel, lo, desc.hi, c.cpl);
    c.addSp(-2 * w);
    c.eip = off;
    return;
  }
  const type = dType(hi);
  if (type === 5 || type === 1 || type === 9) { taskJump(c, sel, lo, hi, TASK_CALL); return; }
  if (type !== 4 && type !== 12) c.gp(sel & 0xfffc);
  // Call gate.
  if (dDpl(hi) < c.cpl || dDpl(hi) < (sel & 3)) c.gp(sel & 0xfffc);
  if (!dPresent(hi)) c.fault(NP, sel & 0xfffc);
  const gate32 = type === 12;
  const target = lo >>> 16;
  const gateOff = gate32 ? ((hi & 0xffff0000) | (lo & 0xffff)) : lo & 0xffff;
  const params = hi & 0x1f;
  readCodeDescriptor(c, target);
  const tlo = desc.lo, thi = desc.hi;
  if (!dIsCode(thi) || dDpl(thi) > c.cpl) c.gp(target & 0xfffc);
  if (!dPresent(thi)) c.fault(NP, target & 0xfffc);
  if ((gateOff >>> 0) > dLimit(tlo, thi)) c.gp(0);
  setAccessed(c);
  const w = gate32 ? 4 : 2;
  const newCpl = dDpl(thi);
  if ((thi & 0x400) === 0 && newCpl < c.cpl) {
    const st = tssStack(c, newCpl);
    const newSs = st.ss, newEsp = st.esp;
    checkInnerStack(c, newSs, newCpl, 0);
    const shi = ssDesc.hi, slo = ssDesc.lo;
    frame.setup(((slo >>> 16) | ((shi & 0xff) << 16) | (shi & 0xff000000)) | 0, dLimit(slo, shi), (shi & 0x400000) !== 0, newEsp, newSs);
    const oldSs = c.segSel[SS], oldEsp = c.r32[8];
    frame.push(c, oldSs, w);
    frame.push(c, gate32 ? oldEsp : oldEsp & 0xffff, w);
    for (let i = params - 1; i >= 0; i--) {
      const v = gate32 ? c.peek32(i * 4) : c.peek16(i * 2);
      frame.push(c, v, w);
    }
    frame.push(c, retCs, w);
    frame.push(c, retEip, w);
    loadCache(c, SS, (newSs & 0xfffc) | newCpl, slo, shi);
    c.r32[8] = frame.big ? frame.sp : (c.r32[8] & ~0xffff) | frame.sp;
    loadCs(c, target, tlo, thi, newCpl);
  } else {
    const l1 = c.linW(SS, c.spOff(-w), w), l2 = c.linW(SS, c.spOff(-2 * w), w);
    if (gate32) { c.write32(l1, retCs); c.write32(l2, retEip); } else { c.write16(l1, retCs); c.write16(l2, retEip); }
    c.addSp(-2 * w);
    loadCs(c, target, tlo, thi, c.cpl);
  }
  c.eip = gateOff;
}

/** RETF [imm16]. */
export function farReturn(c: CpuCore, o32: boolean, imm: number): void {
  const w = o32 ? 4 : 2;
  const off = o32 ? c.peek32(0) : c.peek16(0);
  const sel = (o32 ? c.peek32(w) : c.peek16(w)) & 0xffff;
  if (inRealOrV86(c)) {
    c.loadSegReal(CS, sel);
    c.eip = off;
    c.addSp(2 * w + imm);
    return;
  }
  if ((sel & 0xfffc) === 0) c.gp(0);
  readDescriptor(c, sel, GP);
  const lo = desc.lo, hi = desc.hi;
  const rpl = sel & 3;
  if (rpl < c.cpl || !dIsCode(hi)) c.gp(sel & 0xfffc);
  if ((hi & 0x400) !== 0 ? dDpl(hi) > rpl : dDpl(hi) !== rpl) c.gp(sel & 0xfffc);
  if (!dPresent(hi)) c.fault(NP, sel & 0xfffc);
  if ((off >>> 0) > dLimit(lo, hi)) c.gp(0);
  if (rpl === c.cpl) {
    setAccessed(c);
    loadCs(c, sel, lo, hi, rpl);
    c.eip = off;
    c.addSp(2 * w + imm);
    return;
  }
  // Return to an outer privilege level: SS:ESP follow the parameters.
  const newEsp = o32 ? c.peek32(2 * w + imm) : c.peek16(2 * w + imm);
  const newSs = (o32 ? c.peek32(3 * w + imm) : c.peek16(3 * w + imm)) & 0xffff;
  if ((newSs & 0xfffc) === 0) c.gp(0);
  readDescriptor(c, newSs, GP);
  const shi = desc.hi, slo = desc.lo;
  if ((newSs & 3) !== rpl || dDpl(shi) !== rpl || !dIsSegment(shi) || (shi & 0x800) !== 0 || (shi & 0x200) === 0) c.gp(newSs & 0xfffc);
  if (!dPresent(shi)) c.fault(0xc, newSs & 0xfffc);
  setAccessed(c);
  readDescriptor(c, sel, GP);
  setAccessed(c);
  loadCs(c, sel, lo, hi, rpl);
  loadCache(c, SS, newSs, slo, shi);
  if (c.ss32) c.r32[8] = (newEsp + imm) | 0; else c.r16[16] = (newEsp + imm) & 0xffff;
  c.eip = off;
  invalidateDataSegs(c);
}
