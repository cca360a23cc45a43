import {
  CLS_DENORMAL, CLS_INF, CLS_NORMAL, CLS_QNAN, CLS_SNAN, CLS_UNSUPPORTED, CLS_ZERO, DE, EXP_BIAS, IE,
  OE, PE, SIG_BIAS, UE, ZE, bitLength, classify,
} from './float80.js';
import { divide64, mul64, normalizeInto, normalized, sqrt64, wide } from './significand-kernels.js';
import { divDoubles, doubleOperand, doubleStatus, sqrtDouble } from './x87-double-path.js';

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
 * Significands are handled as 32-bit words by the fixed-width kernels of significand-kernels.ts;
 * nothing on these paths allocates. At double precision control with round-to-nearest, FDIV and
 * FSQRT of double operands use float64 arithmetic with an exact residual (see x87-double-path.ts).
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
  /** Outputs of roundPack(): biased exponent and significand (integer bit at bit 63). */
  gExp = 0;
  gHi = 0;
  gLo = 0;
  private keptHi = 0;
  private keptLo = 0;
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

  /**
   * Drops the low `drop` bits of the 64-bit significand h:l, with x as 32 further bits below it
   * (x bit 0 may be a jammed sticky bit), rounding per RC. Writes keptHi:keptLo (keptHi may reach
   * 2^32 when a 64-bit significand rounds up), `inexact` and `roundedUp`.
   */
  private roundAt(h: number, l: number, x: number, drop: number, sign: number, rc: number): void {
    h >>>= 0;
    l >>>= 0;
    x >>>= 0;
    let kh: number;
    let kl: number;
    let half: number;
    let sticky: number;
    if (drop === 0) {
      kh = h;
      kl = l;
      half = x >>> 31;
      sticky = x & 0x7fffffff;
    } else if (drop < 32) {
      kh = h >>> drop;
      kl = ((l >>> drop) | (h << (32 - drop))) >>> 0;
      half = (l >>> (drop - 1)) & 1;
      sticky = (l & ((1 << (drop - 1)) - 1)) | x;
    } else if (drop === 32) {
      kh = 0;
      kl = h;
      half = l >>> 31;
      sticky = (l & 0x7fffffff) | x;
    } else if (drop < 64) {
      const s = drop - 32;
      kh = 0;
      kl = h >>> s;
      half = (h >>> (s - 1)) & 1;
      sticky = (h & ((1 << (s - 1)) - 1)) | l | x;
    } else if (drop === 64) {
      kh = 0;
      kl = 0;
      half = h >>> 31;
      sticky = (h & 0x7fffffff) | l | x;
    } else {
      kh = 0;
      kl = 0;
      half = 0;
      sticky = h | l | x;
    }
    const inexact = (half | sticky) !== 0;
    let inc: boolean;
    if (rc === RC_NEAREST) inc = half !== 0 && (sticky !== 0 || (kl & 1) !== 0);
    else if (rc === RC_DOWN) inc = inexact && sign !== 0;
    else if (rc === RC_UP) inc = inexact && sign === 0;
    else inc = false;
    if (inc) {
      kl += 1;
      if (kl > 0xffffffff) {
        kl = 0;
        kh += 1;
      }
    }
    this.keptHi = kh;
    this.keptLo = kl;
    this.inexact = inexact;
    this.roundedUp = inc;
  }

  /** The kept value of roundAt() reached 2^p (a carry out of the p-bit significand). */
  private keptCarried(p: number): boolean {
    if (p === 64) return this.keptHi > 0xffffffff;
    if (p === 53) return this.keptHi >= 0x200000;
    return this.keptHi !== 0 || this.keptLo >= 0x1000000;
  }

  /** gHi:gLo = kept << shift (the kept value fits in 64 - shift bits). */
  private placeKept(shift: number): void {
    const kh = this.keptHi;
    const kl = this.keptLo;
    if (shift === 0) {
      this.gHi = kh;
      this.gLo = kl;
    } else if (shift < 32) {
      this.gHi = ((kh << shift) | (kl >>> (32 - shift))) >>> 0;
      this.gLo = (kl << shift) >>> 0;
    } else {
      this.gHi = (kl << (shift - 32)) >>> 0;
      this.gLo = 0;
    }
  }

  /**
   * Rounds sign * (h:l + x / 2^32) / 2^63 * 2^(E - bias), h:l normalized (bit 63 set), to a
   * p-bit significand in a format with the given exponent bias and largest normal biased exponent
   * emax. `wrap` is the bias adjustment for unmasked overflow/underflow (register destinations) or
   * 0 (memory destination: nothing is stored). Writes gExp (biased; 0 = denormal/zero, emax+1 =
   * infinity) and the significand gHi:gLo with its integer bit at bit 63 (the position it has at
   * exponent 1 for denormals); returns whether to store.
   */
  roundPack(sign: number, E: number, h: number, l: number, x: number, p: number, bias: number, emax: number, wrap: number): boolean {
    h >>>= 0;
    l >>>= 0;
    x >>>= 0;
    const rc = this.rc();
    const drop = 64 - p;
    if (E < 1 && this.masked(UE)) {
      // The x87 detects tininess after rounding: a value that rounds (with unbounded exponent)
      // up to the smallest normal does not underflow.
      let tinyAfter = true;
      if (E === 0) {
        this.roundAt(h | 0, l | 0, x | 0, drop, sign, rc);
        tinyAfter = !this.keptCarried(p);
      }
      this.roundAt(h | 0, l | 0, x | 0, drop + 1 - E, sign, rc);
      this.placeKept(drop);
      this.gExp = this.gHi >>> 31;
      if (this.inexact) {
        this.exc |= (tinyAfter ? UE : 0) | PE;
        this.c1 = this.roundedUp ? 1 : 0;
      }
      return true;
    }
    const excBefore = this.exc;
    this.roundAt(h | 0, l | 0, x | 0, drop, sign, rc);
    if (this.keptCarried(p)) {
      this.gHi = 0x80000000;
      this.gLo = 0;
      E += 1;
    } else this.placeKept(drop);
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
          this.gHi = 0x80000000;
          this.gLo = 0;
          this.c1 = 1;
        } else {
          this.gExp = emax;
          this.gHi = 0xffffffff;
          this.gLo = p === 64 ? 0xffffffff : p === 53 ? 0xfffff800 : 0;
          if (p === 24) this.gHi = 0xffffff00;
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
        this.gHi = 0x80000000;
        this.gLo = 0;
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
        this.gHi = 0;
        this.gLo = 0;
        return true;
      }
    }
    this.gExp = E;
    return true;
  }

  /**
   * Rounds sign * (h:l + x / 2^32) * 2^(scale - SIG_BIAS) (nonzero, any normalization; x bit 0
   * may be a jammed sticky bit only if h:l has its top bit within one place of bit 63) to the
   * extended register format at precision p and writes the result.
   */
  roundSig(sign: number, h: number, l: number, x: number, scale: number, p: number): boolean {
    h >>>= 0;
    l >>>= 0;
    x >>>= 0;
    if (h === 0) {
      if (l === 0) {
        h = x;
        l = 0;
        x = 0;
        scale -= 64;
      } else {
        h = l;
        l = x;
        x = 0;
        scale -= 32;
      }
    }
    const lz = Math.clz32(h);
    if (lz !== 0) {
      h = ((h << lz) | (l >>> (32 - lz))) >>> 0;
      l = ((l << lz) | (x >>> (32 - lz))) >>> 0;
      x = (x << lz) >>> 0;
      scale -= lz;
    }
    if (!this.roundPack(sign, scale, h | 0, l | 0, x | 0, p, EXP_BIAS, 0x7ffe, WRAP)) return false;
    this.setResult((sign << 15) | (this.gExp & 0x7fff), this.gHi, this.gLo);
    return true;
  }

  /**
   * Rounds sign * (wide + sticky) * 2^(scale - SIG_BIAS - 64) (the 128-bit scratch of the
   * significand kernels, nonzero) to the extended register format at precision p.
   */
  roundWide(sign: number, scale: number, sticky: boolean, p: number): boolean {
    let h = wide[3]!;
    let l = wide[2]!;
    let x = wide[1]!;
    let y = wide[0]!;
    while (h === 0) {
      h = l;
      l = x;
      x = y;
      y = 0;
      scale -= 32;
    }
    const lz = Math.clz32(h);
    if (lz !== 0) {
      h = ((h << lz) | (l >>> (32 - lz))) >>> 0;
      l = ((l << lz) | (x >>> (32 - lz))) >>> 0;
      x = ((x << lz) | (y >>> (32 - lz))) >>> 0;
      y = (y << lz) >>> 0;
      scale -= lz;
    }
    if (y !== 0 || sticky) x = (x | 1) >>> 0;
    if (!this.roundPack(sign, scale, h | 0, l | 0, x | 0, p, EXP_BIAS, 0x7ffe, WRAP)) return false;
    this.setResult((sign << 15) | (this.gExp & 0x7fff), this.gHi, this.gLo);
    return true;
  }

  /**
   * Rounds sign * (sig + sticky) * 2^e for an arbitrary nonzero bigint significand (rare paths:
   * transcendental kernels) to the extended register format at precision p.
   */
  roundBig(sign: number, sig: bigint, e: number, sticky: boolean, p: number): boolean {
    const n = bitLength(sig);
    let top: bigint;
    if (n > 96) {
      const cut = BigInt(n - 96);
      top = sig >> cut;
      sticky ||= (sig & ((1n << cut) - 1n)) !== 0n;
    } else top = sig << BigInt(96 - n);
    e += n - 96;
    const x = Number(top & 0xffffffffn) | (sticky ? 1 : 0);
    return this.roundSig(sign, Number(top >> 64n), Number((top >> 32n) & 0xffffffffn), x >>> 0, e + 32 + SIG_BIAS, p);
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
      // Normal result before rounding: round in place.
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
    if (!this.roundToMemory(s >>> 31, e, hi, lo, 24, 127, 254)) return false;
    this.rlo = (s | (this.gExp << 23) | ((this.gHi >>> 8) & 0x7fffff)) >>> 0;
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
    if (!this.roundToMemory(s >>> 31, e, hi, lo, 53, 1023, 2046)) return false;
    this.rhi = (s | (this.gExp << 20) | ((this.gHi >>> 11) & 0xfffff)) >>> 0;
    this.rlo = ((this.gHi << 21) | (this.gLo >>> 11)) >>> 0;
    return true;
  }

  /**
   * Normalizes a finite nonzero extended value (biased exponent e) and rounds it to a memory
   * format with p-bit significands (gExp/gHi/gLo; nothing to store on unmasked OE/UE).
   */
  private roundToMemory(sign: number, e: number, hi: number, lo: number, p: number, bias: number, emax: number): boolean {
    const E = normalizeInto(e, hi, lo, 0) - EXP_BIAS + bias;
    return this.roundPack(sign, E, normalized[0]! | 0, normalized[1]! | 0, 0, p, bias, emax, 0);
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
    let mh: number;
    let ml: number;
    if (e >= EXP_BIAS + 63) {
      if (e > EXP_BIAS + 63) return this.intIndefinite(bits);
      mh = hi;
      ml = lo;
      this.inexact = false;
      this.roundedUp = false;
    } else {
      // At most 2^63 after rounding: fits the two words.
      this.roundAt(hi, lo, 0, SIG_BIAS - Math.max(e, 1), sign, this.rc());
      mh = this.keptHi;
      ml = this.keptLo;
    }
    // |value| must be below 2^(bits-1), or equal to it when negative.
    const limitHi = bits === 64 ? 0x80000000 : 0;
    const limitLo = bits === 64 ? 0 : 2 ** (bits - 1);
    const cmp = mh !== limitHi ? (mh > limitHi ? 1 : -1) : ml === limitLo ? 0 : ml > limitLo ? 1 : -1;
    if (sign === 0 ? cmp >= 0 : cmp > 0) return this.intIndefinite(bits);
    if (this.inexact) {
      this.exc |= PE;
      this.c1 = this.roundedUp ? 1 : 0;
    }
    if (sign !== 0) {
      // Two's complement negation of mh:ml.
      if (ml !== 0) {
        ml = -ml >>> 0;
        mh = ~mh >>> 0;
      } else mh = -mh >>> 0;
    }
    this.rlo = ml;
    this.rhi = mh;
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
   * gHi:gLo when it fits 64 bits (exponent <= 63), result as extended in r*. Only finite inputs.
   */
  roundToInteger(sx: number, hi: number, lo: number): void {
    const e = sx & 0x7fff;
    const sign = sx >>> 15;
    if (e >= EXP_BIAS + 63) {
      this.setResult(sx, hi, lo);
      this.gHi = hi;
      this.gLo = lo;
      return;
    }
    this.roundAt(hi, lo, 0, SIG_BIAS - Math.max(e, 1), sign, this.rc());
    if (this.inexact) {
      this.exc |= PE;
      this.c1 = this.roundedUp ? 1 : 0;
    }
    let mh = this.keptHi;
    let ml = this.keptLo;
    this.gHi = mh;
    this.gLo = ml;
    if ((mh | ml) === 0) {
      this.setResult(sign << 15, 0, 0);
      return;
    }
    let n = 63;
    if (mh === 0) {
      mh = ml;
      ml = 0;
      n -= 32;
    }
    const lz = Math.clz32(mh);
    if (lz !== 0) {
      mh = ((mh << lz) | (ml >>> (32 - lz))) >>> 0;
      ml = (ml << lz) >>> 0;
    }
    this.setResult((sign << 15) | (EXP_BIAS + n - lz), mh, ml);
  }

  // ---------------------------------------------------------------- arithmetic

  /** a + b (or a - b when negB). */
  add(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number, negB: boolean): boolean {
    ahi >>>= 0;
    alo >>>= 0;
    bhi >>>= 0;
    blo >>>= 0;
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
    const p = this.precision();
    return this.addSignificands(asx, ahi | 0, alo | 0, bsx, bhi | 0, blo | 0, p);
  }

  /** Exact a + b of finite values (b's sign already final), rounded to precision p. */
  private addSignificands(asx: number, ah: number, al: number, bsx: number, bh: number, bl: number, p: number): boolean {
    ah >>>= 0;
    al >>>= 0;
    bh >>>= 0;
    bl >>>= 0;
    let sa = asx >>> 15;
    let sb = bsx >>> 15;
    let ea = Math.max(asx & 0x7fff, 1);
    let eb = Math.max(bsx & 0x7fff, 1);
    if (eb > ea) {
      let t = ea;
      ea = eb;
      eb = t;
      t = sa;
      sa = sb;
      sb = t;
      t = ah;
      ah = bh;
      bh = t;
      t = al;
      al = bl;
      bl = t;
    }
    // B aligned to A's exponent as bh:bl:bx. Bits shifted out below bx are jammed into its bit 0;
    // that happens only when d > 32, where the result needs at most one normalizing shift, so
    // the jammed bit stays far below the rounding position.
    const d = ea - eb;
    let bx = 0;
    if (d !== 0) {
      if (d < 32) {
        bx = (bl << (32 - d)) >>> 0;
        bl = ((bl >>> d) | (bh << (32 - d))) >>> 0;
        bh >>>= d;
      } else if (d === 32) {
        bx = bl;
        bl = bh;
        bh = 0;
      } else if (d < 64) {
        const s = d - 32;
        bx = ((bl >>> s) | (bh << (32 - s)) | ((bl << (32 - s)) !== 0 ? 1 : 0)) >>> 0;
        bl = bh >>> s;
        bh = 0;
      } else {
        if (d === 64) bx = (bh | (bl !== 0 ? 1 : 0)) >>> 0;
        else if (d < 96) bx = (bh >>> (d - 64)) | (((bh << (96 - d)) | bl) !== 0 ? 1 : 0);
        else bx = (bh | bl) !== 0 ? 1 : 0;
        bl = 0;
        bh = 0;
      }
    }
    let h: number;
    let l: number;
    let x: number;
    let sign = sa;
    if (sa === sb) {
      x = bx;
      let t = al + bl;
      l = t >>> 0;
      t = ah + bh + (t > 0xffffffff ? 1 : 0);
      h = t >>> 0;
      if (t > 0xffffffff) {
        x = ((x >>> 1) | (l << 31) | (x & 1)) >>> 0;
        l = ((l >>> 1) | (h << 31)) >>> 0;
        h = ((h >>> 1) | 0x80000000) >>> 0;
        ea += 1;
      } else if ((h | l | x) === 0) {
        this.setResult(sign << 15, 0, 0);
        return true;
      }
    } else {
      x = -bx >>> 0;
      let t = al - bl - (bx !== 0 ? 1 : 0);
      l = t >>> 0;
      t = ah - bh - (t < 0 ? 1 : 0);
      h = t >>> 0;
      if (t < 0) {
        // |B| > |A| (only possible with equal exponents): negate the 96-bit difference.
        sign = sb;
        if (x !== 0) {
          x = -x >>> 0;
          l = ~l >>> 0;
          h = ~h >>> 0;
        } else if (l !== 0) {
          l = -l >>> 0;
          h = ~h >>> 0;
        } else h = -h >>> 0;
      } else if ((h | l | x) === 0) {
        this.setResult(this.rc() === RC_DOWN ? 0x8000 : 0, 0, 0);
        return true;
      }
    }
    return this.roundSig(sign, h | 0, l | 0, x | 0, ea, p);
  }

  /** Writes a float64 shortcut result (NaN: the shortcut did not apply) with its PE and C1. */
  private takeDouble(r: number): boolean {
    if (r !== r) return false;
    this.setNumber(r);
    if (doubleStatus.inexact) {
      this.exc |= PE;
      this.c1 = doubleStatus.roundedUp ? 1 : 0;
    }
    return true;
  }

  mul(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number): boolean {
    ahi >>>= 0;
    alo >>>= 0;
    bhi >>>= 0;
    blo >>>= 0;
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
    mul64(ahi, alo, bhi, blo);
    return this.roundWide(sign, Math.max(asx & 0x7fff, 1) + Math.max(bsx & 0x7fff, 1) - SIG_BIAS + 64, false, p);
  }

  div(asx: number, ahi: number, alo: number, bsx: number, bhi: number, blo: number): boolean {
    ahi >>>= 0;
    alo >>>= 0;
    bhi >>>= 0;
    blo >>>= 0;
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
    if (p === 53 && ca === CLS_NORMAL && cb === CLS_NORMAL && this.rc() === RC_NEAREST) {
      const a = doubleOperand(asx, ahi, alo, 400);
      const b = doubleOperand(bsx, bhi, blo, 400);
      if (a === a && b === b && this.takeDouble(divDoubles(a, b))) return true;
    }
    const ea = normalizeInto(asx, ahi, alo, 0);
    const eb = normalizeInto(bsx, bhi, blo, 2);
    const sticky = divide64(normalized[0]!, normalized[1]!, normalized[2]!, normalized[3]!);
    return this.roundWide(sign, ea - eb - 32 + SIG_BIAS, sticky, p);
  }

  sqrt(sx: number, hi: number, lo: number): boolean {
    hi >>>= 0;
    lo >>>= 0;
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
    const p = this.precision();
    if (p === 53 && c === CLS_NORMAL && this.rc() === RC_NEAREST) {
      const a = doubleOperand(sx, hi, lo, 800);
      if (a === a && this.takeDouble(sqrtDouble(a))) return true;
    }
    // value = S * 2^u = M * 2^(2k) with M = S * 2^t, t = 63 or 64 so that u - t is even.
    const u = normalizeInto(sx, hi, lo, 0) - SIG_BIAS;
    const half = (u & 1) !== 0;
    sqrt64(normalized[0]!, normalized[1]!, half);
    return this.roundWide(0, (u - (half ? 63 : 64)) / 2 + SIG_BIAS, false, p);
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
