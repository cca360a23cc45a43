import {
  CLS_DENORMAL, CLS_INF, CLS_QNAN, CLS_ZERO, EXP_BIAS, classify,
} from './float80.js';
import { normalizeInto, normalized } from './significand-kernels.js';
import type { X87Math } from './x87-math.js';

/**
 * FPREM, FPREM1, FSCALE and FXTRACT: operations whose x87 results are exact, computed exactly on
 * 32-bit significand words.
 */

/** Quotient bits and completion of the last partial remainder. */
export const remainderResult = { q: 0, incomplete: false };

/**
 * ST(0) rem ST(1) with x87 partial-remainder semantics: when the exponents differ by 64 or more,
 * only a partial reduction (by 2^(32 + d mod 32) quotient bits) is done and C2 reports it.
 * `nearest` selects FPREM1 (IEEE remainder) instead of FPREM (truncating).
 *
 * Restoring binary long division of A * 2^n by B on two words (n <= 63): only the low three
 * quotient bits are architecturally visible, so only those are kept.
 */
export function partialRemainder(m: X87Math, asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number, nearest: boolean): boolean {
  remainderResult.q = 0;
  remainderResult.incomplete = false;
  const ca = classify(asx, ahi, alo);
  const cb = classify(bsx, bhi, blo);
  if (ca >= CLS_QNAN || cb >= CLS_QNAN) return m.nan2(asx, ahi, alo, ca, bsx, bhi, blo, cb);
  if (ca === CLS_INF || cb === CLS_ZERO) return m.invalid();
  if ((ca === CLS_DENORMAL || cb === CLS_DENORMAL) && !m.denormal()) return false;
  if (cb === CLS_INF || ca === CLS_ZERO) {
    // ST(0) is returned; a pseudo-denormal (J set, exponent 0) comes back with exponent 1.
    m.setResult(ca === CLS_DENORMAL && (ahi & 0x80000000) !== 0 ? asx | 1 : asx, ahi, alo);
    return true;
  }
  const expA = normalizeInto(asx, ahi, alo, 0);
  const expB = normalizeInto(bsx, bhi, blo, 2);
  let rh = normalized[0]!;
  let rl = normalized[1]!;
  const bh = normalized[2]!;
  const bl = normalized[3]!;
  const d = expA - expB;
  const signA = asx >>> 15;
  if (d < (nearest ? -1 : 0)) {
    // |ST(0)| < |ST(1)|: ST(0) is returned, normalized (pseudo-denormals, unmasked underflow).
    return m.roundSig(signA, rh, rl, 0, expA, 64);
  }
  let sign = signA;
  let q = 0;
  let scale: number;
  if (d === -1) {
    // FPREM1 with |A| / |B| in [1/4, 1): the quotient rounds to 1 when A > B/2 (num A, den 2B).
    scale = expA;
    if (rh > bh || (rh === bh && rl > bl)) {
      // A - 2B < 0: magnitude 2B - A.
      q = 1;
      sign ^= 1;
      const t = bl * 2 - rl;
      rl = t >>> 0;
      rh = (bh * 2 - rh + Math.floor(t / 4294967296)) >>> 0;
    }
  } else {
    const incomplete = d >= 64;
    const n = incomplete ? 32 + (d & 31) : d;
    scale = incomplete ? expA - n : expB;
    remainderResult.incomplete = incomplete;
    // R < 2B initially (both normalized), so one subtraction gives the leading quotient bit.
    if (rh > bh || (rh === bh && rl >= bl)) {
      const t = rl - bl;
      rl = t >>> 0;
      rh = (rh - bh - (t < 0 ? 1 : 0)) >>> 0;
      q = 1;
    }
    for (let k = 0; k < n; k++) {
      const carry = rh >>> 31;
      rh = ((rh << 1) | (rl >>> 31)) >>> 0;
      rl = (rl << 1) >>> 0;
      q = (q << 1) & 7;
      if (carry !== 0 || rh > bh || (rh === bh && rl >= bl)) {
        const t = rl - bl;
        rl = t >>> 0;
        rh = (rh - bh - (t < 0 ? 1 : 0)) >>> 0;
        q |= 1;
      }
    }
    if (nearest && !incomplete) {
      // Round the quotient to nearest (ties to even): compare 2R with B.
      const top = rh >>> 31;
      const th = ((rh << 1) | (rl >>> 31)) >>> 0;
      const tl = (rl << 1) >>> 0;
      const cmp = top !== 0 || th > bh || (th === bh && tl > bl) ? 1 : th === bh && tl === bl ? 0 : -1;
      if (cmp > 0 || (cmp === 0 && (q & 1) !== 0)) {
        q = (q + 1) & 7;
        sign ^= 1;
        const t = bl - rl;
        rl = t >>> 0;
        rh = (bh - rh - (t < 0 ? 1 : 0)) >>> 0;
      }
    }
  }
  remainderResult.q = q;
  if ((rh | rl) === 0) {
    m.setResult(signA << 15, 0, 0);
    return true;
  }
  return m.roundSig(sign, rh, rl, 0, scale, 64);
}

/** ST(0) * 2^trunc(ST(1)). */
export function scaleByPowerOfTwo(m: X87Math, asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number): boolean {
  const ca = classify(asx, ahi, alo);
  const cb = classify(bsx, bhi, blo);
  if (ca >= CLS_QNAN || cb >= CLS_QNAN) return m.nan2(asx, ahi, alo, ca, bsx, bhi, blo, cb);
  const bNeg = (bsx & 0x8000) !== 0;
  if (cb === CLS_INF) {
    if (bNeg ? ca === CLS_INF : ca === CLS_ZERO) return m.invalid();
  }
  if ((ca === CLS_DENORMAL || cb === CLS_DENORMAL) && !m.denormal()) return false;
  if (ca === CLS_INF || ca === CLS_ZERO) {
    m.setResult(asx, ahi, alo);
    return true;
  }
  if (cb === CLS_INF) {
    if (bNeg) m.setResult(asx & 0x8000, 0, 0);
    else m.setResult((asx & 0x8000) | 0x7fff, 0x80000000, 0);
    return true;
  }
  let n = 0;
  const eb = bsx & 0x7fff;
  if (eb >= EXP_BIAS) {
    if (eb > EXP_BIAS + 20) n = 1 << 21;
    else n = Math.floor(bhi / 2 ** (31 - (eb - EXP_BIAS)));
    if (bNeg) n = -n;
  }
  const e = normalizeInto(asx, ahi, alo, 0);
  return m.roundSig(asx >>> 15, normalized[0]!, normalized[1]!, 0, e + n, 64);
}

/** FXTRACT of a finite nonzero value: exponent (unbiased) and significand scaled to [1, 2). */
export function extractParts(sx: number, hi: number, lo: number): { exponent: number; sx: number; hi: number; lo: number } {
  extracted.exponent = normalizeInto(sx, hi, lo, 0) - EXP_BIAS;
  extracted.sx = (sx & 0x8000) | EXP_BIAS;
  extracted.hi = normalized[0]!;
  extracted.lo = normalized[1]!;
  return extracted;
}

const extracted = { exponent: 0, sx: 0, hi: 0, lo: 0 };
