import { BR, CR0_PE, CS, DB, OF, OFV, P_A32, P_O32, UD, VM } from '../constants.js';
import type { CpuCore } from '../core.js';
import { farCall, farJump, farReturn } from '../system/far-transfer.js';
import { deliver, EV_EXCEPTION, EV_SOFTWARE, iret } from '../system/interrupts.js';
import { countersHalt } from '../system/pmu.js';
import { redirectV86Interrupt } from '../system/vme.js';
import { eaOff, rdEv } from './operands.js';

/** Near branch: a target beyond the CS limit faults on the branch itself (#GP(0), nothing changed). */
function go(c: CpuCore, target: number): void {
  if ((target >>> 0) > c.segLimit[CS]) c.gp(0);
  c.eip = target;
}
function rel(c: CpuCore, d: number): number {
  return (c.dPfx[d] & P_O32) !== 0 ? (c.eip + c.dImm[d]) | 0 : (c.eip + c.dImm[d]) & 0xffff;
}

// Jcc: one handler per condition (the hottest branch in most code), so neither the condition
// code nor the flag it needs is chosen at run time.
function jo(c: CpuCore, d: number): void { if (c.getOF() !== 0) go(c, rel(c, d)); }
function jno(c: CpuCore, d: number): void { if (c.getOF() === 0) go(c, rel(c, d)); }
function jb(c: CpuCore, d: number): void { if (c.getCF() !== 0) go(c, rel(c, d)); }
function jae(c: CpuCore, d: number): void { if (c.getCF() === 0) go(c, rel(c, d)); }
function je(c: CpuCore, d: number): void { if (c.getZF() !== 0) go(c, rel(c, d)); }
function jne(c: CpuCore, d: number): void { if (c.getZF() === 0) go(c, rel(c, d)); }
function jbe(c: CpuCore, d: number): void { if (c.getCF() !== 0 || c.getZF() !== 0) go(c, rel(c, d)); }
function ja(c: CpuCore, d: number): void { if (c.getCF() === 0 && c.getZF() === 0) go(c, rel(c, d)); }
function js(c: CpuCore, d: number): void { if (c.getSF() !== 0) go(c, rel(c, d)); }
function jns(c: CpuCore, d: number): void { if (c.getSF() === 0) go(c, rel(c, d)); }
function jp(c: CpuCore, d: number): void { if (c.getPF() !== 0) go(c, rel(c, d)); }
function jnp(c: CpuCore, d: number): void { if (c.getPF() === 0) go(c, rel(c, d)); }
function jl(c: CpuCore, d: number): void { if ((c.getSF() !== 0) !== (c.getOF() !== 0)) go(c, rel(c, d)); }
function jge(c: CpuCore, d: number): void { if ((c.getSF() !== 0) === (c.getOF() !== 0)) go(c, rel(c, d)); }
function jle(c: CpuCore, d: number): void {
  if (c.getZF() !== 0 || (c.getSF() !== 0) !== (c.getOF() !== 0)) go(c, rel(c, d));
}
function jg(c: CpuCore, d: number): void {
  if (c.getZF() === 0 && (c.getSF() !== 0) === (c.getOF() !== 0)) go(c, rel(c, d));
}
/** Jcc handlers indexed by condition code (the opcode's low nibble). */
export const JCC: ReadonlyArray<(c: CpuCore, d: number) => void> = [
  jo, jno, jb, jae, je, jne, jbe, ja, js, jns, jp, jnp, jl, jge, jle, jg,
];
export function jmpRel(c: CpuCore, d: number): void { go(c, rel(c, d)); }
export function callRel(c: CpuCore, d: number): void {
  const target = rel(c, d);
  if ((target >>> 0) > c.segLimit[CS]) c.gp(0);
  if ((c.dPfx[d] & P_O32) !== 0) c.push32(c.eip); else c.push16(c.eip);
  c.eip = target;
}
export function retNear(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const v = o32 ? c.peek32(0) : c.peek16(0);
  go(c, v);
  c.addSp((o32 ? 4 : 2) + c.dImm[d]);
}
export function callEv(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const t = o32 ? rdEv(c, d) : rdEv(c, d) & 0xffff;
  if ((t >>> 0) > c.segLimit[CS]) c.gp(0);
  if (o32) c.push32(c.eip); else c.push16(c.eip);
  c.eip = t;
}
export function jmpEv(c: CpuCore, d: number): void {
  go(c, (c.dPfx[d] & P_O32) !== 0 ? rdEv(c, d) : rdEv(c, d) & 0xffff);
}
/** Far pointer operand m16:16/32 (FF /3, FF /5). */
function readFarPtr(c: CpuCore, d: number): number {
  if (c.dRm[d] >= 0xc0) c.fault(UD, -1);
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const off = eaOff(c, d), seg = c.dSeg[d];
  farOff = o32 ? c.readSeg32(seg, off) : c.readSeg16(seg, off);
  const selOff = (c.dEa[d] & 0x400) !== 0 ? (off + (o32 ? 4 : 2)) & 0xffff : (off + (o32 ? 4 : 2)) | 0;
  return c.readSeg16(seg, selOff);
}
let farOff = 0;
export function callFarEv(c: CpuCore, d: number): void {
  const sel = readFarPtr(c, d);
  farCall(c, sel, farOff, (c.dPfx[d] & P_O32) !== 0);
  c.chunkBreak = true;
}
export function jmpFarEv(c: CpuCore, d: number): void {
  const sel = readFarPtr(c, d);
  farJump(c, sel, farOff, (c.dPfx[d] & P_O32) !== 0);
  c.chunkBreak = true;
}
export function callFarAp(c: CpuCore, d: number): void {
  farCall(c, c.dImm2[d], c.dImm[d], (c.dPfx[d] & P_O32) !== 0);
  c.chunkBreak = true;
}
export function jmpFarAp(c: CpuCore, d: number): void {
  farJump(c, c.dImm2[d], c.dImm[d], (c.dPfx[d] & P_O32) !== 0);
  c.chunkBreak = true;
}
export function retFar(c: CpuCore, d: number): void {
  farReturn(c, (c.dPfx[d] & P_O32) !== 0, c.dImm[d]);
  c.chunkBreak = true;
}
export function iretOp(c: CpuCore, d: number): void { iret(c, (c.dPfx[d] & P_O32) !== 0); }

