import { AF, ARITH, CF, DE, OF, OP_ADC, OP_ADD, OP_LOGIC, OP_SBB, OP_SUB, P_O32, PF, SF, ZF } from '../constants.js';
import { PARITY, type CpuCore } from '../core.js';
import { eaOff, linWrite, rdEb, rdEv, rdGb, rdGv, wrGb, wrGv } from './operands.js';

const MASK = [0xff, 0xffff, -1];
const BITS = [8, 16, 32];

/** The eight classic ALU operations (ADD OR ADC SBB AND SUB XOR CMP = ModRM.reg / opcode bits 5:3). */
export function alu(c: CpuCore, op: number, a: number, b: number, size: number): number {
  let r: number;
  switch (op) {
    case 0: r = (a + b) | 0; c.setLazy(OP_ADD, a, b, r, size); return r;
    case 1: r = a | b; c.setLazy(OP_LOGIC, a, b, r, size); return r;
    case 2:
      if (c.getCF()) { r = (a + b + 1) | 0; c.setLazy(OP_ADC, a, b, r, size); }
      else { r = (a + b) | 0; c.setLazy(OP_ADD, a, b, r, size); }
      return r;
    case 3:
      if (c.getCF()) { r = (a - b - 1) | 0; c.setLazy(OP_SBB, a, b, r, size); }
      else { r = (a - b) | 0; c.setLazy(OP_SUB, a, b, r, size); }
      return r;
    case 4: r = a & b; c.setLazy(OP_LOGIC, a, b, r, size); return r;
    case 5: r = (a - b) | 0; c.setLazy(OP_SUB, a, b, r, size); return r;
    case 6: r = a ^ b; c.setLazy(OP_LOGIC, a, b, r, size); return r;
    default: r = (a - b) | 0; c.setLazy(OP_SUB, a, b, r, size); return a;
  }
}

/** Read-modify-write of the E operand with `fn(old) -> new` semantics via op; op 7 (CMP) and TEST do not write. */
function aluE8(c: CpuCore, d: number, op: number, b: number): void {
  const m = c.dRm[d];
  if (m >= 0xc0) {
    const i = ((m & 3) << 3) | ((m >> 2) & 1);
    c.r8[i] = alu(c, op, c.r8[i], b, 0);
  } else if (op === 7) {
    alu(c, 7, c.readSeg8(c.dSeg[d], eaOff(c, d)), b, 0);
  } else {
    const lin = linWrite(c, d, 1);
    c.write8(lin, alu(c, op, c.readW8(lin), b, 0));
  }
}
function aluEv(c: CpuCore, d: number, op: number, b: number): void {
  const m = c.dRm[d];
  if ((c.dPfx[d] & P_O32) !== 0) {
    if (m >= 0xc0) {
      const i = (m & 7) << 1;
      c.r32[i] = alu(c, op, c.r32[i], b, 2);
    } else if (op === 7) {
      alu(c, 7, c.readSeg32(c.dSeg[d], eaOff(c, d)), b, 2);
    } else {
      const lin = linWrite(c, d, 4);
      c.write32(lin, alu(c, op, c.readW32(lin), b, 2));
    }
  } else {
    b &= 0xffff;
    if (m >= 0xc0) {
      const i = (m & 7) << 2;
      c.r16[i] = alu(c, op, c.r16[i], b, 1);
    } else if (op === 7) {
      alu(c, 7, c.readSeg16(c.dSeg[d], eaOff(c, d)), b, 1);
    } else {
      const lin = linWrite(c, d, 2);
      c.write16(lin, alu(c, op, c.readW16(lin), b, 1));
    }
  }
}

export function aluEbGb(c: CpuCore, d: number): void { aluE8(c, d, c.dExt[d], rdGb(c, d)); }
export function aluEvGv(c: CpuCore, d: number): void { aluEv(c, d, c.dExt[d], rdGv(c, d)); }

