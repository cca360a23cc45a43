import {
  CLS_DENORMAL, CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO, DE, EXP_BIAS, IE,
  OE, PE, SIG_BIAS, UE, ZE, bitLength, classify, significandOf,
} from './float80.js';

const RC_NEAREST = 0;
const RC_DOWN = 1;
const RC_UP = 2;

/** Bias adjustment applied to register results of unmasked overflow/underflow (2^24576). */
const WRAP = 24576;

const f64 = new Float64Array(1);
const f64w = new Uint32Array(f64.buffer);
// Little-endian hosts only are supported by typed-array word order; detect once.
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const W_LO = LITTLE ? 0 : 1;
const W_HI = LITTLE ? 1 : 0;

const TWO32 = 4294967296;

/**
 * The x87 arithmetic unit: exact IEEE 754 extended-precision operations on unpacked 80-bit values,
 * rounding to the precision and rounding mode of the control word, with the x87 exception rules.
 *
 * Inputs are passed as (sx, hi, lo) triples; the result lands in `rsx/rhi/rlo`. Every operation
 * ORs the exceptions it detects into `exc`, sets `c1` (round-up indicator) and returns whether the
 * destination must be written (false when an unmasked invalid, denormal or zero-divide exception
 * suppresses the result, or a memory store hits an unmasked overflow/underflow).
 *
 * Exact slow paths use bigint; operations whose float64 computation is provably exact avoid it.
 */
export class X87Math {
  /** Control word in effect (masks, PC, RC). */
  cw = 0x037f;
  /** Exceptions raised by the current instruction (status-word bit positions). */
  exc = 0;
  /** Round-up indicator (C1) of the last rounding. */
  c1 = 0;
  /** Set by a memory-operand load when the source was a denormal (so the operation reports DE). */
  srcDenormal = false;
  rsx = 0;
  rhi = 0;
  rlo = 0;
  /** Outputs of roundTo(): biased exponent and kept significand (p bits) of the rounded value. */
  gExp = 0;
  gSig = 0n;
  private inexact = false;
  private roundedUp = false;

  /** Prepares for a new instruction. */
  begin(cw: number): void {
    this.cw = cw;
    this.exc = 0;
    this.c1 = 0;
    this.srcDenormal = false;
  }

  rc(): number {
    return (this.cw >>> 10) & 3;
  }

  /** Significand precision chosen by PC (the reserved encoding 01 behaves as extended). */
  precision(): number {
    const pc = (this.cw >>> 8) & 3;
    return pc === 0 ? 24 : pc === 2 ? 53 : 64;
  }

  masked(flag: number): boolean {
    return (this.cw & flag) !== 0;
  }

  setResult(sx: number, hi: number, lo: number): void {
    this.rsx = sx;
    this.rhi = hi >>> 0;
    this.rlo = lo >>> 0;
  }

  setIndefinite(): void {
    this.setResult(0xffff, 0xc0000000, 0);
  }

  /** Signals an invalid operation; writes the indefinite result when masked. */
  invalid(): boolean {
    this.exc |= IE;
    if (!this.masked(IE)) return false;
    this.setIndefinite();
    return true;
  }

  /** Signals a denormal operand; returns false when that aborts the operation. */
  denormal(): boolean {
    this.exc |= DE;
    return this.masked(DE);
  }

  // ---------------------------------------------------------------- NaN propagation

  /** Result for operations where at least one operand is a NaN or unsupported. */
  nan2(asx: number, ahi: number, alo: number, ca: number, bsx: number, bhi: number, blo: number, cb: number): boolean {
    if (ca === CLS_UNSUPPORTED || cb === CLS_UNSUPPORTED) return this.invalid();
    if (ca === CLS_SNAN || cb === CLS_SNAN) {
      this.exc |= IE;
      if (!this.masked(IE)) return false;
    }
    const aNan = ca === CLS_QNAN || ca === CLS_SNAN;
    const bNan = cb === CLS_QNAN || cb === CLS_SNAN;
    let useA: boolean;
    if (aNan && bNan) {
      if (ca === CLS_QNAN && cb === CLS_SNAN) useA = true;
      else if (ca === CLS_SNAN && cb === CLS_QNAN) useA = false;
      else {
        const ah = ahi & 0x3fffffff;
        const bh = bhi & 0x3fffffff;
        if (ah !== bh) useA = ah > bh;
        else if (alo !== blo) useA = alo > blo;
        else useA = (asx & 0x8000) === 0 || (bsx & 0x8000) !== 0;
      }
    } else useA = aNan;
    if (useA) this.setResult(asx, ahi | 0x40000000, alo);
    else this.setResult(bsx, bhi | 0x40000000, blo);
    return true;
  }

