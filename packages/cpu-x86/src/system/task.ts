import { CR0_TS, CS, DS, ES, FS, GP, GS, LDTR, NP, NT, SS, TR, VM } from '../constants.js';
import type { CpuCore } from '../core.js';
import {
  dBase, dDpl, desc, dIsCode, dIsSegment, dLimit, dPresent, dType, loadCache, loadCs, loadNull, loadSeg,
  readDescriptor,
} from './segments.js';

/** Why a task switch happens (decides busy bits, NT and the back-link). */
export const TASK_JMP = 0, TASK_CALL = 1, TASK_INT = 2, TASK_IRET = 3;

const TSF = 10;

function setBusy(c: CpuCore, sel: number, busy: boolean): void {
  const addr = (c.gdtBase + (sel & 0xfff8) + 5) | 0;
  const b = c.readSys8(addr);
  c.writeSys8(addr, busy ? b | 2 : b & ~2);
}

/**
 * Hardware task switch to the TSS `sel` (descriptor `lo`/`hi`). `returnEip` is the EIP saved in the
 * outgoing TSS. Faults in the incoming task's segment loads are delivered in the new task.
 * Returns whether the incoming 32-bit TSS has its debug trap bit (T, bit 0 of byte 0x64) set: the
 * caller then raises #DB with DR6.BT once the switch is complete (after an exception's error code
 * is pushed), before the new task's first instruction (SDM 17.2.3, 17.3.1.5).
 */
