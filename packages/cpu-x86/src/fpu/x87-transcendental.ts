import { EXP_BIAS } from './float80.js';
import { X87Math } from './x87-math.js';

/**
 * Transcendental instructions computed through float64 (see QUIRKS.md: results carry about 53
 * correct bits instead of the 64 of hardware). Arguments are extended values; results are float64.
 */

/** log2 of a finite positive extended value, without leaving the float64 range for huge/tiny inputs. */
export function log2Extended(sx: number, hi: number, lo: number): number {
  let e = sx & 0x7fff;
  const m = hi * 4294967296 + lo;
  if (e === 0) e = 1;
  // m * 2^(e - 16383 - 63)
  return e - EXP_BIAS - 63 + Math.log2(m);
}

export function toNumber(sx: number, hi: number, lo: number): number {
  return X87Math.toNumber(sx, hi, lo);
}

/** 2^x - 1 with full float64 accuracy near 0. */
export function twoToXMinusOne(x: number): number {
  return Math.expm1(x * Math.LN2);
}

/** log2(1 + x) with full float64 accuracy near 0. */
export function log2OnePlus(x: number): number {
  return Math.log1p(x) / Math.LN2;
}