  nan1(sx: number, hi: number, lo: number, cls: number): boolean {
    if (cls === CLS_UNSUPPORTED) return this.invalid();
    if (cls === CLS_SNAN) {
      this.exc |= IE;
      if (!this.masked(IE)) return false;
    }
    this.setResult(sx, hi | 0x40000000, lo);
    return true;
  }

  // ---------------------------------------------------------------- rounding core

  /** Drops `shift` low bits of sig (plus a sticky remainder) according to RC; sets inexact/roundedUp. */
  private roundBits(sig: bigint, shift: number, sticky: boolean, sign: number, rc: number): bigint {
    if (shift <= 0) {
      // Callers guarantee at least two guard bits when sticky is set, so shift <= 0 is exact.
      this.inexact = false;
      this.roundedUp = false;
      return shift === 0 ? sig : sig << BigInt(-shift);
    }
    let kept: bigint;
    let inc: boolean;
    if (shift > bitLength(sig) + 1) {
      kept = 0n;
      this.inexact = sig !== 0n || sticky;
      inc = this.inexact && (rc === RC_DOWN ? sign !== 0 : rc === RC_UP ? sign === 0 : false);
    } else {
      const s = BigInt(shift);
      const rem = sig & ((1n << s) - 1n);
      kept = sig >> s;
      this.inexact = rem !== 0n || sticky;
      if (rc === RC_NEAREST) {
        const half = 1n << (s - 1n);
        inc = rem > half || (rem === half && (sticky || (kept & 1n) === 1n));
      } else if (rc === RC_DOWN) inc = this.inexact && sign !== 0;
      else if (rc === RC_UP) inc = this.inexact && sign === 0;
      else inc = false;
    }
    this.roundedUp = inc;
    return inc ? kept + 1n : kept;
  }

  /**
   * Rounds sign * (sig + sticky) * 2^e to a p-bit significand in a format with the given exponent
   * bias and largest normal biased exponent. `wrap` is the bias adjustment for unmasked
   * overflow/underflow (register destinations) or 0 (memory destination: nothing is stored).
   * Writes gExp (biased; 0 = denormal/zero, emax+1 = infinity) and gSig; returns whether to store.
   */
  roundTo(sign: number, sig: bigint, e: number, sticky: boolean, p: number, bias: number, emax: number, wrap: number): boolean {
    const rc = this.rc();
    const excBefore = this.exc;
    let E = e + bitLength(sig) - 1 + bias;
    const tiny = E < 1;
    const uMasked = this.masked(UE);
    if (tiny && uMasked) {
      // The x87 detects tininess after rounding: a value that rounds (with unbounded exponent)
      // up to the smallest normal does not underflow.
      let tinyAfter = true;
      if (E === 0) tinyAfter = this.roundBits(sig, E - bias - (p - 1) - e, sticky, sign, rc) >> BigInt(p) === 0n;
      const kept = this.roundBits(sig, 1 - bias - (p - 1) - e, sticky, sign, rc);
      E = kept >> BigInt(p - 1) !== 0n ? 1 : 0;
      if (this.inexact) {
        this.exc |= (tinyAfter ? UE : 0) | PE;
        this.c1 = this.roundedUp ? 1 : 0;
      }
      this.gExp = E;
      this.gSig = kept;
      return true;
    }
    let kept = this.roundBits(sig, E - bias - (p - 1) - e, sticky, sign, rc);
    if (kept >> BigInt(p) !== 0n) {
      kept >>= 1n;
      E += 1;
    }
    if (this.inexact) {
      this.exc |= PE;
      this.c1 = this.roundedUp ? 1 : 0;
    }
    if (E > emax) {
      this.exc |= OE;
      if (this.masked(OE)) {
        this.exc |= PE;
        const toInf = rc === RC_NEAREST || (rc === RC_DOWN ? sign !== 0 : rc === RC_UP ? sign === 0 : false);
        if (toInf) {
          this.gExp = emax + 1;
          this.gSig = 1n << BigInt(p - 1);
          this.c1 = 1;
        } else {
          this.gExp = emax;
          this.gSig = (1n << BigInt(p)) - 1n;
          this.c1 = 0;
        }
        return true;
      }
      if (wrap === 0) {
        // Memory destination: nothing is stored and only OE is reported.
        this.exc = excBefore | OE;
        this.c1 = 0;
        return false;
      }
      E -= wrap;
      if (E > emax) {
        // Still out of range after the bias adjustment (only FSCALE gets here): infinity,
        // whatever the rounding mode.
        this.exc |= PE;
        this.gExp = emax + 1;
        this.gSig = 1n << BigInt(p - 1);
        this.c1 = 1;
        return true;
      }
    } else if (E < 1) {
      this.exc |= UE;
      if (wrap === 0) {
        this.exc = excBefore | UE;
        this.c1 = 0;
        return false;
      }
      E += wrap;
      if (E < 1) {
        this.exc |= PE;
        this.c1 = 0;
        this.gExp = 0;
        this.gSig = 0n;
        return true;
      }
    }
    this.gExp = E;
    this.gSig = kept;
    return true;
  }