// 32-bit register-register and register-immediate forms, one handler per operation: the decoder
// picks these for the most frequent ALU encodings, so the operation is a constant (alu() inlines
// to one case) and no operand-size or memory test runs. Same results and flags as the generic
// handlers above.
function addR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = (m & 7) << 1; c.r32[i] = alu(c, 0, c.r32[i], c.r32[((m >> 3) & 7) << 1], 2); }
function orR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = (m & 7) << 1; c.r32[i] = alu(c, 1, c.r32[i], c.r32[((m >> 3) & 7) << 1], 2); }
function adcR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = (m & 7) << 1; c.r32[i] = alu(c, 2, c.r32[i], c.r32[((m >> 3) & 7) << 1], 2); }
function sbbR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = (m & 7) << 1; c.r32[i] = alu(c, 3, c.r32[i], c.r32[((m >> 3) & 7) << 1], 2); }
function andR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = (m & 7) << 1; c.r32[i] = alu(c, 4, c.r32[i], c.r32[((m >> 3) & 7) << 1], 2); }
function subR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = (m & 7) << 1; c.r32[i] = alu(c, 5, c.r32[i], c.r32[((m >> 3) & 7) << 1], 2); }
function xorR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = (m & 7) << 1; c.r32[i] = alu(c, 6, c.r32[i], c.r32[((m >> 3) & 7) << 1], 2); }
function cmpR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = (m & 7) << 1; alu(c, 7, c.r32[i], c.r32[((m >> 3) & 7) << 1], 2); }
function addGR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = ((m >> 3) & 7) << 1; c.r32[i] = alu(c, 0, c.r32[i], c.r32[(m & 7) << 1], 2); }
function orGR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = ((m >> 3) & 7) << 1; c.r32[i] = alu(c, 1, c.r32[i], c.r32[(m & 7) << 1], 2); }
function adcGR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = ((m >> 3) & 7) << 1; c.r32[i] = alu(c, 2, c.r32[i], c.r32[(m & 7) << 1], 2); }
function sbbGR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = ((m >> 3) & 7) << 1; c.r32[i] = alu(c, 3, c.r32[i], c.r32[(m & 7) << 1], 2); }
function andGR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = ((m >> 3) & 7) << 1; c.r32[i] = alu(c, 4, c.r32[i], c.r32[(m & 7) << 1], 2); }
function subGR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = ((m >> 3) & 7) << 1; c.r32[i] = alu(c, 5, c.r32[i], c.r32[(m & 7) << 1], 2); }
function xorGR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = ((m >> 3) & 7) << 1; c.r32[i] = alu(c, 6, c.r32[i], c.r32[(m & 7) << 1], 2); }
function cmpGR32(c: CpuCore, d: number): void { const m = c.dRm[d], i = ((m >> 3) & 7) << 1; alu(c, 7, c.r32[i], c.r32[(m & 7) << 1], 2); }
function addI32(c: CpuCore, d: number): void { const i = (c.dRm[d] & 7) << 1; c.r32[i] = alu(c, 0, c.r32[i], c.dImm[d], 2); }
function orI32(c: CpuCore, d: number): void { const i = (c.dRm[d] & 7) << 1; c.r32[i] = alu(c, 1, c.r32[i], c.dImm[d], 2); }
function adcI32(c: CpuCore, d: number): void { const i = (c.dRm[d] & 7) << 1; c.r32[i] = alu(c, 2, c.r32[i], c.dImm[d], 2); }
function sbbI32(c: CpuCore, d: number): void { const i = (c.dRm[d] & 7) << 1; c.r32[i] = alu(c, 3, c.r32[i], c.dImm[d], 2); }
function andI32(c: CpuCore, d: number): void { const i = (c.dRm[d] & 7) << 1; c.r32[i] = alu(c, 4, c.r32[i], c.dImm[d], 2); }
function subI32(c: CpuCore, d: number): void { const i = (c.dRm[d] & 7) << 1; c.r32[i] = alu(c, 5, c.r32[i], c.dImm[d], 2); }
function xorI32(c: CpuCore, d: number): void { const i = (c.dRm[d] & 7) << 1; c.r32[i] = alu(c, 6, c.r32[i], c.dImm[d], 2); }
function cmpI32(c: CpuCore, d: number): void { const i = (c.dRm[d] & 7) << 1; alu(c, 7, c.r32[i], c.dImm[d], 2); }
/** ALU Ev,Gv (01, 09, ...) with a 32-bit register destination, by operation. */
export const ALU_EVGV_R32 = [addR32, orR32, adcR32, sbbR32, andR32, subR32, xorR32, cmpR32];
/** ALU Gv,Ev (03, 0B, ...) with a 32-bit register source, by operation. */
export const ALU_GVEV_R32 = [addGR32, orGR32, adcGR32, sbbGR32, andGR32, subGR32, xorGR32, cmpGR32];
/** Group 1 (81, 83) with a 32-bit register destination, by operation (ModRM.reg). */
export const ALU_GRP1_R32 = [addI32, orI32, adcI32, sbbI32, andI32, subI32, xorI32, cmpI32];

