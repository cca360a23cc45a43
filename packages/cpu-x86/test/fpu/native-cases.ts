/**
 * Differential-test case generation and the software side of the native harness protocol
 * (see x87-harness.c): the same instruction sequence run through {@link Fpu}.
 */
import { Fpu } from '../../src/fpu/fpu.js';
import { FakeHost } from './fake-host.js';

export type MemoryKind = 'none' | 'm32' | 'm64' | 'm80' | 'i16' | 'i32' | 'i64' | 'bcd' | 'cw' | 'env' | 'save' | 'random';

export interface OpSpec {
  readonly name: string;
  readonly esc: number;
  readonly modrm: number;
  readonly mem: MemoryKind;
  /** Pushes a value (depth 8 then exercises stack overflow). */
  readonly pushes?: boolean;
  /** Writes FPU pointers into memory (mask them in comparison). */
  readonly storesEnv?: boolean;
}

const regOps = (esc: number, list: [string, number][]): OpSpec[] => list.map(([name, modrm]) => ({ name, esc, modrm, mem: 'none' }));
const memOps = (esc: number, names: string[], mem: MemoryKind): OpSpec[] =>
  names.map((name, reg) => ({ name, esc, modrm: (reg << 3) | 5, mem })).filter((o) => o.name !== '');

const ARITH = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];

