import { EXP_BIAS, SIG_BIAS, significandOf } from './float80.js';

/**
 * Transcendental kernels of FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X/FYL2XP1.
 *
 * Final function evaluation is float64 (see QUIRKS.md: about 53 correct bits instead of 64), but
 * the steps where float64 would lose far more are done exactly: trigonometric argument reduction
 * uses the same 66-bit pi as the hardware, logarithms take the exponent apart, and FPATAN scales
 * both operands together so that tiny or huge extended values keep their ratio.
 */

/** pi with 66 significant bits (2 integer bits, 64 fraction bits), as the x87 reduces with. */
const PI66 = 0x3243f6a8885a308d3n;
const FRACTION_BITS = 130;
const HALF_PI_FIXED = PI66 << BigInt(FRACTION_BITS - 65);

/** log2 of a finite positive extended value, without leaving the float64 range. */
export function log2Extended(sx: number, hi: number, lo: number): number {
  const e = Math.max(sx & 0x7fff, 1);
  return e - SIG_BIAS + Math.log2(hi * 4294967296 + lo);
}

/** An extended value times 2^shift, as the nearest float64. */
export function scaledNumber(sx: number, hi: number, lo: number, shift: number): number {
  const e = Math.max(sx & 0x7fff, 1) - SIG_BIAS + shift;
  const m = hi * 4294967296 + lo;
  const x = e < -1000 ? m * 2 ** (e + 1000) * 2 ** -1000 : e > 1000 ? m * 2 ** (e - 1000) * 2 ** 1000 : m * 2 ** e;
  return (sx & 0x8000) !== 0 ? -x : x;
}

/** 2^x - 1 with full float64 accuracy near 0. */
export function twoToXMinusOne(x: number): number {
  return Math.expm1(x * Math.LN2);
}

/** log2(1 + x) with full float64 accuracy near 0. */
export function log2OnePlus(x: number): number {
  return Math.log1p(x) / Math.LN2;
}

/** Result of reduceByHalfPi(): |x| = quadrant * pi/2 + remainder (remainder in [-pi/4, pi/4]). */
export const reduced = { quadrant: 0, remainder: 0 };

/** Reduces |x| (finite, |x| < 2^63) modulo the hardware's pi/2. */
export function reduceByHalfPi(sx: number, hi: number, lo: number): void {
  const exp = sx & 0x7fff;
  if (exp < EXP_BIAS - 1) {
    reduced.quadrant = 0;
    reduced.remainder = Math.abs(scaledNumber(sx, hi, lo, 0));
    return;
  }
  const x = significandOf(hi, lo) << BigInt(exp - SIG_BIAS + FRACTION_BITS);
  let k = x / HALF_PI_FIXED;
  let r = x - k * HALF_PI_FIXED;
  if (r << 1n > HALF_PI_FIXED) {
    k += 1n;
    r -= HALF_PI_FIXED;
  }
  reduced.quadrant = Number(k & 3n);
  reduced.remainder = Number(r) / 2 ** FRACTION_BITS;
}

/** sin(x) for |x| = reduced value, sign applied by the caller (sin is odd). */
export function sinReduced(): number {
  const r = reduced.remainder;
  switch (reduced.quadrant) {
    case 0: return Math.sin(r);
    case 1: return Math.cos(r);
    case 2: return -Math.sin(r);
    default: return -Math.cos(r);
  }
}

/** cos(|x|) = cos(x). */
export function cosReduced(): number {
  const r = reduced.remainder;
  switch (reduced.quadrant) {
    case 0: return Math.cos(r);
    case 1: return -Math.sin(r);
    case 2: return -Math.cos(r);
    default: return Math.sin(r);
  }
}

/** tan(|x|), sign applied by the caller. */
export function tanReduced(): number {
  const t = Math.tan(reduced.remainder);
  return (reduced.quadrant & 1) === 0 ? t : -1 / t;
}
