/**
 * Where QEMU 7.2's x87 (TCG over softfloat) is not the hardware the x87 comparison stands for, so
 * that QEMU can be the oracle on hosts that run no 32-bit programs (x87-qemu-runner.ts). Each
 * deviation was found by the comparison and checked against the SDM (and, where a number was in
 * question, worked out exactly); each is matched narrowly, counted and printed by the test, never
 * hidden. The comparison with the host's own FPU (native-compare.test.ts) needs none of this.
 *
 * Two kinds:
 * - behaviour QEMU does not model at all, so its outcome says nothing about ours: those cases are
 *   not compared (`notComparable`);
 * - a wrong detail in an otherwise comparable outcome: undone in QEMU's outcome before comparing
 *   (`undoDeviations`), only where the case is of the kind and the detail is the known one.
 */
import type { Case, Outcome, Value80 } from './native-cases.js';

/** Why QEMU's outcome of a case cannot be compared with ours, by reason. */
export const NOT_COMPARABLE = {
  stackFault: 'QEMU has no x87 stack faults: it reads an empty register as its old contents and pushes onto a full stack (SDM 8.5.1.1)',
  unmaskedException: 'QEMU completes an instruction whose exception is unmasked (stores, pops), where the CPU leaves the destination alone (SDM 8.5)',
  precisionControl: 'QEMU rounds to the precision control (PC) where the CPU does not: loads and memory operands (FLD, FILD, FBLD, arithmetic with m32/m64/m16int/m32int), FRNDINT, FPREM/FPREM1 (SDM 8.1.5.2: PC affects only the results of FADD, FSUB(R), FMUL, FDIV(R) and FSQRT)',
  twoNaNs: 'QEMU picks a different NaN when both operands are NaNs (SDM table 4-7: an SNaN with a QNaN gives the QNaN; two of a kind give the larger significand)',
} as const;

/** Details QEMU gets wrong, undone in its outcome before comparing. */
export const UNDONE = {
  reservedWords: 'FNSAVE/FNSTENV store 0 in the reserved upper halves of the control, status and tag words (the CPU stores 0xFFFF)',
  roundedUpC1: 'no C1 after an inexact result that was rounded up (SDM 8.1.3.1)',
  denormalFlag: 'no denormal-operand exception flag (DE) for a denormal operand (SDM 8.5.2), the exception being masked',
  negativeSqrtC2: 'FSQRT of a negative number (-0 too) sets C2',
  loadedSummaryBits: 'FLDENV/FRSTOR keep the loaded status word\'s ES and B bits, which the CPU sets from the loaded exception flags and masks',
  controlWordReserved: 'FLDCW/FLDENV/FRSTOR keep the reserved control-word bits (the CPU keeps bits 0-5 and 8-12, bit 6 reads 1)',
  fnstenvMasks: 'FNSTENV does not mask all exceptions after storing the environment (SDM FSTENV/FNSTENV)',
  fstEmptyTag: 'FST/FSTP ST(i) leave the tag of an empty destination register empty',
  fprem1QuotientBits: 'FPREM1 reports wrong quotient bits in C0, C3 and C1 (Q2, Q1, Q0; checked here against the exactly computed quotient)',
} as const;

export type NotComparable = keyof typeof NOT_COMPARABLE;
export type Undone = keyof typeof UNDONE;

const PE = 0x20, DE = 0x02, SF = 0x40, ES = 0x80, C1 = 0x200, C2 = 0x400, B = 0x8000;
const J = 1n << 63n;

const word = (a: Uint8Array, at: number): number => a[at]! | (a[at + 1]! << 8);
const setWord = (a: Uint8Array, at: number, v: number): void => { a[at] = v & 0xff; a[at + 1] = (v >> 8) & 0xff; };
const isNaN80 = (v: Value80): boolean => (v.sx & 0x7fff) === 0x7fff && (v.sig & ~J) !== 0n;
const isDenormal80 = (v: Value80): boolean => (v.sx & 0x7fff) === 0 && v.sig !== 0n;
const u32 = (m: Uint8Array): number => (m[0]! | (m[1]! << 8) | (m[2]! << 16) | (m[3]! << 24)) >>> 0;
const u64 = (m: Uint8Array): bigint => BigInt(u32(m)) | (BigInt(u32(m.subarray(4))) << 32n);