export function aluGbEb(c: CpuCore, d: number): void {
  const op = c.dExt[d];
  const r = alu(c, op, rdGb(c, d), rdEb(c, d), 0);
  if (op !== 7) wrGb(c, d, r);
}
export function aluGvEv(c: CpuCore, d: number): void {
  const op = c.dExt[d];
  const size = (c.dPfx[d] & P_O32) !== 0 ? 2 : 1;
  const r = alu(c, op, rdGv(c, d), rdEv(c, d), size);
  if (op !== 7) wrGv(c, d, r);
}
export function aluALIb(c: CpuCore, d: number): void {
  const op = c.dExt[d];
  const r = alu(c, op, c.r8[0], c.dImm[d] & 0xff, 0);
  if (op !== 7) c.r8[0] = r;
}
export function aluAXIz(c: CpuCore, d: number): void {
  const op = c.dExt[d];
  if ((c.dPfx[d] & P_O32) !== 0) {
    const r = alu(c, op, c.r32[0], c.dImm[d], 2);
    if (op !== 7) c.r32[0] = r;
  } else {
    const r = alu(c, op, c.r16[0], c.dImm[d] & 0xffff, 1);
    if (op !== 7) c.r16[0] = r;
  }
}
/** Group 1 (80/81/82/83): op from ModRM.reg, immediate already sign-extended by the decoder. */
export function grp1Eb(c: CpuCore, d: number): void { aluE8(c, d, (c.dRm[d] >> 3) & 7, c.dImm[d] & 0xff); }
export function grp1Ev(c: CpuCore, d: number): void { aluEv(c, d, (c.dRm[d] >> 3) & 7, c.dImm[d]); }

export function testEbGb(c: CpuCore, d: number): void { alu(c, 4, rdEb(c, d), rdGb(c, d), 0); }
export function testEvGv(c: CpuCore, d: number): void {
  alu(c, 4, rdEv(c, d), rdGv(c, d), (c.dPfx[d] & P_O32) !== 0 ? 2 : 1);
}
export function testALIb(c: CpuCore, d: number): void { alu(c, 4, c.r8[0], c.dImm[d] & 0xff, 0); }
export function testAXIz(c: CpuCore, d: number): void {
  if ((c.dPfx[d] & P_O32) !== 0) alu(c, 4, c.r32[0], c.dImm[d], 2);
  else alu(c, 4, c.r16[0], c.dImm[d] & 0xffff, 1);
}
export function testEbIb(c: CpuCore, d: number): void { alu(c, 4, rdEb(c, d), c.dImm[d] & 0xff, 0); }
export function testEvIz(c: CpuCore, d: number): void {
  alu(c, 4, rdEv(c, d), c.dImm[d], (c.dPfx[d] & P_O32) !== 0 ? 2 : 1);
}

// ---- INC / DEC ----
export function incReg(c: CpuCore, d: number): void {
  const r = c.dExt[d];
  if ((c.dPfx[d] & P_O32) !== 0) {
    const a = c.r32[r << 1]; const v = (a + 1) | 0; c.r32[r << 1] = v; c.setLazyKeepCf(OP_ADD, a, v, 2);
  } else {
    const a = c.r16[r << 2]; const v = (a + 1) & 0xffff; c.r16[r << 2] = v; c.setLazyKeepCf(OP_ADD, a, v, 1);
  }
}
export function decReg(c: CpuCore, d: number): void {
  const r = c.dExt[d];
  if ((c.dPfx[d] & P_O32) !== 0) {
    const a = c.r32[r << 1]; const v = (a - 1) | 0; c.r32[r << 1] = v; c.setLazyKeepCf(OP_SUB, a, v, 2);
  } else {
    const a = c.r16[r << 2]; const v = (a - 1) & 0xffff; c.r16[r << 2] = v; c.setLazyKeepCf(OP_SUB, a, v, 1);
  }
}
/** Apply `kind` (0 INC, 1 DEC, 2 NOT, 3 NEG) to the E operand of size 0/1/2. */
function unaryE(c: CpuCore, d: number, kind: number, size: number): void {
  const m = c.dRm[d];
  let lin = 0, a: number;
  if (m >= 0xc0) {
    const r = m & 7;
    a = size === 0 ? c.getReg8(r) : size === 1 ? c.r16[r << 2] : c.r32[r << 1];
  } else {
    lin = linWrite(c, d, 1 << size);
    a = size === 0 ? c.readW8(lin) : size === 1 ? c.readW16(lin) : c.readW32(lin);
  }
  let v: number;
  switch (kind) {
    case 0: v = (a + 1) | 0; c.setLazyKeepCf(OP_ADD, a, v, size); break;
    case 1: v = (a - 1) | 0; c.setLazyKeepCf(OP_SUB, a, v, size); break;
    case 2: v = ~a; break;
    default: v = (0 - a) | 0; c.setLazy(OP_SUB, 0, a, v, size); break;
  }
  if (m >= 0xc0) {
    const r = m & 7;
    if (size === 0) c.setReg8(r, v); else if (size === 1) c.r16[r << 2] = v; else c.r32[r << 1] = v;
  } else if (size === 0) c.write8(lin, v); else if (size === 1) c.write16(lin, v); else c.write32(lin, v);
}
export function incEb(c: CpuCore, d: number): void { unaryE(c, d, 0, 0); }
export function decEb(c: CpuCore, d: number): void { unaryE(c, d, 1, 0); }
export function incEv(c: CpuCore, d: number): void { unaryE(c, d, 0, (c.dPfx[d] & P_O32) !== 0 ? 2 : 1); }
export function decEv(c: CpuCore, d: number): void { unaryE(c, d, 1, (c.dPfx[d] & P_O32) !== 0 ? 2 : 1); }
export function notEb(c: CpuCore, d: number): void { unaryE(c, d, 2, 0); }
export function notEv(c: CpuCore, d: number): void { unaryE(c, d, 2, (c.dPfx[d] & P_O32) !== 0 ? 2 : 1); }
export function negEb(c: CpuCore, d: number): void { unaryE(c, d, 3, 0); }
export function negEv(c: CpuCore, d: number): void { unaryE(c, d, 3, (c.dPfx[d] & P_O32) !== 0 ? 2 : 1); }