  /** Rounds to the extended register format at precision p and writes the result. */
  roundExt(sign: number, sig: bigint, e: number, sticky: boolean, p: number): boolean {
    if (!this.roundTo(sign, sig, e, sticky, p, EXP_BIAS, 0x7ffe, WRAP)) return false;
    const s = this.gSig << BigInt(64 - p);
    this.setResult((sign << 15) | (this.gExp & 0x7fff), Number(s >> 32n), Number(s & 0xffffffffn));
    return true;
  }

  // ---------------------------------------------------------------- float64 helpers (exact)

  /** The float64 nearest to an extended value (finite or not), round-to-nearest. */
  static toNumber(sx: number, hi: number, lo: number): number {
    const e = sx & 0x7fff;
    const neg = (sx & 0x8000) !== 0;
    if (e === 0x7fff) {
      if ((hi & 0x7fffffff) === 0 && lo === 0) return neg ? -Infinity : Infinity;
      return NaN;
    }
    const m = hi * TWO32 + lo;
    const x = m * 2 ** ((e === 0 ? 1 : e) - SIG_BIAS + 64) / 2 ** 64;
    return neg ? -x : x;
  }

  /** Writes a float64 (any value) exactly as extended into the result. */
  setNumber(x: number): void {
    f64[0] = x;
    const whi = f64w[W_HI]!;
    const wlo = f64w[W_LO]!;
    this.loadF64(wlo, whi);
  }

  // ---------------------------------------------------------------- format conversions (loads)

  /** Converts an IEEE single to extended (exact). SNaNs stay signaling. Returns the source class. */
  loadF32(bits: number): number {
    const s = (bits >>> 16) & 0x8000;
    const e = (bits >>> 23) & 0xff;
    const f = bits & 0x7fffff;
    if (e === 0) {
      if (f === 0) {
        this.setResult(s, 0, 0);
        return CLS_ZERO;
      }
      const lz = Math.clz32(f);
      this.setResult(s | (16265 - lz), f << lz, 0);
      return CLS_DENORMAL;
    }
    if (e === 0xff) {
      this.setResult(s | 0x7fff, 0x80000000 | (f << 8), 0);
      if (f === 0) return CLS_INF;
      return (f & 0x400000) !== 0 ? CLS_QNAN : CLS_SNAN;
    }
    this.setResult(s | (e - 127 + EXP_BIAS), 0x80000000 | (f << 8), 0);
    return CLS_NORMAL;
  }

