import {
  AC, AF, ARITH, CF, DF, DS, EA_A16, ID, IF, IOPL, NT, P_A32, P_O32, P_SEG_SHIFT, PF, SF, SS, TF, UD, VM, ZF,
} from '../constants.js';
import type { CpuCore } from '../core.js';
import { loadSeg } from '../system/segments.js';
import { pviActive, virtualCli, virtualFlagsImage, virtualPopFlags, virtualSti, vmeActive } from '../system/vme.js';
import { alu } from './alu.js';
import { eaOff, linWrite, rdEb, rdEv, rdEw, rdGb, rdGv, wrEb, wrEv, wrEw, wrGb, wrGv } from './operands.js';

// ---- MOV ----
export function movEbGb(c: CpuCore, d: number): void { wrEb(c, d, rdGb(c, d)); }
export function movEvGv(c: CpuCore, d: number): void {
  const m = c.dRm[d], r = (m >> 3) & 7;
  if ((c.dPfx[d] & P_O32) !== 0) {
    if (m >= 0xc0) c.r32[(m & 7) << 1] = c.r32[r << 1];
    else c.writeSeg32(c.dSeg[d], eaOff(c, d), c.r32[r << 1]);
  } else wrEv(c, d, c.r16[r << 2]);
}
export function movGbEb(c: CpuCore, d: number): void { wrGb(c, d, rdEb(c, d)); }
export function movGvEv(c: CpuCore, d: number): void {
  const m = c.dRm[d], r = (m >> 3) & 7;
  if ((c.dPfx[d] & P_O32) !== 0) {
    c.r32[r << 1] = m >= 0xc0 ? c.r32[(m & 7) << 1] : c.readSeg32(c.dSeg[d], eaOff(c, d));
  } else c.r16[r << 2] = rdEw(c, d);
}
export function movEbIb(c: CpuCore, d: number): void { wrEb(c, d, c.dImm[d]); }
export function movEvIz(c: CpuCore, d: number): void { wrEv(c, d, c.dImm[d]); }
export function movRegIb(c: CpuCore, d: number): void { c.setReg8(c.dExt[d], c.dImm[d]); }
export function movRegIz(c: CpuCore, d: number): void {
  const r = c.dExt[d];
  if ((c.dPfx[d] & P_O32) !== 0) c.r32[r << 1] = c.dImm[d]; else c.r16[r << 2] = c.dImm[d];
}
/** A0-A3: moffs in dDisp, segment in dSeg. ext bit 0 = word/dword, bit 1 = store. */
export function movMoffs(c: CpuCore, d: number): void {
  const e = c.dExt[d], seg = c.dSeg[d], off = c.dDisp[d];
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  if ((e & 2) === 0) {
    if ((e & 1) === 0) c.r8[0] = c.readSeg8(seg, off);
    else if (o32) c.r32[0] = c.readSeg32(seg, off);
    else c.r16[0] = c.readSeg16(seg, off);
  } else if ((e & 1) === 0) c.writeSeg8(seg, off, c.r8[0]);
  else if (o32) c.writeSeg32(seg, off, c.r32[0]);
  else c.writeSeg16(seg, off, c.r16[0]);
}
export function movEwSw(c: CpuCore, d: number): void {
  const s = (c.dRm[d] >> 3) & 7;
  if (s > 5) c.fault(UD, -1);
  const sel = c.segSel[s];
  // Register destinations with a 32-bit operand size get the selector zero-extended.
  if (c.dRm[d] >= 0xc0) wrEv(c, d, sel); else wrEw(c, d, sel);
}
export function movSwEw(c: CpuCore, d: number): void {
  const s = (c.dRm[d] >> 3) & 7;
  if (s > 5 || s === 1) c.fault(UD, -1);
  loadSeg(c, s, rdEw(c, d));
  if (s === SS) c.shadow = true;
}
export function lea(c: CpuCore, d: number): void {
  if (c.dRm[d] >= 0xc0) c.fault(UD, -1);
  wrGv(c, d, eaOff(c, d));
}
export function movzxb(c: CpuCore, d: number): void { wrGv(c, d, rdEb(c, d)); }
export function movzxw(c: CpuCore, d: number): void { wrGv(c, d, rdEw(c, d)); }
export function movsxb(c: CpuCore, d: number): void { wrGv(c, d, (rdEb(c, d) << 24) >> 24); }
export function movsxw(c: CpuCore, d: number): void { wrGv(c, d, (rdEw(c, d) << 16) >> 16); }