export function taskSwitch(c: CpuCore, sel: number, lo: number, hi: number, reason: number, returnEip: number): boolean {
  const type = dType(hi);
  if (dIsSegment(hi) || (type & 5) !== 1) c.gp(sel & 0xfffc);
  const busy = (type & 2) !== 0;
  if (reason === TASK_IRET ? !busy : busy) c.fault(reason === TASK_IRET ? TSF : GP, sel & 0xfffc);
  if (!dPresent(hi)) c.fault(NP, sel & 0xfffc);
  const new32 = (type & 8) !== 0;
  const limit = dLimit(lo, hi);
  if (limit < (new32 ? 0x67 : 0x2b)) c.fault(TSF, sel & 0xfffc);
  const nb = dBase(lo, hi);

  // Save the outgoing task.
  const ob = c.segBase[TR];
  const old32 = (c.segAttr[TR] & 8) !== 0;
  let flags = c.getFlags();
  if (reason === TASK_IRET) flags &= ~NT;
  const r = c.r32;
  if (old32) {
    c.writeSys32((ob + 0x20) | 0, returnEip);
    c.writeSys32((ob + 0x24) | 0, flags);
    for (let i = 0; i < 8; i++) c.writeSys32((ob + 0x28 + i * 4) | 0, r[i << 1]);
    for (let s = 0; s < 6; s++) c.writeSys16((ob + 0x48 + s * 4) | 0, c.segSel[s]);
  } else {
    c.writeSys16((ob + 0x0e) | 0, returnEip);
    c.writeSys16((ob + 0x10) | 0, flags);
    for (let i = 0; i < 8; i++) c.writeSys16((ob + 0x12 + i * 2) | 0, r[i << 1]);
    for (let s = 0; s < 4; s++) c.writeSys16((ob + 0x22 + s * 2) | 0, c.segSel[s]);
  }
  if (reason === TASK_JMP || reason === TASK_IRET) setBusy(c, c.segSel[TR], false);

  // Read the incoming task's state before changing anything else.
  const regs = [0, 0, 0, 0, 0, 0, 0, 0];
  const sels = [0, 0, 0, 0, 0, 0];
  let eip: number, nflags: number, cr3 = c.cr3, ldt: number, debugTrap = false;
  if (new32) {
    cr3 = c.readSys32((nb + 0x1c) | 0);
    eip = c.readSys32((nb + 0x20) | 0);
    nflags = c.readSys32((nb + 0x24) | 0);
    for (let i = 0; i < 8; i++) regs[i] = c.readSys32((nb + 0x28 + i * 4) | 0);
    for (let s = 0; s < 6; s++) sels[s] = c.readSys16((nb + 0x48 + s * 4) | 0);
    ldt = c.readSys16((nb + 0x60) | 0);
    debugTrap = (c.readSys16((nb + 0x64) | 0) & 1) !== 0;
  } else {
    eip = c.readSys16((nb + 0x0e) | 0);
    nflags = c.readSys16((nb + 0x10) | 0) | (flags & 0xffff0000 & ~VM);
    for (let i = 0; i < 8; i++) regs[i] = c.readSys16((nb + 0x12 + i * 2) | 0) | (r[i << 1] & 0xffff0000);
    for (let s = 0; s < 4; s++) sels[s] = c.readSys16((nb + 0x22 + s * 2) | 0);
    ldt = c.readSys16((nb + 0x2a) | 0);
  }
  if (reason === TASK_CALL || reason === TASK_INT) {
    c.writeSys16(nb, c.segSel[TR]);
    nflags |= NT;
  }
  if (reason !== TASK_IRET) setBusy(c, sel, true);

  // Commit the switch.
  c.segSel[TR] = sel;
  c.segBase[TR] = nb;
  c.segLimit[TR] = limit;
  c.segAttr[TR] = ((hi >>> 8) & 0xf0ff) | 0x200;
  c.cr0 |= CR0_TS;
  if (new32 && (c.cr0 & 0x80000000) !== 0 && cr3 !== c.cr3) {
    c.cr3 = cr3;
    c.paging.setControl(c.cr0, c.cr3, c.cr4, c.efer);
    c.flushTlb();
  }
  for (let i = 0; i < 8; i++) r[i << 1] = regs[i];
  c.flags = (nflags & 0x3f7fd5) | 2;
  c.lazy = 0;
  c.updateAlignCheck();
  // A task switch clears the local breakpoint enables L0-L3 and LE (DR7 bits 0, 2, 4, 6, 8).
  if ((c.dr[7] & 0x155) !== 0) { c.dr[7] &= ~0x155; c.updateBreakpoints(); }
  c.eip = eip;
  // From here on faults belong to the new task: they restart at its EIP, not at the old instruction.
  c.curEip = eip;
  c.chunkBreak = true;

  // LDT, then segments under the new task's privilege.
  if ((ldt & 0xfffc) === 0) loadNull(c, LDTR, ldt);
  else {
    if ((ldt & 4) !== 0) c.fault(TSF, ldt & 0xfffc);
    readDescriptor(c, ldt, TSF);
    if (dIsSegment(desc.hi) || dType(desc.hi) !== 2) c.fault(TSF, ldt & 0xfffc);
    if (!dPresent(desc.hi)) c.fault(TSF, ldt & 0xfffc);
    loadCache(c, LDTR, ldt, desc.lo, desc.hi);
  }
  if ((c.flags & VM) !== 0) {
    c.setCpl(3);
    for (let s = 0; s < 6; s++) c.loadSegReal(s, sels[s]);
    return debugTrap;
  }
  const cs = sels[CS];
  if ((cs & 0xfffc) === 0) c.fault(TSF, 0);
  readDescriptor(c, cs, TSF);
  if (!dIsCode(desc.hi)) c.fault(TSF, cs & 0xfffc);
  if (!dPresent(desc.hi)) c.fault(NP, cs & 0xfffc);
  const cpl = (desc.hi & 0x400) !== 0 ? dDpl(desc.hi) : cs & 3;
  loadCs(c, cs, desc.lo, desc.hi, cs & 3);
  c.setCpl(cpl === (cs & 3) ? cpl : cs & 3);
  loadSeg(c, SS, sels[SS], TSF);
  for (const s of [ES, DS, FS, GS]) loadSeg(c, s, sels[s], TSF);
  return debugTrap;
}
