import { describe, expect, it } from 'vitest';
import { divide64, mul64, sqrt64, wide } from '../../src/fpu/significand-kernels.js';
import { Rng } from './native-cases.js';

/**
 * The fixed-width significand kernels against bigint arithmetic, on random and edge-case
 * significands (all ones, powers of two, values one off, long runs of equal bits).
 */
const MASK32 = 0xffffffffn;
const J = 1n << 63n;

function wideValue(): bigint {
  return (BigInt(wide[3]!) << 96n) | (BigInt(wide[2]!) << 64n) | (BigInt(wide[1]!) << 32n) | BigInt(wide[0]!);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((n.toString(2).length + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Random normalized 64-bit significands, biased toward patterns that stress carries and estimates. */
function significands(count: number, seed: number): bigint[] {
  const rng = new Rng(seed);
  const edge = [J, J | 1n, (1n << 64n) - 1n, (1n << 64n) - 2n, J | (J >> 1n), J | 0x7ffn, J | (1n << 32n), (J | (1n << 32n)) - 1n + J];
  const out: bigint[] = edge.map((v) => v & ((1n << 64n) - 1n) | J);
  for (let i = 0; i < count; i++) {
    const k = rng.int(6);
    let v = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
    if (k === 1) v &= ~((1n << BigInt(rng.int(64))) - 1n); // trailing zeros
    if (k === 2) v |= (1n << BigInt(rng.int(64))) - 1n; // trailing ones
    if (k === 3) v = (1n << 64n) - 1n - BigInt(rng.int(1 << 20)); // just below 2^64
    if (k === 4) v = J + BigInt(rng.int(1 << 20)); // just above 2^63
    out.push(v | J);
  }
  return out;
}

const hi = (v: bigint): number => Number(v >> 32n);
const lo = (v: bigint): number => Number(v & MASK32);

describe('significand kernels', () => {
  const values = significands(400, 0x5eed);

  it('mul64 gives the exact 128-bit product', () => {
    const rng = new Rng(1);
    for (const a of values) {
      for (let k = 0; k < 20; k++) {
        // Also unnormalized operands (denormal significands).
        const b = values[rng.int(values.length)]! >> BigInt(rng.int(3) === 0 ? rng.int(64) : 0);
        mul64(hi(a), lo(a), hi(b), lo(b));
        expect(wideValue()).toBe(a * b);
      }
    }
  });

  it('divide64 gives floor(A * 2^96 / B) and whether a remainder is left', () => {
    const rng = new Rng(2);
    for (const a of values) {
      for (let k = 0; k < 20; k++) {
        const b = k === 0 ? a : k === 1 ? (a === J ? a : a - 1n) : values[rng.int(values.length)]!;
        const sticky = divide64(hi(a), lo(a), hi(b), lo(b));
        const num = a << 96n;
        expect(wideValue()).toBe(num / b);
        expect(sticky).toBe(num % b !== 0n);
      }
    }
  });

  it('sqrt64 gives the floor root and the half/nonzero fraction bits', () => {
    const squares = values.slice(0, 100).map((v) => {
      // Significands whose M is a perfect square or one off it.
      const r = (v >> 32n) | (1n << 31n);
      return r * r;
    });
    for (const s of [...values, ...squares.filter((v) => v >= J)]) {
      for (const half of [false, true]) {
        sqrt64(hi(s), lo(s), half);
        const m = s << (half ? 63n : 64n);
        const r = isqrt(m);
        const rem = m - r * r;
        expect((BigInt(wide[3]!) << 32n) | BigInt(wide[2]!)).toBe(r);
        expect(wide[1]).toBe(rem > r ? 0x80000001 : rem !== 0n ? 1 : 0);
        expect(wide[0]).toBe(0);
      }
    }
  });
});