  /** Converts an IEEE double (two uint32 words) to extended (exact). Returns the source class. */
  loadF64(wlo: number, whi: number): number {
    const s = (whi >>> 16) & 0x8000;
    const e = (whi >>> 20) & 0x7ff;
    const fhi = whi & 0xfffff;
    let hi = (fhi << 11) | (wlo >>> 21);
    let lo = wlo << 11;
    if (e === 0) {
      if ((fhi | wlo) === 0) {
        this.setResult(s, 0, 0);
        return CLS_ZERO;
      }
      let n: number;
      if (hi !== 0) {
        n = Math.clz32(hi);
        hi = (hi << n) | (n === 0 ? 0 : lo >>> (32 - n));
        lo = lo << n;
      } else {
        const z = Math.clz32(lo);
        n = 32 + z;
        hi = lo << z;
        lo = 0;
      }
      this.setResult(s | (15361 - n), hi, lo);
      return CLS_DENORMAL;
    }
    hi |= 0x80000000;
    if (e === 0x7ff) {
      this.setResult(s | 0x7fff, hi, lo);
      if ((fhi | wlo) === 0) return CLS_INF;
      return (fhi & 0x80000) !== 0 ? CLS_QNAN : CLS_SNAN;
    }
    this.setResult(s | (e - 1023 + EXP_BIAS), hi, lo);
    return CLS_NORMAL;
  }