/** The instruction set covered by the bit-exact comparison (transcendentals are excluded). */
export const OPS: readonly OpSpec[] = [
  ...regOps(0xd8, [['fadd st,st1', 0xc1], ['fmul st,st1', 0xc9], ['fcom st1', 0xd1], ['fcomp st1', 0xd9], ['fsub st,st1', 0xe1], ['fsubr st,st1', 0xe9], ['fdiv st,st1', 0xf1], ['fdivr st,st1', 0xf9]]),
  ...regOps(0xdc, [['fadd st1,st', 0xc1], ['fmul st1,st', 0xc9], ['fsubr st1,st', 0xe1], ['fsub st1,st', 0xe9], ['fdivr st1,st', 0xf1], ['fdiv st1,st', 0xf9]]),
  ...regOps(0xde, [['faddp', 0xc1], ['fmulp', 0xc9], ['fcompp', 0xd9], ['fsubrp', 0xe1], ['fsubp', 0xe9], ['fdivrp', 0xf1], ['fdivp', 0xf9]]),
  ...regOps(0xdd, [['ffree st1', 0xc1], ['fst st1', 0xd1], ['fstp st1', 0xd9], ['fucom st1', 0xe1], ['fucomp st1', 0xe9]]),
  ...regOps(0xda, [['fcmovb', 0xc1], ['fcmove', 0xc9], ['fcmovbe', 0xd1], ['fcmovu', 0xd9], ['fucompp', 0xe9]]),
  ...regOps(0xdb, [['fcmovnb', 0xc1], ['fcmovne', 0xc9], ['fcmovnbe', 0xd1], ['fcmovnu', 0xd9], ['fucomi', 0xe9], ['fcomi', 0xf1], ['fnclex', 0xe2]]),
  ...regOps(0xdf, [['ffreep st1', 0xc1], ['fucomip', 0xe9], ['fcomip', 0xf1]]),
  ...regOps(0xd9, [['fxch', 0xc9], ['fchs', 0xe0], ['fabs', 0xe1], ['ftst', 0xe4], ['fxam', 0xe5], ['fxtract', 0xf4], ['fprem1', 0xf5],
    ['fdecstp', 0xf6], ['fincstp', 0xf7], ['fprem', 0xf8], ['fsqrt', 0xfa], ['frndint', 0xfc], ['fscale', 0xfd], ['fnop', 0xd0]]),
  ...([['fld st1', 0xc1], ['fld1', 0xe8], ['fldl2t', 0xe9], ['fldl2e', 0xea], ['fldpi', 0xeb], ['fldlg2', 0xec], ['fldln2', 0xed], ['fldz', 0xee]] as [string, number][])
    .map(([name, modrm]): OpSpec => ({ name, esc: 0xd9, modrm, mem: 'none', pushes: true })),
  ...memOps(0xd8, ARITH.map((n) => `${n} m32`), 'm32'),
  ...memOps(0xdc, ARITH.map((n) => `${n} m64`), 'm64'),
  ...memOps(0xda, ARITH.map((n) => `fi${n.slice(1)} m32`), 'i32'),
  ...memOps(0xde, ARITH.map((n) => `fi${n.slice(1)} m16`), 'i16'),
  { name: 'fld m32', esc: 0xd9, modrm: 0x05, mem: 'm32', pushes: true },
  { name: 'fst m32', esc: 0xd9, modrm: 0x15, mem: 'random' },
  { name: 'fstp m32', esc: 0xd9, modrm: 0x1d, mem: 'random' },
  { name: 'fldenv', esc: 0xd9, modrm: 0x25, mem: 'env' },
  { name: 'fldcw', esc: 0xd9, modrm: 0x2d, mem: 'cw' },
  { name: 'fnstenv', esc: 0xd9, modrm: 0x35, mem: 'random', storesEnv: true },
  { name: 'fnstcw', esc: 0xd9, modrm: 0x3d, mem: 'random' },
  { name: 'fld m64', esc: 0xdd, modrm: 0x05, mem: 'm64', pushes: true },
  { name: 'fst m64', esc: 0xdd, modrm: 0x15, mem: 'random' },
  { name: 'fstp m64', esc: 0xdd, modrm: 0x1d, mem: 'random' },
  { name: 'frstor', esc: 0xdd, modrm: 0x25, mem: 'save' },
  { name: 'fnsave', esc: 0xdd, modrm: 0x35, mem: 'random', storesEnv: true },
  { name: 'fnstsw m16', esc: 0xdd, modrm: 0x3d, mem: 'random' },
  { name: 'fild m32', esc: 0xdb, modrm: 0x05, mem: 'i32', pushes: true },
  { name: 'fist m32', esc: 0xdb, modrm: 0x15, mem: 'random' },
  { name: 'fistp m32', esc: 0xdb, modrm: 0x1d, mem: 'random' },
  { name: 'fld m80', esc: 0xdb, modrm: 0x2d, mem: 'm80', pushes: true },
  { name: 'fstp m80', esc: 0xdb, modrm: 0x3d, mem: 'random' },
  { name: 'fild m16', esc: 0xdf, modrm: 0x05, mem: 'i16', pushes: true },
  { name: 'fist m16', esc: 0xdf, modrm: 0x15, mem: 'random' },
  { name: 'fistp m16', esc: 0xdf, modrm: 0x1d, mem: 'random' },
  { name: 'fbld', esc: 0xdf, modrm: 0x25, mem: 'bcd', pushes: true },
  { name: 'fild m64', esc: 0xdf, modrm: 0x2d, mem: 'i64', pushes: true },
  { name: 'fbstp', esc: 0xdf, modrm: 0x35, mem: 'random' },
  { name: 'fistp m64', esc: 0xdf, modrm: 0x3d, mem: 'random' },
];

/** Transcendental instructions: compared within a tolerance (float64-based; see QUIRKS.md). */
export const TRANSCENDENTAL_OPS: readonly OpSpec[] = [
  ...regOps(0xd9, [['f2xm1', 0xf0], ['fyl2x', 0xf1], ['fpatan', 0xf3], ['fyl2xp1', 0xf9], ['fsin', 0xfe], ['fcos', 0xff]]),
  ...([['fptan', 0xf2], ['fsincos', 0xfb]] as [string, number][]).map(([name, modrm]): OpSpec => ({ name, esc: 0xd9, modrm, mem: 'none', pushes: true })),
];