// ---- multiply / divide ----
let mulHigh = 0;
/** Unsigned 32x32 -> 64 multiply; returns the low dword, high dword in `mulHigh`. */
function mulu32(a: number, b: number): number {
  a >>>= 0; b >>>= 0;
  const aL = a & 0xffff, aH = a >>> 16, bL = b & 0xffff, bH = b >>> 16;
  const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  mulHigh = (hh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) | 0;
  return ((ll & 0xffff) | (mid << 16)) | 0;
}
let divRemainder = 0;
/**
 * Unsigned (hi:lo) / s for hi < s (so the quotient fits in 32 bits): returns the quotient, the
 * remainder in `divRemainder`. Two steps of 16 bits, each dividend below s * 2^16 <= 2^48, so every
 * value is exact in a double, and floor() of each quotient is right: it is below 2^16, so the
 * division's rounding error (under 2^-36) is smaller than its distance to the next integer (at
 * least 1/s). No BigInt: nothing is allocated.
 */
function divu64(hi: number, lo: number, s: number): number {
  const x = hi * 65536 + (lo >>> 16);
  const q1 = Math.floor(x / s), r1 = x - q1 * s;
  const y = r1 * 65536 + (lo & 0xffff);
  const q0 = Math.floor(y / s);
  divRemainder = y - q0 * s;
  return q1 * 65536 + q0;
}
function muls32(a: number, b: number): number {
  const lo = mulu32(a, b);
  let hi = mulHigh;
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  mulHigh = hi;
  return lo;
}
/** MUL/IMUL flags: CF = OF = `overflow`; SF/ZF/PF from the low result (undefined architecturally). */
/**
 * Flags after a multiply: SF/ZF/PF lazily from the (low) result, CF = OF = overflow, AF = 0. CF, OF
 * and AF are written directly and taken out of the lazy set, so nothing else is materialised.
 */
