import { DF, DS, ES, P_A32, P_O32, P_REP, P_REPNE, P_SEG_SHIFT } from '../constants.js';
import type { CpuCore } from '../core.js';
import { checkIoPermission } from './io.js';
import { alu } from './alu.js';

/**
 * String instructions. A REP-prefixed instruction runs at most MAX_ITERATIONS iterations per
 * execution and then restarts itself (EIP back to the instruction), so long strings yield to the
 * instruction budget and to interrupts. Registers are updated every iteration, so a fault in the
 * middle leaves ECX/ESI/EDI describing exactly the work left.
 */
const MAX_ITERATIONS = 4096;

/**
 * Iterations per execution: one while data or I/O breakpoints are armed, so a hit is reported as a
 * trap right after the iteration that caused it (EIP still at the REP instruction when more remain).
 */
function iterationLimit(c: CpuCore): number {
  return (c.bpData | c.bpIo) !== 0 ? 1 : MAX_ITERATIONS;
}
function srcSeg(c: CpuCore, d: number): number {
  const s = c.dPfx[d] >> P_SEG_SHIFT;
  return s !== 0 ? s - 1 : DS;
}
/** Operand size from ext (0 = byte) or the operand-size attribute. */
function opSize(c: CpuCore, d: number): number {
  return c.dExt[d] === 0 ? 1 : (c.dPfx[d] & P_O32) !== 0 ? 4 : 2;
}
function rd(c: CpuCore, seg: number, off: number, size: number): number {
  return size === 1 ? c.readSeg8(seg, off) : size === 2 ? c.readSeg16(seg, off) : c.readSeg32(seg, off);
}
function wr(c: CpuCore, seg: number, off: number, size: number, v: number): void {
  if (size === 1) c.writeSeg8(seg, off, v); else if (size === 2) c.writeSeg16(seg, off, v); else c.writeSeg32(seg, off, v);
}
/** Restart the instruction if iterations remain (yield point for REP). */
function again(c: CpuCore): void {
  c.eip = c.curEip;
}

/** Elements a fast-path chunk may process per execution (then the instruction yields). */
const FAST_ELEMENTS = 16384;

/** Both segments flat (base any, 4 GiB limit, usable, no expand-down) and 32-bit addressing, DF = 0. */
function fastEligible(c: CpuCore, d: number, src: number): boolean {
  return (c.dPfx[d] & P_A32) !== 0 && (c.flags & DF) === 0 && c.segLimit[ES] === 0xffffffff && c.segCheck[ES] === 0 &&
    (src < 0 || (c.segLimit[src] === 0xffffffff && (c.segCheck[src] & 5) === 0));
}

/**
 * REP STOS fast path: whole elements within one page of plain RAM are filled with a typed-array
 * fill. Returns false when the slow path must take the next element.
 */
function fastStos(c: CpuCore, size: number, value: number): boolean {
  const r = c.r32;
  let budget = FAST_ELEMENTS;
  while (r[2] !== 0 && budget > 0) {
    const lin = (c.segBase[ES] + r[14]) | 0;
    // (Elements of 1, 2 or 4 bytes: size >> 1 is log2 of the size.)
    const room = (4096 - (lin & 4095)) >> (size >> 1);
    if (room === 0) return false;
    const p = c.ramOffset(lin, c.userKind + 1);
    if (p < 0) return false;
    const n = Math.min(room, r[2] >>> 0, budget), ram = c.ram, ram32 = c.ram32;
    if (size === 4 && (p & 3) === 0 && ram32 !== null) fill32(ram32, value, p >> 2, n);
    else if (size === 1) fill8(ram, value, p, n);
    else for (let i = 0; i < n * size; i++) ram[p + i] = value >> ((i % size) * 8);
    r[14] = (r[14] + n * size) | 0;
    r[2] = (r[2] - n) | 0;
    budget -= n;
  }
  return true;
}
/**
 * Fills `n` bytes (fill8) or dwords (fill32) from index `at`: a loop for the few a small REP STOS
 * stores is cheaper than a call of TypedArray.fill (busybox awk clears a 40-byte cell with REP
 * STOSB ten times an iteration of its loop).
 */
