import { EXP_BIAS } from './float80.js';

/**
 * Float64 shortcut for FDIV and FSQRT at double precision control (PC = 10b) with
 * round-to-nearest, when the operands are doubles. (FADD/FSUB/FMUL are faster on the word-based
 * path than with the conversions and error terms this needs, so they do not use it.)
 *
 * Why it is exact: with PC = 53 the x87 rounds the exact result to 53 bits, ties to even, with the
 * 15-bit extended exponent range. IEEE double arithmetic does the same rounding whenever the
 * result lies in the double *normal* range, so the callers only accept operands and results well
 * inside it (double-subnormal or overflowing results differ: the x87 keeps them normal in the
 * extended range). The flags come from the sign of the exactly representable residual a - q*b
 * (a - s*s for sqrt), formed with Dekker's TwoProduct. PE is set iff the error is nonzero and C1 iff the result's magnitude was
 * rounded up, which is what the x87 reports.
 */

const f64 = new Float64Array(1);
const f64w = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const W_LO = LITTLE ? 0 : 1;
const W_HI = LITTLE ? 1 : 0;

/** Extended minus double exponent bias. */
const REBIAS = EXP_BIAS - 1023;

/** Outcome of the last shortcut operation. */
export const doubleStatus = { inexact: false, roundedUp: false };

/**
 * The value of a normal extended operand as a double, or NaN when it is not exactly a double with
 * |unbiased exponent| <= `range`.
 */
export function doubleOperand(sx: number, hi: number, lo: number, range: number): number {
  const e = (sx & 0x7fff) - EXP_BIAS;
  if ((lo & 0x7ff) !== 0 || e > range || e < -range) return NaN;
  f64w[W_HI] = ((sx & 0x8000) << 16) | ((e + EXP_BIAS - REBIAS) << 20) | ((hi >>> 11) & 0xfffff);
  f64w[W_LO] = (hi << 21) | (lo >>> 11);
  return f64[0]!;
}

/** Accepts a result whose magnitude lies in [2^-min, 2^max) (well inside the double normal range). */
function inRange(x: number, min: number, max: number): boolean {
  const m = Math.abs(x);
  return m >= 2 ** -min && m < 2 ** max;
}

function setStatus(err: number, result: number): void {
  doubleStatus.inexact = err !== 0;
  // The result's magnitude exceeds the exact value when the error has the opposite sign.
  doubleStatus.roundedUp = err !== 0 && (err < 0) === (result > 0);
}

const SPLIT = 134217729; // 2^27 + 1

/** Exact error of a float64 product (Dekker), valid when no intermediate over/underflows. */
function productError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** a / b for double operands with |exponent| <= 400, or NaN when the shortcut does not apply. */
export function divDoubles(a: number, b: number): number {
  const q = a / b;
  if (!inRange(q, 800, 900)) return NaN;
  // a = q*b + r exactly: q*b = p + e (TwoProduct), a - p is exact (Sterbenz) and the float64
  // difference (a - p) - e has the sign of r (rounding never changes a sign or hides a nonzero).
  const p = q * b;
  const r = a - p - productError(q, b, p);
  // The exact quotient is q + r/b.
  setStatus(r === 0 ? 0 : (r < 0) !== (b < 0) ? -1 : 1, q);
  return q;
}

/** sqrt(a) for a positive double operand with |exponent| <= 800. */
export function sqrtDouble(a: number): number {
  const s = Math.sqrt(a);
  const p = s * s;
  const r = a - p - productError(s, s, p);
  // a = s*s + r exactly, so the exact root exceeds s iff r > 0.
  setStatus(r === 0 ? 0 : r < 0 ? -1 : 1, s);
  return s;
}