// ---- XCHG and friends ----
export function xchgEbGb(c: CpuCore, d: number): void {
  const m = c.dRm[d];
  if (m >= 0xc0) {
    const a = rdEb(c, d);
    wrEb(c, d, rdGb(c, d)); wrGb(c, d, a);
    return;
  }
  const lin = linWrite(c, d, 1);
  const a = c.readW8(lin);
  c.write8(lin, rdGb(c, d));
  wrGb(c, d, a);
}
export function xchgEvGv(c: CpuCore, d: number): void {
  const m = c.dRm[d];
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  if (m >= 0xc0) {
    const a = rdEv(c, d);
    wrEv(c, d, rdGv(c, d)); wrGv(c, d, a);
    return;
  }
  const lin = linWrite(c, d, o32 ? 4 : 2);
  const a = o32 ? c.readW32(lin) : c.readW16(lin);
  if (o32) c.write32(lin, rdGv(c, d)); else c.write16(lin, rdGv(c, d));
  wrGv(c, d, a);
}
export function xchgAx(c: CpuCore, d: number): void {
  const r = c.dExt[d];
  if ((c.dPfx[d] & P_O32) !== 0) { const t = c.r32[0]; c.r32[0] = c.r32[r << 1]; c.r32[r << 1] = t; }
  else { const t = c.r16[0]; c.r16[0] = c.r16[r << 2]; c.r16[r << 2] = t; }
}
export function xaddEbGb(c: CpuCore, d: number): void {
  const m = c.dRm[d];
  if (m >= 0xc0) {
    const a = rdEb(c, d), b = rdGb(c, d);
    wrGb(c, d, a); wrEb(c, d, alu(c, 0, a, b, 0));
    return;
  }
  const lin = linWrite(c, d, 1);
  const a = c.readW8(lin), b = rdGb(c, d);
  c.write8(lin, alu(c, 0, a, b, 0));
  wrGb(c, d, a);
}
export function xaddEvGv(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0, size = o32 ? 2 : 1;
  const m = c.dRm[d];
  if (m >= 0xc0) {
    const a = rdEv(c, d), b = rdGv(c, d);
    wrGv(c, d, a); wrEv(c, d, alu(c, 0, a, b, size));
    return;
  }
  const lin = linWrite(c, d, o32 ? 4 : 2);
  const a = o32 ? c.readW32(lin) : c.readW16(lin), b = rdGv(c, d);
  const r = alu(c, 0, a, b, size);
  if (o32) c.write32(lin, r); else c.write16(lin, r);
  wrGv(c, d, a);
}
export function cmpxchgEbGb(c: CpuCore, d: number): void {
  const m = c.dRm[d];
  const lin = m >= 0xc0 ? 0 : linWrite(c, d, 1);
  const dst = m >= 0xc0 ? rdEb(c, d) : c.readW8(lin);
  alu(c, 7, c.r8[0], dst, 0);
  if (c.r8[0] === dst) {
    if (m >= 0xc0) wrEb(c, d, rdGb(c, d)); else c.write8(lin, rdGb(c, d));
  } else {
    if (m < 0xc0) c.write8(lin, dst); // the processor always writes back
    c.r8[0] = dst;
  }
}
export function cmpxchgEvGv(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const m = c.dRm[d];
  const lin = m >= 0xc0 ? 0 : linWrite(c, d, o32 ? 4 : 2);
  const dst = m >= 0xc0 ? rdEv(c, d) : o32 ? c.readW32(lin) : c.readW16(lin);
  const acc = o32 ? c.r32[0] : c.r16[0];
  alu(c, 7, acc, dst, o32 ? 2 : 1);
  if (acc === dst) {
    const src = rdGv(c, d);
    if (m >= 0xc0) wrEv(c, d, src); else if (o32) c.write32(lin, src); else c.write16(lin, src);
  } else {
    if (m < 0xc0) { if (o32) c.write32(lin, dst); else c.write16(lin, dst); }
    if (o32) c.r32[0] = dst; else c.r16[0] = dst;
  }
}
export function cmpxchg8b(c: CpuCore, d: number): void {
  if (c.dRm[d] >= 0xc0) c.fault(UD, -1);
  const lin = linWrite(c, d, 8);
  const lo = c.readW32(lin), hi = c.readW32((lin + 4) | 0);
  if (lo === c.r32[0] && hi === c.r32[4]) {
    c.write32(lin, c.r32[6]); c.write32((lin + 4) | 0, c.r32[2]);
    c.setArith(ZF, ZF);
  } else {
    c.write32(lin, lo); c.write32((lin + 4) | 0, hi);
    c.r32[0] = lo; c.r32[4] = hi;
    c.setArith(ZF, 0);
  }
}
export function bswap(c: CpuCore, d: number): void {
  const r = c.dExt[d] << 1;
  const v = c.r32[r];
  if ((c.dPfx[d] & P_O32) === 0) { c.r16[r << 1] = 0; return; } // 16-bit BSWAP is undefined; P6 zeroes
  c.r32[r] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

// ---- stack ----
export function pushReg(c: CpuCore, d: number): void {
  const r = c.dExt[d];
  if ((c.dPfx[d] & P_O32) !== 0) c.push32(c.r32[r << 1]); else c.push16(c.r16[r << 2]);
}
export function popReg(c: CpuCore, d: number): void {
  const r = c.dExt[d];
  if ((c.dPfx[d] & P_O32) !== 0) { const v = c.pop32(); c.r32[r << 1] = v; }
  else { const v = c.pop16(); c.r16[r << 2] = v; }
}
export function pushImm(c: CpuCore, d: number): void { c.pushV(c.dImm[d], (c.dPfx[d] & P_O32) !== 0); }
export function pushEv(c: CpuCore, d: number): void { c.pushV(rdEv(c, d), (c.dPfx[d] & P_O32) !== 0); }
export function popEv(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const size = o32 ? 4 : 2;
  const v = o32 ? c.peek32(0) : c.peek16(0);
  if (c.dRm[d] >= 0xc0) { c.addSp(size); wrEv(c, d, v); return; }
  // The destination address is computed with the incremented ESP; ESP commits only after the store.
  const oldSp = c.r32[8];
  c.addSp(size);
  const newSp = c.r32[8];
  const off = eaOff(c, d);
  c.r32[8] = oldSp;
  const lin = c.linW(c.dSeg[d], off, size);
  if (o32) c.write32(lin, v); else c.write16(lin, v);
  c.r32[8] = newSp;
}
export function pushSeg(c: CpuCore, d: number): void {
  const sel = c.segSel[c.dExt[d]];
  if ((c.dPfx[d] & P_O32) !== 0) {
    // A 32-bit push of a segment register writes only the low word (P6 behaviour).
    const sp = c.spOff(-4);
    c.write16(c.linW(SS, sp, 4), sel);
    c.addSp(-4);
  } else c.push16(sel);
}
export function popSeg(c: CpuCore, d: number): void {
  const s = c.dExt[d];
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const sel = c.peek16(0);
  loadSeg(c, s, sel);
  c.addSp(o32 ? 4 : 2);
  if (s === SS) c.shadow = true;
}
export function pusha(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const size = o32 ? 4 : 2;
  for (let r = 0; r < 8; r++) {
    const lin = c.linW(SS, c.spOff(-(r + 1) * size), size);
    if (o32) c.write32(lin, c.r32[r << 1]); else c.write16(lin, c.r16[r << 2]);
  }
  c.addSp(-8 * size);
}
export function popa(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const size = o32 ? 4 : 2;
  const vals = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 8; i++) vals[7 - i] = o32 ? c.peek32(i * size) : c.peek16(i * size);
  for (let r = 0; r < 8; r++) {
    if (r === 4) continue;
    if (o32) c.r32[r << 1] = vals[r]; else c.r16[r << 2] = vals[r];
  }
  c.addSp(8 * size);
}
export function enter(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const w = o32 ? 4 : 2;
  const size = c.dImm[d] & 0xffff, level = c.dImm2[d] & 31;
  const bp = c.ss32 === true ? c.r32[10] : c.r16[20];
  const wmask = c.ss32 === true ? -1 : 0xffff;
  let sp = c.spOff(0);
  // Nothing is committed until every store succeeded, so a fault restarts cleanly.
  sp = ((sp - w) & wmask);
  if (o32) c.writeSeg32(SS, sp, c.r32[10]); else c.writeSeg16(SS, sp, c.r16[20]);
  const frame = sp;
  for (let i = 1; i < level; i++) {
    const src = ((bp - i * w) & wmask);
    sp = ((sp - w) & wmask);
    if (o32) c.writeSeg32(SS, sp, c.readSeg32(SS, src)); else c.writeSeg16(SS, sp, c.readSeg16(SS, src));
  }
  if (level > 0) {
    sp = ((sp - w) & wmask);
    if (o32) c.writeSeg32(SS, sp, frame); else c.writeSeg16(SS, sp, frame);
  }
  sp = ((sp - size) & wmask);
  if (size > 0) c.linW(SS, sp, 1);
  if (o32) c.r32[10] = frame; else c.r16[20] = frame;
  if (c.ss32 === true) c.r32[8] = sp; else c.r16[16] = sp;
}
export function leave(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const bp = c.ss32 === true ? c.r32[10] : c.r16[20];
  const v = o32 ? c.readSeg32(SS, bp) : c.readSeg16(SS, bp);
  if (c.ss32 === true) c.r32[8] = (bp + (o32 ? 4 : 2)) | 0; else c.r16[16] = (bp + (o32 ? 4 : 2)) & 0xffff;
  if (o32) c.r32[10] = v; else c.r16[20] = v;
}

