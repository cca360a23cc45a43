/**
 * Exact fixed-width integer kernels on 64-bit significands held as two uint32 halves: the full
 * 128-bit product, a 97-bit quotient with remainder flag, and a 64-bit square root with round and
 * sticky information. Results land in the shared scratch {@link wide}; nothing allocates.
 *
 * Exact 32x32 -> 64-bit products come from `Math.imul` (the exact low word) and the float64
 * product (the high word): the float64 product is within 2^12 of the true product, so
 * (float product - low word) / 2^32 lies within 2^-20 of the true high word and `Math.round`
 * recovers it exactly. Sums of a few 32-bit words stay far below 2^53, and `>>> 0` reduces an
 * integer-valued double modulo 2^32 exactly.
 */

const TWO32 = 4294967296;
const INV32 = 1 / TWO32;

/** 128-bit scratch result: wide[3] is the most significant word. */
export const wide = new Uint32Array(4);

/** Normalized significands written by normalizeInto(): slot 0 at [0..1], slot 2 at [2..3]. */
export const normalized = new Uint32Array(4);

/**
 * Normalizes a finite nonzero extended value (sign and biased exponent `sx`, significand hi:lo)
 * into normalized[slot] (high) and normalized[slot + 1] (low), bit 63 set; returns e such that
 * value = significand * 2^(e - SIG_BIAS). Exponent 0 (denormals) counts as 1.
 */
export function normalizeInto(sx: number, hi: number, lo: number, slot: number): number {
  let e = Math.max(sx & 0x7fff, 1);
  if (hi === 0) {
    hi = lo;
    lo = 0;
    e -= 32;
  }
  const lz = Math.clz32(hi);
  if (lz !== 0) {
    hi = ((hi << lz) | (lo >>> (32 - lz))) >>> 0;
    lo = (lo << lz) >>> 0;
    e -= lz;
  }
  normalized[slot] = hi;
  normalized[slot + 1] = lo;
  return e;
}

/** wide = (ah:al) * (bh:bl), the exact 128-bit product. */
export function mul64(ah: number, al: number, bh: number, bl: number): void {
  const w0 = Math.imul(al, bl) >>> 0;
  const llHi = Math.round((al * bl - w0) * INV32);
  const lhLo = Math.imul(al, bh) >>> 0;
  const lhHi = Math.round((al * bh - lhLo) * INV32);
  const hlLo = Math.imul(ah, bl) >>> 0;
  const hlHi = Math.round((ah * bl - hlLo) * INV32);
  const hhLo = Math.imul(ah, bh) >>> 0;
  const hhHi = Math.round((ah * bh - hhLo) * INV32);
  const t1 = llHi + lhLo + hlLo;
  const w1 = t1 >>> 0;
  const t2 = lhHi + hlHi + hhLo + (t1 - w1) * INV32;
  const w2 = t2 >>> 0;
  wide[0] = w0;
  wide[1] = w1;
  wide[2] = w2;
  wide[3] = hhHi + (t2 - w2) * INV32;
}

/**
 * wide = floor(A * 2^96 / B) for normalized A = ah:al and B = bh:bl (bit 63 set in both), a 96-
 * or 97-bit quotient. Returns whether the division left a remainder.
 *
 * Long division in three 32-bit quotient digits: each digit is estimated in float64 (four
 * roundings, relative error below 2^-50, so the estimate is off by at most one) and corrected against the exact
 * partial remainder, which always stays below B.
 */
export function divide64(ah: number, al: number, bh: number, bl: number): boolean {
  let rh = ah;
  let rl = al;
  let q0 = 0;
  if (ah > bh || (ah === bh && al >= bl)) {
    const s = rl - bl;
    rl = s >>> 0;
    rh = (rh - bh - (s < 0 ? 1 : 0)) >>> 0;
    q0 = 1;
  }
  wide[3] = q0;
  // 2^32 / B: one more rounding keeps the digit estimate within one of the true digit.
  const scale = TWO32 / (bh * TWO32 + bl);
  for (let k = 2; k >= 0; k--) {
    let d = Math.floor((rh * TWO32 + rl) * scale);
    if (d > 0xffffffff) d = 0xffffffff;
    // d * B as three words p2:p1:p0.
    const p0 = Math.imul(d, bl) >>> 0;
    const c0 = Math.round((d * bl - p0) * INV32);
    const mLo = Math.imul(d, bh) >>> 0;
    const mHi = Math.round((d * bh - mLo) * INV32);
    const t = c0 + mLo;
    const p1 = t >>> 0;
    const p2 = mHi + (t - p1) * INV32;
    // T = R * 2^32 - d * B, in (-B, 2B): words top:t1:t0 with top in {-1, 0, 1}.
    let t0 = -p0 >>> 0;
    let s = rl - p1 - (p0 !== 0 ? 1 : 0);
    let t1 = s >>> 0;
    const top = rh - p2 - (s < 0 ? 1 : 0);
    if (top < 0) {
      d -= 1;
      s = t0 + bl;
      t0 = s >>> 0;
      t1 = (t1 + bh + (s > 0xffffffff ? 1 : 0)) >>> 0;
    } else if (top > 0 || t1 > bh || (t1 === bh && t0 >= bl)) {
      d += 1;
      s = t0 - bl;
      t0 = s >>> 0;
      t1 = (t1 - bh - (s < 0 ? 1 : 0)) >>> 0;
    }
    rh = t1;
    rl = t0;
    wide[k] = d;
  }
  return (rh | rl) !== 0;
}

