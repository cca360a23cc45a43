import { describe, expect, it } from 'vitest';
import { disassemble, disassembleRange } from '../../src/disasm/disassemble.js';

/** Small deterministic PRNG (xorshift32) so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
}

describe('disassembler on hostile bytes', () => {
  it('never throws and returns lengths in 1..15 for random byte sequences', () => {
    const next = rng(0x1234567);
    const bytes = new Uint8Array(32);
    let badLengths = 0;
    for (let n = 0; n < 100_000; n++) {
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      // Bias towards prefixes, 0F and x87 escapes, where the decoding paths are the most varied.
      if ((n & 3) === 0) bytes[0] = [0x66, 0x67, 0xf0, 0xf3, 0x0f, 0xd9, 0x2e][n % 7];
      const mode = (n & 1) === 0 ? 32 : 16;
      const d = disassemble(bytes, 0, { mode, address: next() });
      if (!(d.length >= 1 && d.length <= 15) || d.text.length === 0) badLengths++;
    }
    expect(badLengths).toBe(0);
  }, 60_000);

  it('gives (bad) with the available length for truncated instructions', () => {
    const full = Uint8Array.of(0x8b, 0x84, 0x88, 0x10, 0x00, 0x00, 0x00);
    expect(disassemble(full, 0, { mode: 32 }).text).toBe('mov eax, dword ptr [eax+ecx*4+0x10]');
    for (let n = 1; n < full.length; n++) {
      const d = disassemble(full.subarray(0, n), 0, { mode: 32 });
      expect(d).toEqual({ length: n, mnemonic: '(bad)', operands: [], text: '(bad)' });
    }
  });

  it('gives (bad) of length 1 for more than 15 bytes of prefixes', () => {
    const bytes = new Uint8Array(20).fill(0x66);
    bytes[19] = 0x90;
    expect(disassemble(bytes, 0, { mode: 32 })).toMatchObject({ length: 1, text: '(bad)' });
    expect(disassemble(bytes, 5, { mode: 32 })).toMatchObject({ length: 15, text: 'data16 data16 data16 data16 data16 data16 data16 data16 data16 data16 data16 data16 data16 xchg ax, ax' });
  });

  it('returns length 0 only for an offset outside the buffer, and ranges stop at the end', () => {
    expect(disassemble(Uint8Array.of(0x90), 1, { mode: 32 }).length).toBe(0);
    expect(disassemble(Uint8Array.of(0x90), -1, { mode: 32 }).length).toBe(0);
    const lines = disassembleRange(Uint8Array.of(0x90, 0x90, 0x8b), 0, 10, { mode: 32 });
    expect(lines.map((l) => [l.offset, l.text])).toEqual([[0, 'nop'], [1, 'nop'], [2, '(bad)']]);
  });
});
