/**
 * The 80-bit extended-precision format: classification and the exception/condition bit layout the
 * arithmetic shares with the status word.
 *
 * A value is three numbers: `sx` = sign (bit 15) | biased exponent (bits 0-14), and the 64-bit
 * significand as two uint32 halves `hi` (with the explicit integer bit J at bit 31) and `lo`.
 */

/** Status-word exception flags; the control-word mask bits sit at the same positions. */
export const IE = 0x01;
export const DE = 0x02;
export const ZE = 0x04;
export const OE = 0x08;
export const UE = 0x10;
export const PE = 0x20;
export const SF = 0x40;
export const ES = 0x80;
export const C0 = 0x100;
export const C1 = 0x200;
export const C2 = 0x400;
export const C3 = 0x4000;
export const BUSY = 0x8000;

export const EXP_BIAS = 16383;
export const EXP_MAX = 0x7fff;
/** value = significand * 2^(max(exponent, 1) - SIG_BIAS) */
export const SIG_BIAS = EXP_BIAS + 63;

export const CLS_ZERO = 0;
export const CLS_NORMAL = 1;
/** Denormal (exponent 0, J = 0) or pseudo-denormal (exponent 0, J = 1). */
export const CLS_DENORMAL = 2;
export const CLS_INF = 3;
export const CLS_QNAN = 4;
export const CLS_SNAN = 5;
/** Unnormal, pseudo-infinity, pseudo-NaN: rejected as invalid operands since the 80387. */
export const CLS_UNSUPPORTED = 6;

export function classify(sx: number, hi: number, lo: number): number {
  const e = sx & 0x7fff;
  if (e === 0) return (hi | lo) === 0 ? CLS_ZERO : CLS_DENORMAL;
  if ((hi & 0x80000000) === 0) return CLS_UNSUPPORTED;
  if (e === EXP_MAX) {
    if ((hi & 0x7fffffff) === 0 && lo === 0) return CLS_INF;
    return (hi & 0x40000000) !== 0 ? CLS_QNAN : CLS_SNAN;
  }
  return CLS_NORMAL;
}

export function isNanClass(cls: number): boolean {
  return cls >= CLS_QNAN;
}

/** Number of significant bits of a non-negative bigint. */
export function bitLength(x: bigint): number {
  if (x === 0n) return 0;
  const s = x.toString(16);
  return (s.length - 1) * 4 + (32 - Math.clz32(parseInt(s[0]!, 16)));
}

export function significandOf(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}