/** The memory operand as a value read by the instruction, when it is a floating-point one. */
function memoryOperand(c: Case): { nan: boolean; denormal: boolean } | null {
  if (c.op.mem === 'm32') {
    const b = u32(c.mem), e = (b >>> 23) & 0xff, f = b & 0x7fffff;
    return { nan: e === 0xff && f !== 0, denormal: e === 0 && f !== 0 };
  }
  if (c.op.mem === 'm64') {
    const b = u64(c.mem), e = Number((b >> 52n) & 0x7ffn), f = b & ((1n << 52n) - 1n);
    return { nan: e === 0x7ff && f !== 0n, denormal: e === 0 && f !== 0n };
  }
  if (c.op.mem === 'm80') {
    const v = { sig: u64(c.mem), sx: c.mem[8]! | (c.mem[9]! << 8) };
    return { nan: isNaN80(v), denormal: isDenormal80(v) };
  }
  return null;
}

const QUOTIENT_BITS = 0x4000 | C1 | 0x100; // C3, C1, C0
/**
 * C0, C3 and C1 (the quotient's bits 2, 1 and 0) after FPREM1 of ST0 = `a` by ST1 = `b`, both
 * finite, nonzero and normal or denormal, when the reduction is complete (ST0's exponent at most
 * 63 above ST1's); else null.
 */
function fprem1QuotientBits(a: Value80, b: Value80): number | null {
  const usable = (v: Value80): boolean => (v.sx & 0x7fff) !== 0x7fff && v.sig !== 0n && ((v.sx & 0x7fff) === 0 || (v.sig & J) !== 0n);
  if (!usable(a) || !usable(b)) return null;
  // A denormal's exponent is that of the smallest normal.
  const d = Math.max(a.sx & 0x7fff, 1) - Math.max(b.sx & 0x7fff, 1);
  if (d > 63 || d < -64) return null;
  const dividend = d >= 0 ? a.sig << BigInt(d) : a.sig, divisor = d >= 0 ? b.sig : b.sig << BigInt(-d);
  const q = dividend / divisor, twice = 2n * (dividend % divisor);
  // The quotient rounded to nearest, ties to even.
  const n = twice > divisor || (twice === divisor && (q & 1n) === 1n) ? q + 1n : q;
  return ((n & 4n) !== 0n ? 0x100 : 0) | ((n & 2n) !== 0n ? 0x4000 : 0) | ((n & 1n) !== 0n ? C1 : 0);
}

/** Operations that read ST(1) as their second operand (the register forms with ModRM 0xC1/0xC9/...). */
const readsSt1 = (c: Case): boolean => (c.op.mem === 'none' && (c.op.modrm & 7) === 1 && c.op.esc !== 0xd9) ||
  ['fprem', 'fprem1', 'fscale', 'fxch', 'fcompp', 'fucompp'].includes(c.op.name);

/** Why QEMU's outcome of this case says nothing about ours, or null when it does. */
export function notComparable(c: Case, ours: Outcome): NotComparable | null {
  const sw = word(ours.area, 4);
  // Only where a stack fault can be: an operand missing (depth 0 or 1) or a push onto eight.
  const pushes = c.op.pushes === true || c.op.name === 'fxtract';
  if ((sw & SF) !== 0 && (c.depth <= 1 || (pushes && c.depth === 8))) return 'stackFault';
  if ((c.cw & 0x3f) !== 0x3f && (sw & ES) !== 0) return 'unmaskedException';
  const pc = (c.cw >> 8) & 3;
  if (pc !== 3 && (c.op.mem !== 'none' && c.op.mem !== 'random' && c.op.mem !== 'cw' && c.op.mem !== 'env' && c.op.mem !== 'save' ||
    ['frndint', 'fprem', 'fprem1'].includes(c.op.name))) return 'precisionControl';
  const other = memoryOperand(c);
  if (c.depth >= 1 && isNaN80(c.a) && (other?.nan === true || (c.depth >= 2 && readsSt1(c) && isNaN80(c.b)))) return 'twoNaNs';
  return null;
}

