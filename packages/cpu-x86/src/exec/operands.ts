import { EA_A16, P_O32 } from '../constants.js';
import type { CpuCore } from '../core.js';

/** Offset (within its segment) of the memory operand of decoded instruction `d`. */
export function eaOff(c: CpuCore, d: number): number {
  const f = c.dEa[d];
  let a = c.dDisp[d];
  const b = f & 15;
  if (b !== 8) a += c.r32[b << 1];
  const x = (f >> 4) & 15;
  if (x !== 8) a += c.r32[x << 1] << ((f >> 8) & 3);
  return (f & EA_A16) !== 0 ? a & 0xffff : a | 0;
}
export function isO32(c: CpuCore, d: number): boolean {
  return (c.dPfx[d] & P_O32) !== 0;
}
export function regField(c: CpuCore, d: number): number {
  return (c.dRm[d] >> 3) & 7;
}

// ---- E operand (register or memory) ----
export function rdEb(c: CpuCore, d: number): number {
  const m = c.dRm[d];
  if (m >= 0xc0) return c.r8[((m & 3) << 3) | ((m >> 2) & 1)];
  return c.readSeg8(c.dSeg[d], eaOff(c, d));
}
export function rdEw(c: CpuCore, d: number): number {
  const m = c.dRm[d];
  if (m >= 0xc0) return c.r16[(m & 7) << 2];
  return c.readSeg16(c.dSeg[d], eaOff(c, d));
}
export function rdEd(c: CpuCore, d: number): number {
  const m = c.dRm[d];
  if (m >= 0xc0) return c.r32[(m & 7) << 1];
  return c.readSeg32(c.dSeg[d], eaOff(c, d));
}
export function wrEb(c: CpuCore, d: number, v: number): void {
  const m = c.dRm[d];
  if (m >= 0xc0) c.r8[((m & 3) << 3) | ((m >> 2) & 1)] = v;
  else c.writeSeg8(c.dSeg[d], eaOff(c, d), v);
}
export function wrEw(c: CpuCore, d: number, v: number): void {
  const m = c.dRm[d];
  if (m >= 0xc0) c.r16[(m & 7) << 2] = v;
  else c.writeSeg16(c.dSeg[d], eaOff(c, d), v);
}
export function wrEd(c: CpuCore, d: number, v: number): void {
  const m = c.dRm[d];
  if (m >= 0xc0) c.r32[(m & 7) << 1] = v;
  else c.writeSeg32(c.dSeg[d], eaOff(c, d), v);
}
/** 16- or 32-bit E operand by operand size. */
export function rdEv(c: CpuCore, d: number): number {
  return (c.dPfx[d] & P_O32) !== 0 ? rdEd(c, d) : rdEw(c, d);
}
export function wrEv(c: CpuCore, d: number, v: number): void {
  if ((c.dPfx[d] & P_O32) !== 0) wrEd(c, d, v); else wrEw(c, d, v);
}

// ---- G operand (ModRM.reg) ----
export function rdGb(c: CpuCore, d: number): number {
  const r = (c.dRm[d] >> 3) & 7;
  return c.r8[((r & 3) << 3) | (r >> 2)];
}
export function wrGb(c: CpuCore, d: number, v: number): void {
  const r = (c.dRm[d] >> 3) & 7;
  c.r8[((r & 3) << 3) | (r >> 2)] = v;
}
export function rdGv(c: CpuCore, d: number): number {
  const r = (c.dRm[d] >> 3) & 7;
  return (c.dPfx[d] & P_O32) !== 0 ? c.r32[r << 1] : c.r16[r << 2];
}
export function wrGv(c: CpuCore, d: number, v: number): void {
  const r = (c.dRm[d] >> 3) & 7;
  if ((c.dPfx[d] & P_O32) !== 0) c.r32[r << 1] = v; else c.r16[r << 2] = v;
}

/** Linear address of the memory operand for a read of `size` bytes. */
export function linRead(c: CpuCore, d: number, size: number): number {
  return c.linR(c.dSeg[d], eaOff(c, d), size);
}
/** Linear address of the memory operand for a write (or read-modify-write) of `size` bytes. */
export function linWrite(c: CpuCore, d: number, size: number): number {
  return c.linW(c.dSeg[d], eaOff(c, d), size);
}