/** LOOP/LOOPE/LOOPNE/JCXZ: ext 0 LOOPNE, 1 LOOPE, 2 LOOP, 3 JCXZ. Count register by address size. */
export function loop(c: CpuCore, d: number): void {
  const a32 = (c.dPfx[d] & P_A32) !== 0;
  const kind = c.dExt[d];
  if (kind === 3) {
    if (a32 ? c.r32[2] === 0 : c.r16[4] === 0) go(c, rel(c, d));
    return;
  }
  const n = a32 ? (c.r32[2] - 1) | 0 : (c.r16[4] - 1) & 0xffff;
  let take = n !== 0;
  if (kind === 0) take = take && c.getZF() === 0;
  else if (kind === 1) take = take && c.getZF() !== 0;
  if (take) go(c, rel(c, d)); // faults before the count register changes
  if (a32) c.r32[2] = n; else c.r16[4] = n;
}

function v86SoftIntCheck(c: CpuCore): void {
  if ((c.flags & VM) !== 0 && c.iopl < 3) c.gp(0);
}
export function intN(c: CpuCore, d: number): void {
  const vector = c.dImm[d] & 0xff;
  if ((c.flags & VM) !== 0 && redirectV86Interrupt(c, vector)) return;
  v86SoftIntCheck(c);
  deliver(c, vector, -1, EV_SOFTWARE);
  c.chunkBreak = true;
}
export function int3(c: CpuCore): void {
  v86SoftIntCheck(c);
  if (c.stopOnException) c.trapStop(3);
  deliver(c, 3, -1, EV_SOFTWARE);
  c.chunkBreak = true;
}
export function into(c: CpuCore): void {
  if ((c.getFlags() & OF) === 0) return;
  v86SoftIntCheck(c);
  if (c.stopOnException) c.trapStop(OFV);
  deliver(c, OFV, -1, EV_SOFTWARE);
  c.chunkBreak = true;
}
export function int1(c: CpuCore): void {
  if (c.stopOnException) c.trapStop(DB);
  deliver(c, DB, -1, EV_EXCEPTION);
  c.chunkBreak = true;
}
export function bound(c: CpuCore, d: number): void {
  if (c.dRm[d] >= 0xc0) c.fault(UD, -1);
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const seg = c.dSeg[d], off = eaOff(c, d);
  const r = (c.dRm[d] >> 3) & 7;
  let idx: number, lo: number, hi: number;
  if (o32) {
    idx = c.r32[r << 1]; lo = c.readSeg32(seg, off); hi = c.readSeg32(seg, (off + 4) | 0);
  } else {
    idx = (c.r16[r << 2] << 16) >> 16;
    lo = (c.readSeg16(seg, off) << 16) >> 16;
    hi = (c.readSeg16(seg, (c.dEa[d] & 0x400) !== 0 ? (off + 2) & 0xffff : (off + 2) | 0) << 16) >> 16;
  }
  if (idx < lo || idx > hi) c.fault(BR, -1);
}
export function hlt(c: CpuCore): void {
  if ((c.cr0 & CR0_PE) !== 0 && c.cpl !== 0) c.gp(0);
  c.halted = true;
  if (c.pmu.active) countersHalt(c); // halted time is not CPU_CLK_UNHALTED
  c.chunkBreak = true;
}
export function nop(): void { /* no operation */ }
export function undefinedOpcode(c: CpuCore): void { c.fault(UD, -1); }
/** Decoder-detected instruction longer than 15 bytes. */
export function tooLong(c: CpuCore): void { c.gp(0); }