/** QEMU's outcome with the known wrong details put right where they apply, and which ones were. */
export function undoDeviations(c: Case, qemu: Outcome, ours: Outcome): { outcome: Outcome; undone: Undone[] } {
  const area = qemu.area.slice(), mem = qemu.mem.slice();
  const undone: Undone[] = [];
  const note = (d: Undone): void => { if (!undone.includes(d)) undone.push(d); };
  for (const at of [2, 6, 10]) {
    if (word(area, at) === 0 && word(ours.area, at) === 0xffff) { setWord(area, at, 0xffff); note('reservedWords'); }
    if (c.op.storesEnv === true && word(mem, at) === 0 && word(ours.mem, at) === 0xffff) { setWord(mem, at, 0xffff); note('reservedWords'); }
  }
  const oursSw = word(ours.area, 4), oursCw = word(ours.area, 0);
  let sw = word(area, 4);
  if ((oursSw & (PE | SF)) === PE && (oursSw & C1) !== 0 && (sw & C1) === 0) { sw |= C1; note('roundedUpC1'); }
  const other = memoryOperand(c);
  const denormalOperand = (c.depth >= 1 && isDenormal80(c.a)) || (c.depth >= 2 && isDenormal80(c.b)) || other?.denormal === true ||
    (c.op.mem === 'save' || c.op.mem === 'env');
  if ((c.cw & DE) !== 0 && denormalOperand && (oursSw & DE) !== 0 && (sw & DE) === 0) { sw |= DE; note('denormalFlag'); }
  if (c.op.name === 'fsqrt' && c.depth >= 1 && (c.a.sx & 0x8000) !== 0 && (sw & C2) !== 0 && (oursSw & C2) === 0) { sw &= ~C2; note('negativeSqrtC2'); }
  if ((c.op.name === 'fldenv' || c.op.name === 'frstor') && ((sw ^ oursSw) & ~(ES | B)) === 0 && (sw ^ oursSw) !== 0) { sw = oursSw; note('loadedSummaryBits'); }
  const quotient = c.op.name === 'fprem1' && c.depth >= 2 ? fprem1QuotientBits(c.a, c.b) : null;
  if (quotient !== null && ((sw ^ oursSw) & ~QUOTIENT_BITS) === 0 && (sw ^ oursSw) !== 0 && (oursSw & QUOTIENT_BITS) === quotient) {
    sw = (sw & ~QUOTIENT_BITS) | quotient;
    note('fprem1QuotientBits');
  }
  setWord(area, 4, sw);
  const cw = word(area, 0);
  if (['fldcw', 'fldenv', 'frstor'].includes(c.op.name) && cw !== oursCw && ((cw & 0x1f3f) | 0x40) === oursCw) { setWord(area, 0, oursCw); note('controlWordReserved'); }
  if (c.op.name === 'fnstenv' && cw !== oursCw && (cw | 0x3f) === oursCw) { setWord(area, 0, oursCw); note('fnstenvMasks'); }
  if (/^fstp? st1$/.test(c.op.name)) {
    const tw = word(area, 8), oursTw = word(ours.area, 8), differs = tw ^ oursTw;
    // Only the two tag bits of the destination register, empty (11) in QEMU's.
    const top = (word(ours.area, 4) >> 11) & 7, dest = (top + (c.op.name === 'fst st1' ? 1 : 0)) & 7;
    if ((differs & ~(3 << (dest * 2))) === 0 && differs !== 0 && ((tw >> (dest * 2)) & 3) === 3) { setWord(area, 8, oursTw); note('fstEmptyTag'); }
  }
  return { outcome: { area, mem, eflags: qemu.eflags }, undone };
}