  /** Converts a signed 64-bit integer given as two uint32 halves to extended (exact). */
  loadInt64(lo: number, hi: number): void {
    let s = 0;
    if ((hi & 0x80000000) !== 0) {
      s = 0x8000;
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    if ((hi | lo) === 0) {
      this.setResult(0, 0, 0);
      return;
    }
    let n: number;
    if (hi !== 0) {
      n = Math.clz32(hi);
      if (n !== 0) {
        hi = (hi << n) | (lo >>> (32 - n));
        lo = lo << n;
      }
    } else {
      const z = Math.clz32(lo);
      n = 32 + z;
      hi = lo << z;
      lo = 0;
    }
    this.setResult(s | (EXP_BIAS + 63 - n), hi, lo);
  }

  loadInt32(v: number): void {
    v |= 0;
    this.loadInt64(v >>> 0, v < 0 ? 0xffffffff : 0);
  }

  // ---------------------------------------------------------------- format conversions (stores)

  /** Rounds an extended value to IEEE single; result bits in `rlo`. Returns whether to store. */
  storeF32(sx: number, hi: number, lo: number): boolean {
    const cls = classify(sx, hi, lo);
    const s = (sx & 0x8000) << 16;
    switch (cls) {
      case CLS_ZERO:
        this.rlo = s >>> 0;
        return true;
      case CLS_INF:
        this.rlo = (s | 0x7f800000) >>> 0;
        return true;
      case CLS_UNSUPPORTED:
        this.exc |= IE;
        this.rlo = 0xffc00000;
        return this.masked(IE);
      case CLS_SNAN:
      case CLS_QNAN:
        if (cls === CLS_SNAN) {
          this.exc |= IE;
          if (!this.masked(IE)) return false;
        }
        this.rlo = (s | 0x7fc00000 | ((hi >>> 8) & 0x3fffff)) >>> 0;
        return true;
    }
    const e = sx & 0x7fff;
    const E = e - EXP_BIAS + 127;
    if (cls === CLS_NORMAL && E >= 1 && E <= 254) {
      // Fast path: normal result before rounding, no bigint.
      const kept = hi >>> 8;
      const r = hi & 0xff;
      const inexact = (r | lo) !== 0;
      let inc = false;
      if (inexact) {
        const rc = this.rc();
        if (rc === RC_NEAREST) inc = r > 0x80 || (r === 0x80 && (lo !== 0 || (kept & 1) === 1));
        else if (rc === RC_DOWN) inc = s !== 0;
        else if (rc === RC_UP) inc = s === 0;
      }
      let k = inc ? kept + 1 : kept;
      let ex = E;
      if (k === 0x1000000) {
        k = 0x800000;
        ex++;
      }
      if (ex <= 254) {
        if (inexact) {
          this.exc |= PE;
          this.c1 = inc ? 1 : 0;
        }
        this.rlo = (s | (ex << 23) | (k & 0x7fffff)) >>> 0;
        return true;
      }
    }
    if (!this.roundTo(s >>> 31, significandOf(hi, lo), Math.max(e, 1) - SIG_BIAS, false, 24, 127, 254, 0)) return false;
    this.rlo = (s | (this.gExp << 23) | (Number(this.gSig) & 0x7fffff)) >>> 0;
    return true;
  }

  /** Rounds an extended value to IEEE double; result words in `rlo` (low) and `rhi` (high). */
  storeF64(sx: number, hi: number, lo: number): boolean {
    const cls = classify(sx, hi, lo);
    const s = (sx & 0x8000) << 16;
    switch (cls) {
      case CLS_ZERO:
        this.rhi = s >>> 0;
        this.rlo = 0;
        return true;
      case CLS_INF:
        this.rhi = (s | 0x7ff00000) >>> 0;
        this.rlo = 0;
        return true;
      case CLS_UNSUPPORTED:
        this.exc |= IE;
        this.rhi = 0xfff80000;
        this.rlo = 0;
        return this.masked(IE);
      case CLS_SNAN:
      case CLS_QNAN:
        if (cls === CLS_SNAN) {
          this.exc |= IE;
          if (!this.masked(IE)) return false;
        }
        this.rhi = (s | 0x7ff80000 | ((hi >>> 11) & 0x7ffff)) >>> 0;
        this.rlo = ((hi << 21) | (lo >>> 11)) >>> 0;
        return true;
    }
    const e = sx & 0x7fff;
    const E = e - EXP_BIAS + 1023;
    if (cls === CLS_NORMAL && E >= 1 && E <= 2046) {
      let khi = (hi >>> 11) & 0xfffff; // without J
      let klo = ((hi << 21) | (lo >>> 11)) >>> 0;
      const r = lo & 0x7ff;
      const inexact = r !== 0;
      let inc = false;
      if (inexact) {
        const rc = this.rc();
        if (rc === RC_NEAREST) inc = r > 0x400 || (r === 0x400 && (klo & 1) === 1);
        else if (rc === RC_DOWN) inc = s !== 0;
        else if (rc === RC_UP) inc = s === 0;
      }
      let ex = E;
      if (inc) {
        klo = (klo + 1) >>> 0;
        if (klo === 0) {
          khi++;
          if (khi === 0x100000) {
            khi = 0;
            ex++;
          }
        }
      }
      if (ex <= 2046) {
        if (inexact) {
          this.exc |= PE;
          this.c1 = inc ? 1 : 0;
        }
        this.rhi = (s | (ex << 20) | khi) >>> 0;
        this.rlo = klo;
        return true;
      }
    }
    if (!this.roundTo(s >>> 31, significandOf(hi, lo), Math.max(e, 1) - SIG_BIAS, false, 53, 1023, 2046, 0)) return false;
    const m = this.gSig & 0xfffffffffffffn;
    this.rhi = (s | (this.gExp << 20) | Number(m >> 32n)) >>> 0;
    this.rlo = Number(m & 0xffffffffn);
    return true;
  }

  /**
   * Rounds an extended value to a signed integer of `bits` (16, 32, 64) with RC; result halves in
   * rlo/rhi (two's complement). Out of range, NaN, infinity -> IE with the integer indefinite.
   */
  storeInt(sx: number, hi: number, lo: number, bits: number): boolean {
    const cls = classify(sx, hi, lo);
    const sign = sx >>> 15;
    if (cls === CLS_ZERO) {
      this.rlo = 0;
      this.rhi = 0;
      return true;
    }
    if (cls !== CLS_NORMAL && cls !== CLS_DENORMAL) return this.intIndefinite(bits);
    const e = sx & 0x7fff;
    let mag: bigint;
    if (e >= EXP_BIAS + 63) {
      if (e > EXP_BIAS + 63) return this.intIndefinite(bits);
      mag = significandOf(hi, lo);
      this.inexact = false;
      this.roundedUp = false;
    } else {
      mag = this.roundBits(significandOf(hi, lo), SIG_BIAS - Math.max(e, 1), false, sign, this.rc());
    }
    const limit = 1n << BigInt(bits - 1);
    if (sign === 0 ? mag >= limit : mag > limit) return this.intIndefinite(bits);
    if (this.inexact) {
      this.exc |= PE;
      this.c1 = this.roundedUp ? 1 : 0;
    }
    const v = BigInt.asUintN(64, sign === 0 ? mag : -mag);
    this.rlo = Number(v & 0xffffffffn);
    this.rhi = Number(v >> 32n);
    return true;
  }

  private intIndefinite(bits: number): boolean {
    this.exc |= IE;
    this.rlo = bits === 16 ? 0x8000 : bits === 32 ? 0x80000000 : 0;
    this.rhi = bits === 64 ? 0x80000000 : 0;
    return this.masked(IE);
  }

  /**
   * Rounds an extended value to an integer per RC (FRNDINT, FBSTP); the magnitude is left in
   * `gSig`, result as extended in r*. Only finite inputs.
   */
  roundToInteger(sx: number, hi: number, lo: number): void {
    const e = sx & 0x7fff;
    const sign = sx >>> 15;
    if (e >= EXP_BIAS + 63) {
      this.setResult(sx, hi, lo);
      this.gSig = significandOf(hi, lo) << BigInt(e - EXP_BIAS - 63);
      return;
    }
    const mag = this.roundBits(significandOf(hi, lo), SIG_BIAS - Math.max(e, 1), false, sign, this.rc());
    if (this.inexact) {
      this.exc |= PE;
      this.c1 = this.roundedUp ? 1 : 0;
    }
    this.gSig = mag;
    if (mag === 0n) {
      this.setResult(sign << 15, 0, 0);
      return;
    }
    const n = bitLength(mag);
    const s = mag << BigInt(64 - n);
    this.setResult((sign << 15) | (EXP_BIAS + n - 1), Number(s >> 32n), Number(s & 0xffffffffn));
  }

  // ---------------------------------------------------------------- arithmetic

  /** a + b (or a - b when negB). */
  add(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number, negB: boolean): boolean {
    const ca = classify(asx, ahi, alo);
    const cb = classify(bsx, bhi, blo);
    if (ca >= CLS_QNAN || cb >= CLS_QNAN) return this.nan2(asx, ahi, alo, ca, bsx, bhi, blo, cb);
    if (negB) bsx ^= 0x8000;
    if (ca === CLS_INF && cb === CLS_INF && ((asx ^ bsx) & 0x8000) !== 0) return this.invalid();
    if ((ca === CLS_DENORMAL || cb === CLS_DENORMAL || this.srcDenormal) && !this.denormal()) return false;
    if (ca === CLS_INF) {
      this.setResult(asx, ahi, alo);
      return true;
    }
    if (cb === CLS_INF) {
      this.setResult(bsx, bhi, blo);
      return true;
    }
    const sa = asx >>> 15;
    const sb = bsx >>> 15;
    const ea = Math.max(asx & 0x7fff, 1);
    const eb = Math.max(bsx & 0x7fff, 1);
    const p = this.precision();
    if (ca === CLS_NORMAL && cb === CLS_NORMAL && this.addFast(asx, ahi, alo, bsx, bhi, blo, p)) return true;
    let A = significandOf(ahi, alo);
    let B = significandOf(bhi, blo);
    let e: number;
    const d = ea - eb;
    if (d >= 0) {
      if (d > 70) {
        A <<= 70n;
        B = B === 0n ? 0n : 1n;
        e = ea - 70;
      } else {
        A <<= BigInt(d);
        e = eb;
      }
    } else if (-d > 70) {
      B <<= 70n;
      A = A === 0n ? 0n : 1n;
      e = eb - 70;
    } else {
      B <<= BigInt(-d);
      e = ea;
    }
    let sum = (sa ? -A : A) + (sb ? -B : B);
    if (sum === 0n) {
      const zs = sa === sb ? sa : this.rc() === RC_DOWN ? 1 : 0;
      this.setResult(zs << 15, 0, 0);
      return true;
    }
    let sign = 0;
    if (sum < 0n) {
      sign = 1;
      sum = -sum;
    }
    return this.roundExt(sign, sum, e - SIG_BIAS, false, p);
  }

  /** Exact float64 addition when both operands are float64-representable and no rounding occurs. */
  private addFast(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number, p: number): boolean {
    if (p === 24 || (alo & 0x7ff) !== 0 || (blo & 0x7ff) !== 0) return false;
    const ea = asx & 0x7fff;
    const eb = bsx & 0x7fff;
    if (ea < EXP_BIAS - 900 || ea > EXP_BIAS + 900 || eb < EXP_BIAS - 900 || eb > EXP_BIAS + 900) return false;
    const a = X87Math.toNumber(asx, ahi, alo);
    const b = X87Math.toNumber(bsx, bhi, blo);
    const s = a + b;
    if (s === 0) return false;
    const bb = s - a;
    if (a - (s - bb) + (b - bb) !== 0) return false;
    this.setNumber(s);
    return true;
  }

  mul(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number): boolean {
    const ca = classify(asx, ahi, alo);
    const cb = classify(bsx, bhi, blo);
    if (ca >= CLS_QNAN || cb >= CLS_QNAN) return this.nan2(asx, ahi, alo, ca, bsx, bhi, blo, cb);
    if ((ca === CLS_INF && cb === CLS_ZERO) || (ca === CLS_ZERO && cb === CLS_INF)) return this.invalid();
    if ((ca === CLS_DENORMAL || cb === CLS_DENORMAL || this.srcDenormal) && !this.denormal()) return false;
    const sign = (asx ^ bsx) >>> 15;
    if (ca === CLS_INF || cb === CLS_INF) {
      this.setResult((sign << 15) | 0x7fff, 0x80000000, 0);
      return true;
    }
    if (ca === CLS_ZERO || cb === CLS_ZERO) {
      this.setResult(sign << 15, 0, 0);
      return true;
    }
    const p = this.precision();
    if (ca === CLS_NORMAL && cb === CLS_NORMAL && p !== 24 && (alo & 0x7ff) === 0 && (blo & 0x7ff) === 0) {
      if (this.mulFast(asx, ahi, alo, bsx, bhi, blo)) return true;
    }
    const ea = Math.max(asx & 0x7fff, 1);
    const eb = Math.max(bsx & 0x7fff, 1);
    return this.roundExt(sign, significandOf(ahi, alo) * significandOf(bhi, blo), ea + eb - 2 * SIG_BIAS, false, p);
  }

  private mulFast(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number): boolean {
    const ea = asx & 0x7fff;
    const eb = bsx & 0x7fff;
    if (ea < EXP_BIAS - 450 || ea > EXP_BIAS + 450 || eb < EXP_BIAS - 450 || eb > EXP_BIAS + 450) return false;
    const a = X87Math.toNumber(asx, ahi, alo);
    const b = X87Math.toNumber(bsx, bhi, blo);
    const prod = a * b;
    if (twoProductError(a, b, prod) !== 0) return false;
    this.setNumber(prod);
    return true;
  }

  div(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number): boolean {
    const ca = classify(asx, ahi, alo);
    const cb = classify(bsx, bhi, blo);
    if (ca >= CLS_QNAN || cb >= CLS_QNAN) return this.nan2(asx, ahi, alo, ca, bsx, bhi, blo, cb);
    if ((ca === CLS_INF && cb === CLS_INF) || (ca === CLS_ZERO && cb === CLS_ZERO)) return this.invalid();
    const sign = (asx ^ bsx) >>> 15;
    if (cb === CLS_ZERO && ca !== CLS_INF) {
      // Zero divide takes precedence over a denormal dividend.
      this.exc |= ZE;
      if (!this.masked(ZE)) return false;
      this.setResult((sign << 15) | 0x7fff, 0x80000000, 0);
      return true;
    }
    if ((ca === CLS_DENORMAL || cb === CLS_DENORMAL || this.srcDenormal) && !this.denormal()) return false;
    if (ca === CLS_INF) {
      this.setResult((sign << 15) | 0x7fff, 0x80000000, 0);
      return true;
    }
    if (cb === CLS_INF || ca === CLS_ZERO) {
      this.setResult(sign << 15, 0, 0);
      return true;
    }
    const p = this.precision();
    const ea = Math.max(asx & 0x7fff, 1);
    const eb = Math.max(bsx & 0x7fff, 1);
    const num = significandOf(ahi, alo) << 130n;
    const den = significandOf(bhi, blo);
    const q = num / den;
    const sticky = q * den !== num;
    return this.roundExt(sign, q, ea - eb - 130, sticky, p);
  }

  sqrt(sx: number, hi: number, lo: number): boolean {
    const c = classify(sx, hi, lo);
    if (c >= CLS_QNAN) return this.nan1(sx, hi, lo, c);
    if (c === CLS_ZERO) {
      this.setResult(sx, 0, 0);
      return true;
    }
    if ((sx & 0x8000) !== 0) return this.invalid();
    if ((c === CLS_DENORMAL || this.srcDenormal) && !this.denormal()) return false;
    if (c === CLS_INF) {
      this.setResult(sx, hi, lo);
      return true;
    }
    let sig = significandOf(hi, lo);
    let e = Math.max(sx & 0x7fff, 1) - SIG_BIAS;
    if ((e & 1) !== 0) {
      sig <<= 1n;
      e -= 1;
    }
    const n = sig << 140n;
    const r = isqrt(n);
    return this.roundExt(0, r, (e - 140) / 2, r * r !== n, this.precision());
  }

  /**
   * Compares a with b. Returns 0 (a > b), 1 (a < b), 2 (equal), 3 (unordered). `quiet` (FUCOM*)
   * only signals IE for SNaN/unsupported operands; otherwise any NaN signals IE.
   */
  compare(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number, quiet: boolean): number {
    const ca = classify(asx, ahi, alo);
    const cb = classify(bsx, bhi, blo);
    if (ca >= CLS_QNAN || cb >= CLS_QNAN) {
      if (!quiet || ca !== CLS_QNAN && ca >= CLS_QNAN || cb !== CLS_QNAN && cb >= CLS_QNAN) {
        this.exc |= IE;
      }
      return 3;
    }
    // An unmasked denormal exception still produces the comparison result.
    if (ca === CLS_DENORMAL || cb === CLS_DENORMAL || this.srcDenormal) this.exc |= DE;
    const za = ca === CLS_ZERO;
    const zb = cb === CLS_ZERO;
    if (za && zb) return 2;
    if (za) return bsx >>> 15 ? 0 : 1;
    if (zb) return asx >>> 15 ? 1 : 0;
    const sa = asx >>> 15;
    const sb = bsx >>> 15;
    if (sa !== sb) return sa ? 1 : 0;
    const mag = compareMagnitude(asx, ahi, alo, ca, bsx, bhi, blo, cb);
    if (mag === 0) return 2;
    return (mag > 0) !== (sa === 1) ? 0 : 1;
  }
}

function compareMagnitude(asx: number, ahi: number, alo: number, ca: number, bsx: number, bhi: number, blo: number, cb: number): number {
  if (ca === CLS_INF || cb === CLS_INF) return ca === cb ? 0 : ca === CLS_INF ? 1 : -1;
  const ea = Math.max(asx & 0x7fff, 1);
  const eb = Math.max(bsx & 0x7fff, 1);
  // Denormals (J = 0) share exponent 1 with pseudo-denormals and the smallest normals.
  if (ea !== eb) return ea > eb ? 1 : -1;
  if (ahi !== bhi) return ahi > bhi ? 1 : -1;
  if (alo !== blo) return alo > blo ? 1 : -1;
  return 0;
}

/** Integer square root (floor) of a non-negative bigint. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

const SPLIT = 134217729; // 2^27 + 1

/** Exact error of a float64 product (Dekker), valid when no intermediate over/underflows. */
function twoProductError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