const SMALL_FILL = 64;
function fill8(ram: Uint8Array, value: number, at: number, n: number): void {
  if (n > SMALL_FILL) ram.fill(value, at, at + n);
  else for (let k = at, end = at + n; k < end; k++) ram[k] = value;
}
function fill32(ram32: Int32Array, value: number, at: number, n: number): void {
  if (n > SMALL_FILL) ram32.fill(value, at, at + n);
  else for (let k = at, end = at + n; k < end; k++) ram32[k] = value;
}
/** REP MOVS fast path over plain RAM pages (element order preserved for overlapping copies). */
function fastMovs(c: CpuCore, size: number, seg: number): boolean {
  const r = c.r32, ram = c.ram;
  let budget = FAST_ELEMENTS;
  while (r[2] !== 0 && budget > 0) {
    const dl = (c.segBase[ES] + r[14]) | 0, sl = (c.segBase[seg] + r[12]) | 0;
    const room = Math.min(Math.floor((4096 - (dl & 4095)) / size), Math.floor((4096 - (sl & 4095)) / size));
    if (room === 0) return false;
    const sp = c.ramOffset(sl, c.userKind);
    const dp = c.ramOffset(dl, c.userKind + 1);
    if (sp < 0 || dp < 0) return false;
    const n = Math.min(room, r[2] >>> 0, budget), bytes = n * size;
    if (dp > sp && dp < sp + bytes) {
      // Overlapping forward copy: element by element (each element read whole, then written).
      for (let o = 0; o < bytes; o += size) {
        if (size === 1) ram[dp + o] = ram[sp + o];
        else if (size === 2) { const a = ram[sp + o], b = ram[sp + o + 1]; ram[dp + o] = a; ram[dp + o + 1] = b; }
        else {
          const a = ram[sp + o], b = ram[sp + o + 1], x = ram[sp + o + 2], y = ram[sp + o + 3];
          ram[dp + o] = a; ram[dp + o + 1] = b; ram[dp + o + 2] = x; ram[dp + o + 3] = y;
        }
      }
    } else ram.copyWithin(dp, sp, sp + bytes);
    r[12] = (r[12] + bytes) | 0;
    r[14] = (r[14] + bytes) | 0;
    r[2] = (r[2] - n) | 0;
    budget -= n;
  }
  return true;
}