function mulFlags(c: CpuCore, res: number, size: number, overflow: boolean): void {
  c.setLazy(OP_LOGIC, 0, 0, res, size);
  c.lazy = PF | ZF | SF;
  c.flags = (c.flags & ~(CF | OF | AF)) | (overflow ? CF | OF : 0);
}
export function mulEb(c: CpuCore, d: number): void {
  const r = c.r8[0] * rdEb(c, d);
  c.r16[0] = r;
  mulFlags(c, r, 0, r > 0xff);
}
export function imulEb(c: CpuCore, d: number): void {
  const r = ((c.r8[0] << 24) >> 24) * ((rdEb(c, d) << 24) >> 24);
  c.r16[0] = r;
  mulFlags(c, r, 0, r !== ((r << 24) >> 24));
}
export function mulEv(c: CpuCore, d: number): void {
  if ((c.dPfx[d] & P_O32) !== 0) {
    const lo = mulu32(c.r32[0], rdEv(c, d));
    c.r32[0] = lo; c.r32[4] = mulHigh;
    mulFlags(c, lo, 2, mulHigh !== 0);
  } else {
    const r = c.r16[0] * rdEv(c, d);
    c.r16[0] = r; c.r16[8] = r >>> 16;
    mulFlags(c, r, 1, r > 0xffff);
  }
}
export function imulEv(c: CpuCore, d: number): void {
  if ((c.dPfx[d] & P_O32) !== 0) {
    const lo = muls32(c.r32[0], rdEv(c, d));
    c.r32[0] = lo; c.r32[4] = mulHigh;
    mulFlags(c, lo, 2, mulHigh !== (lo >> 31));
  } else {
    const r = ((c.r16[0] << 16) >> 16) * ((rdEv(c, d) << 16) >> 16);
    c.r16[0] = r; c.r16[8] = r >> 16;
    mulFlags(c, r, 1, r !== ((r << 16) >> 16));
  }
}
/** IMUL Gv, Ev, imm (69/6B) and IMUL Gv, Ev (0F AF: the decoder sets no immediate; ext = 1). */
function imul2(c: CpuCore, d: number, b: number): void {
  if ((c.dPfx[d] & P_O32) !== 0) {
    const a = rdEv(c, d);
    const lo = Math.imul(a, b);
    wrGv(c, d, lo);
    mulFlags(c, lo, 2, a * b !== lo);
  } else {
    const r = ((rdEv(c, d) << 16) >> 16) * ((b << 16) >> 16);
    wrGv(c, d, r);
    mulFlags(c, r, 1, r !== ((r << 16) >> 16));
  }
}
export function imulGvEvI(c: CpuCore, d: number): void { imul2(c, d, c.dImm[d]); }
export function imulGvEv(c: CpuCore, d: number): void {
  const r = (c.dRm[d] >> 3) & 7;
  imul2(c, d, (c.dPfx[d] & P_O32) !== 0 ? c.r32[r << 1] : c.r16[r << 2]);
}

export function divEb(c: CpuCore, d: number): void {
  const s = rdEb(c, d);
  if (s === 0) c.fault(DE, -1);
  const a = c.r16[0];
  const q = Math.floor(a / s);
  if (q > 0xff) c.fault(DE, -1);
  c.r8[0] = q; c.r8[1] = a % s;
}
export function idivEb(c: CpuCore, d: number): void {
  const s = (rdEb(c, d) << 24) >> 24;
  if (s === 0) c.fault(DE, -1);
  const a = (c.r16[0] << 16) >> 16;
  const q = Math.trunc(a / s);
  if (q > 127 || q < -128) c.fault(DE, -1);
  c.r8[0] = q; c.r8[1] = a % s;
}
export function divEv(c: CpuCore, d: number): void {
  if ((c.dPfx[d] & P_O32) !== 0) {
    const s = rdEv(c, d) >>> 0;
    if (s === 0) c.fault(DE, -1);
    const hi = c.r32[4] >>> 0, lo = c.r32[0] >>> 0;
    if (hi >= s) c.fault(DE, -1);
    if (hi < 0x200000) {
      // a < 2^53 is exact; the remainder is exact, and so is the division of a - r by s.
      const a = hi * 4294967296 + lo;
      const r = a % s;
      c.r32[0] = (a - r) / s; c.r32[4] = r;
    } else {
      c.r32[0] = divu64(hi, lo, s); c.r32[4] = divRemainder;
    }
  } else {
    const s = rdEv(c, d);
    if (s === 0) c.fault(DE, -1);
    const a = c.r16[8] * 65536 + c.r16[0];
    const q = Math.floor(a / s);
    if (q > 0xffff) c.fault(DE, -1);
    c.r16[0] = q; c.r16[8] = a % s;
  }
}
export function idivEv(c: CpuCore, d: number): void {
  if ((c.dPfx[d] & P_O32) !== 0) {
    const s = rdEv(c, d) | 0;
    if (s === 0) c.fault(DE, -1);
    const hi = c.r32[4], lo = c.r32[0] >>> 0;
    if (hi >= -0x100000 && hi < 0x100000) {
      // |dividend| < 2^52: exact in a double.
      const a = hi * 4294967296 + lo;
      const r = a % s; // exact, with the dividend's sign like IDIV
      const q = (a - r) / s;
      if (q > 0x7fffffff || q < -0x80000000) c.fault(DE, -1);
      c.r32[0] = q; c.r32[4] = r;
      return;
    }
    // The magnitudes, divided unsigned (a quotient of 2^32 or more does not fit either way).
    const negative = hi < 0, ms = Math.abs(s);
    const mlo = negative ? (-lo) >>> 0 : lo, mhi = negative ? (~hi + (lo === 0 ? 1 : 0)) >>> 0 : hi;
    if (mhi >= ms) c.fault(DE, -1);
    const mq = divu64(mhi, mlo, ms);
    const q = negative !== s < 0 ? -mq : mq;
    if (q > 0x7fffffff || q < -0x80000000) c.fault(DE, -1);
    c.r32[0] = q; c.r32[4] = negative ? -divRemainder : divRemainder;
  } else {
    const s = (rdEv(c, d) << 16) >> 16;
    if (s === 0) c.fault(DE, -1);
    const a = (c.r16[8] << 16) | c.r16[0];
    const q = Math.trunc(a / s);
    if (q > 32767 || q < -32768) c.fault(DE, -1);
    c.r16[0] = q; c.r16[8] = a % s;
  }
}