/** Deterministic PRNG (mulberry32). */
export class Rng {
  constructor(private s: number) {}
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  sig64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

export interface Value80 {
  sx: number;
  sig: bigint;
}

const J = 1n << 63n;
const MASK64 = (1n << 64n) - 1n;

function fromNumber(x: number): Value80 {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const s = Number(bits >> 63n) << 15;
  const e = Number((bits >> 52n) & 0x7ffn);
  const f = bits & ((1n << 52n) - 1n);
  if (e === 0 && f === 0n) return { sx: s, sig: 0n };
  return { sx: s | (e - 1023 + 16383), sig: J | (f << 11n) };
}

/** Random 80-bit operands weighted toward the interesting regions. */
export function gen80(rng: Rng, near?: Value80): Value80 {
  const sign = rng.int(2) << 15;
  const r = rng.int(100);
  if (near !== undefined && r < 15) {
    // Same or adjacent exponent as the other operand: cancellation, ties, equal values.
    const k = rng.int(4);
    if (k === 0) return { sx: near.sx ^ (rng.int(2) << 15), sig: near.sig };
    const sig = k === 1 ? near.sig ^ BigInt(1 << rng.int(30)) : J | rng.sig64();
    const e = Math.min(0x7ffe, Math.max(1, (near.sx & 0x7fff) + rng.int(3) - 1));
    return { sx: (near.sx & 0x8000) ^ (rng.int(2) << 15) | e, sig: sig | J };
  }
  if (r < 30) return { sx: sign | (16383 + rng.int(129) - 64), sig: J | rng.sig64() };
  if (r < 38) return { sx: sign | (16383 + rng.int(61) - 30), sig: (J | rng.sig64()) & ~0x7ffn };
  if (r < 42) return { sx: sign | (16383 + rng.int(61) - 30), sig: (J | rng.sig64()) & ~((1n << 40n) - 1n) };
  if (r < 47) return fromNumber((rng.int(2001) - 1000) / (rng.int(4) === 0 ? 2 : 1));
  if (r < 55) return { sx: sign | (1 + rng.int(0x7ffe)), sig: J | rng.sig64() };
  if (r < 60) return { sx: sign | (1 + rng.int(70)), sig: J | rng.sig64() };
  if (r < 63) return { sx: sign, sig: rng.sig64() >> BigInt(1 + rng.int(63)) };
  if (r < 65) return { sx: sign, sig: J | rng.sig64() }; // pseudo-denormal
  if (r < 69) return { sx: sign | (0x7ffe - rng.int(70)), sig: J | rng.sig64() };
  if (r < 72) return { sx: sign, sig: 0n };
  if (r < 75) return { sx: sign | 0x7fff, sig: J };
  if (r < 79) return { sx: sign | 0x7fff, sig: J | (1n << 62n) | (rng.int(2) ? rng.sig64() & ((1n << 62n) - 1n) : 0n) };
  if (r < 82) return { sx: sign | 0x7fff, sig: J | ((rng.sig64() & ((1n << 62n) - 1n)) || 1n) };
  if (r < 84) {
    // Unnormal, pseudo-infinity, pseudo-NaN.
    const e = rng.int(3) === 0 ? 0x7fff : 1 + rng.int(0x7ffe);
    return { sx: sign | e, sig: rng.sig64() & ~J };
  }
  if (r < 92) {
    // Integers and halves near powers of two (FRNDINT/FIST ties and range limits).
    const bits = [0, 1, 2, 14, 15, 16, 30, 31, 32, 53, 59, 62, 63, 64][rng.int(14)]!;
    const e = 16383 + bits;
    let sig = J | rng.sig64();
    if (rng.int(2) === 0) sig = J | (BigInt(rng.int(2) ? 0 : 1) << 62n);
    return { sx: sign | e, sig: sig & MASK64 };
  }
  // Significands ending in exact tie/near-tie patterns at 24/53/64-bit precision.
  const cut = [40, 11, 1][rng.int(3)]!;
  const low = [0n, 1n << BigInt(cut - 1), (1n << BigInt(cut - 1)) + 1n, (1n << BigInt(cut - 1)) - 1n, (1n << BigInt(cut)) - 1n][rng.int(5)]!;
  const sig = ((J | rng.sig64()) & ~((1n << BigInt(cut)) - 1n)) | low;
  return { sx: sign | (16383 + rng.int(41) - 20), sig };
}

export function hex80(v: Value80): string {
  return v.sx.toString(16).padStart(4, '0') + v.sig.toString(16).padStart(16, '0');
}

function put(mem: Uint8Array, at: number, v: bigint, bytes: number): void {
  for (let i = 0; i < bytes; i++) mem[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

function put80(mem: Uint8Array, at: number, v: Value80): void {
  put(mem, at, v.sig, 8);
  put(mem, at + 8, BigInt(v.sx), 2);
}

/** Converts an 80-bit value to float64 bits roughly (for realistic m64 operands). */
function genMemory(rng: Rng, kind: MemoryKind, a: Value80): Uint8Array {
  const m = new Uint8Array(128);
  for (let i = 0; i < 128; i++) m[i] = rng.int(256);
  const r = rng.int(10);
  switch (kind) {
    case 'm32': {
      if (r < 3) break; // random bits
      const sign = rng.int(2);
      const e = r < 6 ? 127 + rng.int(61) - 30 : [0, 0, 1, 254, 255, 255][rng.int(6)]!;
      let f = rng.u32() & 0x7fffff;
      if (rng.int(4) === 0) f = 0;
      put(m, 0, BigInt(((sign << 31) | (e << 23) | f) >>> 0), 4);
      break;
    }
    case 'm64': {
      if (r < 3) break;
      const sign = BigInt(rng.int(2));
      const e = BigInt(r < 6 ? 1023 + rng.int(61) - 30 : [0, 0, 1, 2046, 2047, 2047][rng.int(6)]!);
      let f = rng.sig64() & ((1n << 52n) - 1n);
      if (rng.int(4) === 0) f = 0n;
      if (r === 6 && (a.sx & 0x7fff) !== 0 && (a.sx & 0x7fff) !== 0x7fff) {
        // An operand close to A.
        const ae = (a.sx & 0x7fff) - 16383 + 1023;
        if (ae > 0 && ae < 2047) {
          put(m, 0, (BigInt(a.sx >> 15) << 63n) | (BigInt(ae) << 52n) | ((a.sig >> 11n) & ((1n << 52n) - 1n)), 8);
          break;
        }
      }
      put(m, 0, (sign << 63n) | (e << 52n) | f, 8);
      break;
    }
    case 'm80':
      put80(m, 0, gen80(rng));
      break;
    case 'i16':
      if (r < 5) put(m, 0, BigInt([0, 1, 0xffff, 0x8000, 0x7fff][rng.int(5)]!), 2);
      break;
    case 'i32':
      if (r < 5) put(m, 0, BigInt([0, 1, 0xffffffff, 0x80000000, 0x7fffffff][rng.int(5)]!), 4);
      else if (r < 7) put(m, 0, BigInt(rng.int(2001) - 1000) & 0xffffffffn, 4);
      break;
    case 'i64':
      if (r < 5) put(m, 0, [0n, 1n, MASK64, 1n << 63n, (1n << 63n) - 1n][rng.int(5)]!, 8);
      break;
    case 'bcd':
      for (let i = 0; i < 9; i++) m[i] = (rng.int(10) << 4) | rng.int(10);
      if (r === 0) m[rng.int(9)] = rng.int(256);
      m[9] = rng.int(2) ? 0x80 : 0;
      if (r === 1) m.fill(0, 0, 9);
      break;
    case 'cw':
      if (r < 7) put(m, 0, BigInt((rng.int(64) | (rng.int(4) << 8) | (rng.int(4) << 10) | 0x40) & 0x1f7f), 2);
      break;
    case 'env':
    case 'save': {
      // Plausible environment: masks mostly set so later comparison stays meaningful.
      put(m, 0, BigInt(0xffff0000 | 0x40 | 0x3f | (rng.int(4) << 8) | (rng.int(4) << 10)) | 0n, 4);
      put(m, 4, BigInt(0xffff0000 + (rng.u32() & 0xffff)) & 0xffffffffn, 4);
      put(m, 8, BigInt(0xffff0000 + (rng.u32() & 0xffff)) & 0xffffffffn, 4);
      if (kind === 'save') for (let i = 0; i < 8; i++) put80(m, 28 + 10 * i, gen80(rng));
      break;
    }
    default:
      break;
  }
  return m;
}

export interface Case {
  readonly op: OpSpec;
  readonly cw: number;
  readonly depth: number;
  readonly eflags: number;
  readonly a: Value80;
  readonly b: Value80;
  readonly mem: Uint8Array;
}

export function genCase(rng: Rng, op: OpSpec): Case {
  const masks = rng.int(10) < 7 ? 0x3f : rng.int(64);
  const cw = masks | 0x40 | (rng.int(4) << 8) | (rng.int(4) << 10);
  let depth = 2;
  const d = rng.int(20);
  if (d === 0) depth = 0;
  else if (d === 1) depth = 1;
  else if (op.pushes === true && d < 5) depth = 8;
  else if (d === 5) depth = 3 + rng.int(6);
  const a = gen80(rng);
  const b = gen80(rng, a);
  const eflags = 0x2 | (rng.int(2) ? 0x1 : 0) | (rng.int(2) ? 0x4 : 0) | (rng.int(2) ? 0x40 : 0);
  return { op, cw, depth, eflags, a, b, mem: genMemory(rng, op.mem, a) };
}

/** The arithmetic forms the double-precision float64 shortcut serves (register and m64 operands). */
export const DOUBLE_PATH_OPS: readonly OpSpec[] = OPS.filter((o) =>
  /^(fadd|fsub|fsubr|fmul|fdiv|fdivr) (st,st1|st1,st|m64)$|^(faddp|fsubp|fsubrp|fmulp|fdivp|fdivrp|fsqrt)$/.test(o.name));

/**
 * A double with the given unbiased exponent (it may lie outside the double range; the value is
 * then an extended one with a 53-bit significand). Significands are random, short (exact
 * results), or all ones.
 */
function doubleLike(rng: Rng, exponent: number): Value80 {
  const k = rng.int(4);
  let f = rng.sig64() & ((1n << 52n) - 1n);
  if (k === 0) f &= ~((1n << BigInt(20 + rng.int(33))) - 1n);
  if (k === 1) f = (1n << 52n) - 1n - BigInt(rng.int(4));
  return { sx: (rng.int(2) << 15) | (16383 + exponent), sig: J | (f << 11n) };
}

/** Unbiased exponents around the limits where the shortcut stops applying. */
const DOUBLE_EDGES = [0, 1, -1, 30, -30, 400, -400, 450, -450, 800, -800, 900, -900, 1000, -1000, 1021, -1021, 1022, -1022, 1023, -1023, 1100, -1100];

/**
 * Cases for PC = double, RC = nearest with double operands: the float64 shortcut, its range
 * limits, exact and inexact results, and unmasked precision/underflow/overflow exceptions.
 */
export function genDoubleCase(rng: Rng, op: OpSpec): Case {
  const masks = rng.int(4) === 0 ? rng.int(64) | 0x02 : 0x3f;
  const cw = masks | 0x40 | 0x200;
  const pick = (): number => (rng.int(2) === 0 ? rng.int(61) - 30 : DOUBLE_EDGES[rng.int(DOUBLE_EDGES.length)]! + rng.int(5) - 2);
  const a = doubleLike(rng, pick());
  // The other operand: independent, or close to A (cancellation, quotients near 1, ties).
  const b = rng.int(3) === 0 ? doubleLike(rng, (a.sx & 0x7fff) - 16383 + rng.int(3) - 1) : doubleLike(rng, pick());
  if (op.name === 'fsqrt') a.sx &= 0x7fff;
  const mem = new Uint8Array(128);
  const be = (b.sx & 0x7fff) - 16383 + 1023;
  if (be > 0 && be < 2047) put(mem, 0, (BigInt(b.sx >> 15) << 63n) | (BigInt(be) << 52n) | ((b.sig >> 11n) & ((1n << 52n) - 1n)), 8);
  return { op, cw, depth: 2, eflags: 0x2, a, b, mem };
}

/** The comparison's three case sets: every exact instruction, the float64 shortcut, the transcendentals. */
export function exactCases(seed: number, perOp: number): Case[] {
  const rng = new Rng(seed);
  const cases: Case[] = [];
  for (let k = 0; k < perOp; k++) for (const op of OPS) cases.push(genCase(rng, op));
  return cases;
}
export function doublePathCases(seed: number, perOp: number): Case[] {
  const rng = new Rng(seed);
  const cases: Case[] = [];
  for (let k = 0; k < perOp; k++) for (const op of DOUBLE_PATH_OPS) cases.push(genDoubleCase(rng, op));
  return cases;
}
export function transcendentalCases(seed: number, perOp: number, ops: readonly OpSpec[] = TRANSCENDENTAL_OPS): Case[] {
  const rng = new Rng(seed);
  const cases: Case[] = [];
  for (let k = 0; k < perOp; k++) {
    for (const op of ops) {
      const c = genCase(rng, op);
      // Keep operands where float64 evaluation is meaningful (|x| < 2^20, F2XM1 in [-1, 1]).
      const e = c.a.sx & 0x7fff;
      // Outside the documented domains (F2XM1 |x| <= 1, FYL2XP1 |x| < 1 - sqrt(2)/2) results are undefined.
      const limit = op.name === 'f2xm1' ? 16382 : op.name === 'fyl2xp1' ? 16380 : 16383 + 20;
      if (e > limit && e !== 0x7fff) continue;
      if (e < 16383 - 900 && e !== 0) continue;
      cases.push(c);
    }
  }
  return cases;
}

export function caseLine(c: Case): string {
  const memHex = Array.from(c.mem, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${c.cw.toString(16)} ${c.depth} ${c.eflags.toString(16)} ${c.op.esc.toString(16)} ${c.op.modrm.toString(16)} ${hex80(c.a)} ${hex80(c.b)} ${memHex}`;
}

const A_AT = 0x100;
const B_AT = 0x110;
const MEM_AT = 0x200;
const AREA_AT = 0x300;
const CW_AT = 0x400;

export interface Outcome {
  area: Uint8Array;
  mem: Uint8Array;
  eflags: number;
}

/** Runs the harness sequence through the software FPU. */
export function runSoftware(c: Case): Outcome {
  const host = new FakeHost(0x1000);
  const fpu = new Fpu();
  put80(host.mem, A_AT, c.a);
  put80(host.mem, B_AT, c.b);
  host.mem.set(c.mem, MEM_AT);
  host.write16(CW_AT, c.cw);
  host.eflags = c.eflags;
  const exec = (esc: number, modrm: number, ea: number): void => fpu.execute(host, esc, modrm, ea, true, true, 0x1000, 0x23, 0x2b);
  exec(0xdb, 0xe3, 0);
  exec(0xd9, 0x2d, CW_AT);
  for (let k = 1; k < c.depth; k++) exec(0xdb, 0x2d, B_AT);
  if (c.depth >= 1) exec(0xdb, 0x2d, A_AT);
  exec(c.op.esc, c.op.modrm, MEM_AT);
  exec(0xdd, 0x35, AREA_AT);
  return { area: host.mem.slice(AREA_AT, AREA_AT + 108), mem: host.mem.slice(MEM_AT, MEM_AT + 128), eflags: host.eflags };
}

export function parseOutcome(line: string): Outcome {
  const [areaHex, memHex, flagsHex] = line.trim().split(' ');
  const bytes = (h: string): Uint8Array => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));
  return { area: bytes(areaHex!), mem: bytes(memHex!), eflags: parseInt(flagsHex!, 16) };
}

/** Bytes of the FSAVE image holding FIP, FCS/FOP, FDP, FDS: implementation/host specific. */
const POINTER_BYTES = [12, 28] as const;

/** Describes the first difference, or returns null when the outcomes agree. */
export function diffOutcome(c: Case, hw: Outcome, sw: Outcome, tolerance = 0): string | null {
  const diffs: string[] = [];
  for (let i = 0; i < 108; i++) {
    if (i >= POINTER_BYTES[0] && i < POINTER_BYTES[1]) continue;
    if (tolerance > 0 && !approximatelyEqualArea(hw.area, sw.area, tolerance)) {
      diffs.push(describeArea(hw.area, 'hw') + ' | ' + describeArea(sw.area, 'sw'));
      break;
    }
    if (tolerance > 0) break;
    if (hw.area[i] !== sw.area[i]) {
      diffs.push(describeArea(hw.area, 'hw') + ' | ' + describeArea(sw.area, 'sw'));
      break;
    }
  }
  for (let i = 0; i < 128; i++) {
    if (c.op.storesEnv === true && i >= POINTER_BYTES[0] && i < POINTER_BYTES[1]) continue;
    if (hw.mem[i] !== sw.mem[i]) {
      diffs.push(`mem[${i}] hw ${hex(hw.mem.subarray(0, 16))} sw ${hex(sw.mem.subarray(0, 16))}`);
      break;
    }
  }
  if ((hw.eflags & 0x8d5) !== (sw.eflags & 0x8d5)) diffs.push(`eflags hw ${hw.eflags.toString(16)} sw ${sw.eflags.toString(16)}`);
  if (diffs.length === 0) return null;
  return `${c.op.name} cw=${c.cw.toString(16)} depth=${c.depth} A=${hex80(c.a)} B=${hex80(c.b)} M=${hex(c.mem.subarray(0, 16))}\n   ${diffs.join('\n   ')}`;
}

function reg80(a: Uint8Array, i: number): { sx: number; sig: bigint } {
  const o = 28 + 10 * i;
  let sig = 0n;
  for (let k = 7; k >= 0; k--) sig = (sig << 8n) | BigInt(a[o + k]!);
  return { sx: a[o + 8]! | (a[o + 9]! << 8), sig };
}

/**
 * Tolerant comparison for transcendental results: control word, TOP, tags and the exception
 * flags other than PE must agree; C1 (rounding direction) is ignored; finite nonzero register
 * values may differ by `tolerance` relative error.
 */
function approximatelyEqualArea(hw: Uint8Array, sw: Uint8Array, tolerance: number): boolean {
  const w = (a: Uint8Array, o: number): number => a[o]! | (a[o + 1]! << 8);
  if (w(hw, 0) !== w(sw, 0) || w(hw, 8) !== w(sw, 8)) return false;
  const statusMask = ~(0x20 | 0x200) & 0xffff;
  if ((w(hw, 4) & statusMask) !== (w(sw, 4) & statusMask)) return false;
  for (let i = 0; i < 8; i++) {
    const a = reg80(hw, i);
    const b = reg80(sw, i);
    if (a.sx === b.sx && a.sig === b.sig) continue;
    const ea = a.sx & 0x7fff;
    const eb = b.sx & 0x7fff;
    if ((a.sx & 0x8000) !== (b.sx & 0x8000) || ea === 0x7fff || eb === 0x7fff) return false;
    // Compare significands on a common exponent (values may lie outside the float64 range).
    const d = Math.max(ea, 1) - Math.max(eb, 1);
    if (Math.abs(d) > 1) return false;
    const va = Number(a.sig) * 2 ** d;
    const vb = Number(b.sig);
    if (!(Math.abs(va - vb) <= tolerance * Math.max(va, vb))) return false;
  }
  return true;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function describeArea(a: Uint8Array, who: string): string {
  const w = (o: number): number => a[o]! | (a[o + 1]! << 8);
  const regs: string[] = [];
  for (let i = 0; i < 8; i++) {
    const o = 28 + 10 * i;
    let sig = 0n;
    for (let k = 7; k >= 0; k--) sig = (sig << 8n) | BigInt(a[o + k]!);
    regs.push(w(o + 8).toString(16).padStart(4, '0') + ':' + sig.toString(16).padStart(16, '0'));
  }
  return `${who} cw=${w(0).toString(16)} sw=${w(4).toString(16)} tw=${w(8).toString(16)} st=${regs.slice(0, 3).join(' ')}`;
}

export { Fpu };
