import { REGION_SIZE } from './layout.js';

/**
 * Fills `dst` (REGION_SIZE bytes) with the case's initial memory: xorshift32 words from `seed`,
 * little-endian. native/runner.c has the same function; both sides must produce identical bytes.
 */
export function fillPattern(dst: Uint8Array, seed: number): void {
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < REGION_SIZE; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    dst[i] = x & 0xff;
    dst[i + 1] = (x >>> 8) & 0xff;
    dst[i + 2] = (x >>> 16) & 0xff;
    dst[i + 3] = x >>> 24;
  }
}