// ---- shifts and rotates (group 2) ----
/** Shift/rotate `a` (size 0/1/2) by `count` per operation `op` (ModRM.reg); flags updated eagerly. */
export function shiftOp(c: CpuCore, op: number, a: number, count: number, size: number): number {
  count &= 31;
  if (count === 0) return a;
  const bits = BITS[size], mask = MASK[size];
  const sign = 1 << (bits - 1);
  a &= mask;
  let r: number, cf: number, of: number;
  switch (op) {
    case 0: { // ROL
      const n = count % bits;
      r = n === 0 ? a : ((a << n) | ((a & mask) >>> (bits - n))) & mask;
      cf = r & 1;
      of = ((r & sign) !== 0 ? 1 : 0) ^ cf;
      c.setArith(CF | OF, cf | (of ? OF : 0));
      return r;
    }
    case 1: { // ROR
      const n = count % bits;
      r = n === 0 ? a : ((a >>> n) | (a << (bits - n))) & mask;
      cf = (r & sign) !== 0 ? 1 : 0;
      of = cf ^ ((r & (sign >>> 1)) !== 0 ? 1 : 0);
      c.setArith(CF | OF, cf | (of ? OF : 0));
      return r;
    }
    case 2: { // RCL
      const n = size === 2 ? count : count % (bits + 1);
      cf = c.getCF();
      r = a;
      for (let i = 0; i < n; i++) {
        const out = (r & sign) !== 0 ? 1 : 0;
        r = ((r << 1) | cf) & mask;
        cf = out;
      }
      of = ((r & sign) !== 0 ? 1 : 0) ^ cf;
      c.setArith(CF | OF, cf | (of ? OF : 0));
      return r;
    }
    case 3: { // RCR
      const n = size === 2 ? count : count % (bits + 1);
      cf = c.getCF();
      r = a;
      for (let i = 0; i < n; i++) {
        const out = r & 1;
        r = ((r >>> 1) | (cf ? sign : 0)) & mask;
        cf = out;
      }
      of = ((r & sign) !== 0 ? 1 : 0) ^ ((r & (sign >>> 1)) !== 0 ? 1 : 0);
      c.setArith(CF | OF, cf | (of ? OF : 0));
      return r;
    }
    case 4: case 6: // SHL/SAL
      if (count > bits) { r = 0; cf = 0; } else {
        cf = count === bits ? a & 1 : (a >>> (bits - count)) & 1;
        r = count === 32 ? 0 : (a << count) & mask;
      }
      of = ((r & sign) !== 0 ? 1 : 0) ^ cf;
      break;
    case 5: // SHR
      cf = count > bits ? 0 : (a >>> (count - 1)) & 1;
      r = count >= bits ? 0 : a >>> count;
      of = (a & sign) !== 0 ? 1 : 0;
      break;
    default: { // SAR
      const sa = (a << (32 - bits)) >> (32 - bits);
      const n = count >= bits ? bits - 1 : count;
      cf = count >= bits ? (sa < 0 ? 1 : 0) : (sa >> (count - 1)) & 1;
      r = (sa >> n) & mask;
      of = 0;
      break;
    }
  }
  c.setLazyShift(r, size, cf, of !== 0);
  return r;
}
function shiftE(c: CpuCore, d: number, count: number, size: number): void {
  const m = c.dRm[d];
  const op = (m >> 3) & 7;
  if (m >= 0xc0) {
    const r = m & 7;
    if (size === 0) c.setReg8(r, shiftOp(c, op, c.getReg8(r), count, 0));
    else if (size === 1) c.r16[r << 2] = shiftOp(c, op, c.r16[r << 2], count, 1);
    else c.r32[r << 1] = shiftOp(c, op, c.r32[r << 1], count, 2);
    return;
  }
  const lin = linWrite(c, d, 1 << size);
  if (size === 0) c.write8(lin, shiftOp(c, op, c.readW8(lin), count, 0));
  else if (size === 1) c.write16(lin, shiftOp(c, op, c.readW16(lin), count, 1));
  else c.write32(lin, shiftOp(c, op, c.readW32(lin), count, 2));
}
/** ext: 0 = count from imm8, 1 = count 1, 2 = count CL. */
function shiftCount(c: CpuCore, d: number): number {
  const e = c.dExt[d];
  return e === 0 ? c.dImm[d] & 0xff : e === 1 ? 1 : c.r8[8];
}
export function grp2Eb(c: CpuCore, d: number): void { shiftE(c, d, shiftCount(c, d), 0); }
export function grp2Ev(c: CpuCore, d: number): void {
  shiftE(c, d, shiftCount(c, d), (c.dPfx[d] & P_O32) !== 0 ? 2 : 1);
}