export function movs(c: CpuCore, d: number): void {
  const size = opSize(c, d), seg = srcSeg(c, d);
  const step = (c.flags & DF) !== 0 ? -size : size;
  const a32 = (c.dPfx[d] & P_A32) !== 0;
  const rep = (c.dPfx[d] & (P_REP | P_REPNE)) !== 0;
  const r = c.r32, r16 = c.r16;
  if (!rep) {
    if (a32) { wr(c, ES, r[14], size, rd(c, seg, r[12], size)); r[12] += step; r[14] += step; }
    else { wr(c, ES, r16[28], size, rd(c, seg, r16[24], size)); r16[24] += step; r16[28] += step; }
    return;
  }
  if (fastEligible(c, d, seg) && fastMovs(c, size, seg)) {
    if (r[2] !== 0) again(c);
    return;
  }
  for (let n = 0, max = iterationLimit(c); n < max; n++) {
    if (a32) {
      if (r[2] === 0) return;
      wr(c, ES, r[14], size, rd(c, seg, r[12], size));
      r[12] += step; r[14] += step; r[2]--;
    } else {
      if (r16[4] === 0) return;
      wr(c, ES, r16[28], size, rd(c, seg, r16[24], size));
      r16[24] += step; r16[28] += step; r16[4]--;
    }
  }
  if (a32 ? r[2] !== 0 : r16[4] !== 0) again(c);
}
export function stos(c: CpuCore, d: number): void {
  const size = opSize(c, d);
  const step = (c.flags & DF) !== 0 ? -size : size;
  const a32 = (c.dPfx[d] & P_A32) !== 0;
  const rep = (c.dPfx[d] & (P_REP | P_REPNE)) !== 0;
  const v = size === 1 ? c.r8[0] : size === 2 ? c.r16[0] : c.r32[0];
  const r = c.r32, r16 = c.r16;
  if (!rep) {
    if (a32) { wr(c, ES, r[14], size, v); r[14] += step; } else { wr(c, ES, r16[28], size, v); r16[28] += step; }
    return;
  }
  if (fastEligible(c, d, -1) && fastStos(c, size, v)) {
    if (r[2] !== 0) again(c);
    return;
  }
  for (let n = 0, max = iterationLimit(c); n < max; n++) {
    if (a32) {
      if (r[2] === 0) return;
      wr(c, ES, r[14], size, v); r[14] += step; r[2]--;
    } else {
      if (r16[4] === 0) return;
      wr(c, ES, r16[28], size, v); r16[28] += step; r16[4]--;
    }
  }
  if (a32 ? r[2] !== 0 : r16[4] !== 0) again(c);
}
export function lods(c: CpuCore, d: number): void {
  const size = opSize(c, d), seg = srcSeg(c, d);
  const step = (c.flags & DF) !== 0 ? -size : size;
  const a32 = (c.dPfx[d] & P_A32) !== 0;
  const rep = (c.dPfx[d] & (P_REP | P_REPNE)) !== 0;
  const r = c.r32, r16 = c.r16;
  for (let n = 0, max = iterationLimit(c); n < max; n++) {
    if (rep && (a32 ? r[2] === 0 : r16[4] === 0)) return;
    const v = rd(c, seg, a32 ? r[12] : r16[24], size);
    if (size === 1) c.r8[0] = v; else if (size === 2) r16[0] = v; else r[0] = v;
    if (a32) r[12] += step; else r16[24] += step;
    if (!rep) return;
    if (a32) r[2]--; else r16[4]--;
  }
  if (a32 ? r[2] !== 0 : r16[4] !== 0) again(c);
}
/** CMPS and SCAS: REPE (F3) continues while equal, REPNE (F2) while not equal. */
export function cmps(c: CpuCore, d: number): void {
  const size = opSize(c, d), seg = srcSeg(c, d), sz = size === 1 ? 0 : size === 2 ? 1 : 2;
  const step = (c.flags & DF) !== 0 ? -size : size;
  const a32 = (c.dPfx[d] & P_A32) !== 0;
  const pfx = c.dPfx[d];
  const rep = (pfx & (P_REP | P_REPNE)) !== 0;
  const r = c.r32, r16 = c.r16;
  for (let n = 0, max = iterationLimit(c); n < max; n++) {
    if (rep && (a32 ? r[2] === 0 : r16[4] === 0)) return;
    const a = rd(c, seg, a32 ? r[12] : r16[24], size);
    const b = rd(c, ES, a32 ? r[14] : r16[28], size);
    alu(c, 7, a, b, sz);
    if (a32) { r[12] += step; r[14] += step; } else { r16[24] += step; r16[28] += step; }
    if (!rep) return;
    if (a32) r[2]--; else r16[4]--;
    const zf = c.getZF() !== 0;
    if ((pfx & P_REP) !== 0 ? !zf : zf) return;
  }
  if (a32 ? r[2] !== 0 : r16[4] !== 0) again(c);
}
export function scas(c: CpuCore, d: number): void {
  const size = opSize(c, d), sz = size === 1 ? 0 : size === 2 ? 1 : 2;
  const step = (c.flags & DF) !== 0 ? -size : size;
  const a32 = (c.dPfx[d] & P_A32) !== 0;
  const pfx = c.dPfx[d];
  const rep = (pfx & (P_REP | P_REPNE)) !== 0;
  const r = c.r32, r16 = c.r16;
  const acc = size === 1 ? c.r8[0] : size === 2 ? r16[0] : r[0];
  for (let n = 0, max = iterationLimit(c); n < max; n++) {
    if (rep && (a32 ? r[2] === 0 : r16[4] === 0)) return;
    const b = rd(c, ES, a32 ? r[14] : r16[28], size);
    alu(c, 7, acc, b, sz);
    if (a32) r[14] += step; else r16[28] += step;
    if (!rep) return;
    if (a32) r[2]--; else r16[4]--;
    const zf = c.getZF() !== 0;
    if ((pfx & P_REP) !== 0 ? !zf : zf) return;
  }
  if (a32 ? r[2] !== 0 : r16[4] !== 0) again(c);
}
export function ins(c: CpuCore, d: number): void {
  const size = opSize(c, d);
  const port = c.r16[8];
  checkIoPermission(c, port, size);
  const step = (c.flags & DF) !== 0 ? -size : size;
  const a32 = (c.dPfx[d] & P_A32) !== 0;
  const rep = (c.dPfx[d] & (P_REP | P_REPNE)) !== 0;
  const r = c.r32, r16 = c.r16;
  for (let n = 0, max = iterationLimit(c); n < max; n++) {
    if (rep && (a32 ? r[2] === 0 : r16[4] === 0)) return;
    const off = a32 ? r[14] : r16[28];
    c.linW(ES, off, size); // check the destination before the port read has side effects
    wr(c, ES, off, size, c.io.read(port, size as 1 | 2 | 4));
    if (c.bpIo !== 0) c.matchIo(port, size);
    if (a32) r[14] += step; else r16[28] += step;
    if (!rep) return;
    if (a32) r[2]--; else r16[4]--;
  }
  if (a32 ? r[2] !== 0 : r16[4] !== 0) again(c);
}
export function outs(c: CpuCore, d: number): void {
  const size = opSize(c, d), seg = srcSeg(c, d);
  const port = c.r16[8];
  checkIoPermission(c, port, size);
  const step = (c.flags & DF) !== 0 ? -size : size;
  const a32 = (c.dPfx[d] & P_A32) !== 0;
  const rep = (c.dPfx[d] & (P_REP | P_REPNE)) !== 0;
  const r = c.r32, r16 = c.r16;
  for (let n = 0, max = iterationLimit(c); n < max; n++) {
    if (rep && (a32 ? r[2] === 0 : r16[4] === 0)) return;
    c.io.write(port, size as 1 | 2 | 4, rd(c, seg, a32 ? r[12] : r16[24], size));
    if (c.bpIo !== 0) c.matchIo(port, size);
    if (a32) r[12] += step; else r16[24] += step;
    if (!rep) return;
    if (a32) r[2]--; else r16[4]--;
  }
  if (a32 ? r[2] !== 0 : r16[4] !== 0) again(c);
}