/** M - r^2 as four words (two's complement; residue[3] most significant). */
const residue = new Uint32Array(4);

/**
 * residue = M - r^2 for M = m3:m2:m1:0 and r = rh:rl; returns it as a float64 (approximate, with
 * the right sign; exact when it is small).
 */
function residual(m3: number, m2: number, m1: number, rh: number, rl: number): number {
  mul64(rh, rl, rh, rl);
  let s = -wide[0]!;
  const d0 = s >>> 0;
  s = m1 - wide[1]! - (s < 0 ? 1 : 0);
  const d1 = s >>> 0;
  s = m2 - wide[2]! - (s < 0 ? 1 : 0);
  const d2 = s >>> 0;
  s = m3 - wide[3]! - (s < 0 ? 1 : 0);
  const d3 = s >>> 0;
  residue[0] = d0;
  residue[1] = d1;
  residue[2] = d2;
  residue[3] = d3;
  return (d3 | 0) * 2 ** 96 + d2 * 2 ** 64 + d1 * TWO32 + d0;
}

/** Compares the non-negative residue with the 65-bit value t2:t1:t0: -1, 0 or 1. */
function compareResidue(t2: number, t1: number, t0: number): number {
  if (residue[3] !== 0) return 1;
  const d2 = residue[2]!;
  if (d2 !== t2) return d2 > t2 ? 1 : -1;
  const d1 = residue[1]!;
  if (d1 !== t1) return d1 > t1 ? 1 : -1;
  const d0 = residue[0]!;
  return d0 === t0 ? 0 : d0 > t0 ? 1 : -1;
}

/**
 * Square root of M = S * 2^64 (or S * 2^63 when `half`) for a normalized S = sh:sl.
 * Writes r = floor(sqrt(M)) (64 bits, bit 63 set) to wide[3]:wide[2] and a jammed fraction word to
 * wide[1] (wide[0] = 0): bit 31 = the fraction is above one half, bit 0 = the fraction is nonzero.
 * (The square root of an integer is never an odd multiple of one half, so those two bits are all
 * that rounding needs.)
 */
export function sqrt64(sh: number, sl: number, half: boolean): void {
  const m3 = half ? sh >>> 1 : sh;
  const m2 = half ? ((sh << 31) | (sl >>> 1)) >>> 0 : sl;
  const m1 = half ? (sl << 31) >>> 0 : 0;
  // float64 estimate (within 2^12 of the root), then one Newton step on the exact residual
  // (within one of the floor), then exact correction until 0 <= M - r^2 <= 2r.
  let r = Math.sqrt((sh * TWO32 + sl) * (half ? 2 ** 63 : 2 ** 64));
  if (r > 18446744073709549568) r = 18446744073709549568; // 2^64 - 2^11
  let rh = Math.floor(r * INV32);
  let rl = r - rh * TWO32;
  const v = rl + Math.floor(residual(m3, m2, m1, rh, rl) / (2 * r));
  rl = v >>> 0;
  rh = (rh + Math.floor(v * INV32)) >>> 0;
  for (let guard = 0; guard < 8; guard++) {
    if (residual(m3, m2, m1, rh, rl) < 0) {
      if (rl === 0) rh = (rh - 1) >>> 0;
      rl = (rl - 1) >>> 0;
    } else if (compareResidue(rh >>> 31, ((rh << 1) | (rl >>> 31)) >>> 0, (rl << 1) >>> 0) > 0) {
      rl = (rl + 1) >>> 0;
      if (rl === 0) rh = (rh + 1) >>> 0;
    } else break;
  }
  const above = compareResidue(0, rh, rl) > 0;
  const nonzero = (residue[0]! | residue[1]! | residue[2]!) !== 0;
  wide[3] = rh;
  wide[2] = rl;
  wide[1] = above ? 0x80000001 : nonzero ? 1 : 0;
  wide[0] = 0;
}