/** SHLD/SHRD: ext bit 0 = right, bit 1 = count in CL. */
export function shxd(c: CpuCore, d: number): void {
  const e = c.dExt[d];
  const count = ((e & 2) !== 0 ? c.r8[8] : c.dImm[d]) & 31;
  if (count === 0) return;
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const size = o32 ? 2 : 1, bits = o32 ? 32 : 16, mask = o32 ? -1 : 0xffff, sign = o32 ? 0x80000000 | 0 : 0x8000;
  const m = c.dRm[d];
  let lin = 0, a: number;
  if (m >= 0xc0) a = o32 ? c.r32[(m & 7) << 1] : c.r16[(m & 7) << 2];
  else { lin = linWrite(c, d, bits >> 3); a = o32 ? c.readW32(lin) : c.readW16(lin); }
  const b = rdGv(c, d);
  let r: number, cf: number;
  if (o32) {
    if ((e & 1) === 0) { r = (a << count) | (b >>> (32 - count)); cf = (a >>> (32 - count)) & 1; }
    else { r = (a >>> count) | (b << (32 - count)); cf = (a >>> (count - 1)) & 1; }
  } else if ((e & 1) === 0) {
    const wide = (a << 16) | b; // a:b, then b repeats for counts past 16
    if (count <= 16) { r = (wide << count >>> 16) & 0xffff; cf = (a >>> (16 - count)) & 1; }
    else { r = ((b << (count - 16)) | (a >>> (32 - count))) & 0xffff; cf = (b >>> (32 - count)) & 1; }
  } else {
    const wide = (b << 16) | a; // b:a shifted right
    if (count <= 16) { r = (wide >>> count) & 0xffff; cf = (a >>> (count - 1)) & 1; }
    else { r = ((b >>> (count - 16)) | (a << (32 - count))) & 0xffff; cf = (b >>> (count - 17)) & 1; }
  }
  r &= mask;
  const of = ((a ^ r) & sign) !== 0;
  c.setLazy(OP_LOGIC, 0, 0, r, size);
  c.setArith(ARITH, cf | (of ? OF : 0) | (r === 0 ? ZF : 0) | ((r & sign) !== 0 ? SF : 0) | PARITY[r & 0xff]);
  if (m >= 0xc0) { if (o32) c.r32[(m & 7) << 1] = r; else c.r16[(m & 7) << 2] = r; }
  else if (o32) c.write32(lin, r); else c.write16(lin, r);
}

