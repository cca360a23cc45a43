import {
  CLS_DENORMAL, CLS_INF, CLS_QNAN, CLS_ZERO, EXP_BIAS, SIG_BIAS, bitLength, classify, significandOf,
} from './float80.js';
import type { X87Math } from './x87-math.js';

/**
 * FPREM, FPREM1, FSCALE and FXTRACT: operations whose x87 results are exact, computed exactly.
 */

let normSig = 0n;
let normExp = 0;

/** Normalizes a finite nonzero value: value = normSig * 2^(normExp - SIG_BIAS), bit 63 set. */
function normalize(sx: number, hi: number, lo: number): void {
  let sig = significandOf(hi, lo);
  let e = Math.max(sx & 0x7fff, 1);
  const lz = 64 - bitLength(sig);
  if (lz > 0) {
    sig <<= BigInt(lz);
    e -= lz;
  }
  normSig = sig;
  normExp = e;
}

/** Quotient bits and completion of the last partial remainder. */
export const remainderResult = { q: 0, incomplete: false };

/**
 * ST(0) rem ST(1) with x87 partial-remainder semantics: when the exponents differ by 64 or more,
 * only a partial reduction (by 2^(32 + d mod 32) quotient bits) is done and C2 reports it.
 * `nearest` selects FPREM1 (IEEE remainder) instead of FPREM (truncating).
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
    m.setResult(asx, ahi, alo);
    return true;
  }
  normalize(asx, ahi, alo);
  const sigA = normSig;
  const expA = normExp;
  normalize(bsx, bhi, blo);
  const sigB = normSig;
  const expB = normExp;
  const d = expA - expB;
  const signA = asx >>> 15;
  if (d < (nearest ? -1 : 0)) {
    // |ST(0)| < |ST(1)|: ST(0) is returned, normalized (pseudo-denormals, unmasked underflow).
    return m.roundExt(signA, sigA, expA - SIG_BIAS, false, 64);
  }
  let num: bigint;
  let den: bigint;
  let scale: number;
  if (d >= 64) {
    const n = 32 + (d & 31);
    num = sigA << BigInt(n);
    den = sigB;
    scale = expA - n;
    remainderResult.incomplete = true;
  } else if (d >= 0) {
    num = sigA << BigInt(d);
    den = sigB;
    scale = expB;
  } else {
    num = sigA;
    den = sigB << 1n;
    scale = expA;
  }
  let q = num / den;
  let rem = num - q * den;
  if (nearest && !remainderResult.incomplete) {
    const twice = rem << 1n;
    if (twice > den || (twice === den && (q & 1n) === 1n)) {
      q += 1n;
      rem -= den;
    }
  }
  remainderResult.q = Number(q & 7n);
  let sign = signA;
  if (rem < 0n) {
    sign ^= 1;
    rem = -rem;
  }
  if (rem === 0n) {
    m.setResult(signA << 15, 0, 0);
    return true;
  }
  return m.roundExt(sign, rem, scale - SIG_BIAS, false, 64);
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
  normalize(asx, ahi, alo);
  return m.roundExt(asx >>> 15, normSig, normExp + n - SIG_BIAS, false, 64);
}

/** FXTRACT of a finite nonzero value: exponent (unbiased) and significand scaled to [1, 2). */
export function extractParts(sx: number, hi: number, lo: number): { exponent: number; sx: number; hi: number; lo: number } {
  normalize(sx, hi, lo);
  extracted.exponent = normExp - EXP_BIAS;
  extracted.sx = (sx & 0x8000) | EXP_BIAS;
  extracted.hi = Number(normSig >> 32n);
  extracted.lo = Number(normSig & 0xffffffffn);
  return extracted;
}

const extracted = { exponent: 0, sx: 0, hi: 0, lo: 0 };