// ---- flags ----
/** Write EFLAGS from POPF/IRET-style sources under the privilege rules of the current mode. */
export function writeFlags(c: CpuCore, value: number, o32: boolean): void {
  let mask = ARITH | TF | DF | NT | AC | ID;
  const pm = (c.cr0 & 1) !== 0;
  const v86 = (c.flags & VM) !== 0;
  if (!pm || (!v86 && c.cpl === 0)) mask |= IOPL;
  if (!pm || c.cpl <= c.iopl || (v86 && c.iopl === 3)) mask |= IF;
  if (!o32) mask &= 0xffff;
  const f = c.getFlags();
  c.flags = (f & ~mask) | (value & mask);
  if (((c.flags ^ f) & (IF | TF)) !== 0) c.chunkBreak = true; // interrupts or single-step may now be due
  if (((c.flags ^ f) & AC) !== 0) c.updateAlignCheck();
}
export function pushf(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  if ((c.flags & VM) !== 0 && c.iopl < 3) {
    if (o32 || !vmeActive(c)) c.gp(0);
    c.push16(virtualFlagsImage(c));
    return;
  }
  const f = c.getFlags() & ~(0x10000 | VM); // RF and VM read as 0 in the pushed image
  c.pushV(o32 ? f : f & 0xffff, o32);
}
export function popf(c: CpuCore, d: number): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  if ((c.flags & VM) !== 0 && c.iopl < 3) {
    if (o32 || !vmeActive(c)) c.gp(0);
    virtualPopFlags(c, c.peek16(0));
    c.addSp(2);
    return;
  }
  const v = o32 ? c.peek32(0) : c.peek16(0);
  writeFlags(c, v, o32);
  c.addSp(o32 ? 4 : 2);
}
export function lahf(c: CpuCore): void { c.r8[1] = (c.getFlags() & 0xd5) | 2; }
export function sahf(c: CpuCore): void { c.setArith(SF | ZF | AF | PF | CF, c.r8[1]); }
export function clc(c: CpuCore): void { c.setArith(CF, 0); }
export function stc(c: CpuCore): void { c.setArith(CF, CF); }
export function cmc(c: CpuCore): void { c.setArith(CF, c.getCF() ^ CF); }
export function cld(c: CpuCore): void { c.flags &= ~DF; }
export function std(c: CpuCore): void { c.flags |= DF; }
function checkIopl(c: CpuCore): void {
  if ((c.cr0 & 1) === 0) return;
  if ((c.flags & VM) !== 0 ? c.iopl < 3 : c.cpl > c.iopl) c.gp(0);
}
export function cli(c: CpuCore): void {
  if (vmeActive(c) || pviActive(c)) { virtualCli(c); return; }
  checkIopl(c);
  c.flags &= ~IF;
}
export function sti(c: CpuCore): void {
  if (vmeActive(c) || pviActive(c)) { virtualSti(c); return; }
  checkIopl(c);
  if ((c.flags & IF) === 0) { c.flags |= IF; c.shadow = true; c.chunkBreak = true; }
}
export function salc(c: CpuCore): void { c.r8[0] = c.getCF() ? 0xff : 0; }
export function cbw(c: CpuCore, d: number): void {
  if ((c.dPfx[d] & P_O32) !== 0) c.r32[0] = (c.r32[0] << 16) >> 16;
  else c.r16[0] = (c.r8[0] << 24) >> 24;
}
export function cwd(c: CpuCore, d: number): void {
  if ((c.dPfx[d] & P_O32) !== 0) c.r32[4] = c.r32[0] >> 31;
  else c.r16[8] = (c.r16[0] & 0x8000) !== 0 ? 0xffff : 0;
}
export function xlat(c: CpuCore, d: number): void {
  const seg = c.dPfx[d] >> P_SEG_SHIFT;
  const s = seg !== 0 ? seg - 1 : DS;
  const off = (c.dPfx[d] & P_A32) !== 0 ? (c.r32[6] + c.r8[0]) | 0 : (c.r16[12] + c.r8[0]) & 0xffff;
  c.r8[0] = c.readSeg8(s, off);
}

// ---- conditional ----
export function setcc(c: CpuCore, d: number): void { wrEb(c, d, c.cond(c.dExt[d]) ? 1 : 0); }
export function cmovcc(c: CpuCore, d: number): void {
  const v = rdEv(c, d); // the source is always read (and may fault)
  if (c.cond(c.dExt[d])) wrGv(c, d, v);
}

/** LDS/LES/LSS/LFS/LGS: ext = segment. */
export function loadFarPointer(c: CpuCore, d: number): void {
  if (c.dRm[d] >= 0xc0) c.fault(UD, -1);
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const seg = c.dSeg[d], off = eaOff(c, d);
  const offset = o32 ? c.readSeg32(seg, off) : c.readSeg16(seg, off);
  const a16 = (c.dEa[d] & EA_A16) !== 0;
  const sel = c.readSeg16(seg, a16 ? (off + (o32 ? 4 : 2)) & 0xffff : (off + (o32 ? 4 : 2)) | 0);
  const s = c.dExt[d];
  loadSeg(c, s, sel);
  if (s === SS) c.shadow = true;
  wrGv(c, d, offset);
}