// ---- BCD ----
export function daa(c: CpuCore): void {
  const f = c.getFlags();
  const old = c.r8[0], oldCf = f & CF;
  let al = old, cf = 0, af = 0;
  if ((al & 0xf) > 9 || (f & AF)) { al = (al + 6) & 0xff; af = AF; cf = oldCf | (old > 0xf9 ? 1 : 0); }
  if (old > 0x99 || oldCf) { al = (al + 0x60) & 0xff; cf = 1; }
  c.r8[0] = al;
  c.setArith(ARITH, cf | af | (al === 0 ? ZF : 0) | (al & 0x80 ? SF : 0) | PARITY[al]);
}
export function das(c: CpuCore): void {
  const f = c.getFlags();
  const old = c.r8[0], oldCf = f & CF;
  let al = old, cf = 0, af = 0;
  if ((al & 0xf) > 9 || (f & AF)) { al = (al - 6) & 0xff; af = AF; cf = oldCf | (old < 6 ? 1 : 0); }
  if (old > 0x99 || oldCf) { al = (al - 0x60) & 0xff; cf = 1; }
  c.r8[0] = al;
  c.setArith(ARITH, cf | af | (al === 0 ? ZF : 0) | (al & 0x80 ? SF : 0) | PARITY[al]);
}
export function aaa(c: CpuCore): void {
  const f = c.getFlags();
  if ((c.r8[0] & 0xf) > 9 || (f & AF)) {
    c.r16[0] = (c.r16[0] + 0x106) & 0xffff;
    c.r8[0] &= 0xf;
    c.setArith(CF | AF, CF | AF);
  } else {
    c.r8[0] &= 0xf;
    c.setArith(CF | AF, 0);
  }
}
export function aas(c: CpuCore): void {
  const f = c.getFlags();
  if ((c.r8[0] & 0xf) > 9 || (f & AF)) {
    c.r16[0] = (c.r16[0] - 6) & 0xffff;
    c.r8[1] = (c.r8[1] - 1) & 0xff;
    c.r8[0] &= 0xf;
    c.setArith(CF | AF, CF | AF);
  } else {
    c.r8[0] &= 0xf;
    c.setArith(CF | AF, 0);
  }
}
export function aam(c: CpuCore, d: number): void {
  const base = c.dImm[d] & 0xff;
  if (base === 0) c.fault(DE, -1);
  const al = c.r8[0];
  c.r8[1] = Math.floor(al / base);
  c.r8[0] = al % base;
  c.setLazy(OP_LOGIC, 0, 0, c.r8[0], 0);
}
export function aad(c: CpuCore, d: number): void {
  const al = (c.r8[0] + c.r8[1] * (c.dImm[d] & 0xff)) & 0xff;
  c.r16[0] = al;
  c.setLazy(OP_LOGIC, 0, 0, al, 0);
}

// ---- bit operations ----
/** BT/BTS/BTR/BTC: ext = 0 test, 1 set, 2 reset, 3 complement; immediate form when opcode group 0F BA. */
function bitOp(c: CpuCore, d: number, bitIndex: number, isImm: boolean): void {
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const kind = isImm ? ((c.dRm[d] >> 3) & 3) : c.dExt[d];
  const bits = o32 ? 32 : 16;
  const m = c.dRm[d];
  let cf: number;
  if (m >= 0xc0) {
    const r = m & 7;
    const n = bitIndex & (bits - 1);
    const v = o32 ? c.r32[r << 1] : c.r16[r << 2];
    cf = (v >>> n) & 1;
    if (kind !== 0) {
      const nv = kind === 1 ? v | (1 << n) : kind === 2 ? v & ~(1 << n) : v ^ (1 << n);
      if (o32) c.r32[r << 1] = nv; else c.r16[r << 2] = nv;
    }
  } else {
    // Register bit offsets address memory beyond the operand (signed); immediates wrap within it.
    let off = eaOff(c, d);
    let n: number;
    if (isImm) n = bitIndex & (bits - 1);
    else {
      const signed = o32 ? bitIndex | 0 : (bitIndex << 16) >> 16;
      off = (off + (Math.floor(signed / bits) * (bits >> 3))) | 0;
      if (c.dEa[d] & 0x400) off &= 0xffff;
      n = signed & (bits - 1);
    }
    const seg = c.dSeg[d];
    if (kind === 0) {
      const v = o32 ? c.readSeg32(seg, off) : c.readSeg16(seg, off);
      cf = (v >>> n) & 1;
    } else {
      const lin = c.linW(seg, off, bits >> 3);
      const v = o32 ? c.readW32(lin) : c.readW16(lin);
      cf = (v >>> n) & 1;
      const nv = kind === 1 ? v | (1 << n) : kind === 2 ? v & ~(1 << n) : v ^ (1 << n);
      if (o32) c.write32(lin, nv); else c.write16(lin, nv);
    }
  }
  c.setArith(CF, cf);
}
export function btEvGv(c: CpuCore, d: number): void { bitOp(c, d, rdGv(c, d), false); }
export function btEvIb(c: CpuCore, d: number): void { bitOp(c, d, c.dImm[d] & 0xff, true); }
export function bsf(c: CpuCore, d: number): void {
  const v = rdEv(c, d);
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const x = o32 ? v : v & 0xffff;
  if (x === 0) { c.setArith(ZF, ZF); return; }
  wrGv(c, d, 31 - Math.clz32(x & -x));
  c.setArith(ZF, 0);
}
export function bsr(c: CpuCore, d: number): void {
  const v = rdEv(c, d);
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  const x = o32 ? v : v & 0xffff;
  if (x === 0) { c.setArith(ZF, ZF); return; }
  wrGv(c, d, 31 - Math.clz32(x));
  c.setArith(ZF, 0);
}
