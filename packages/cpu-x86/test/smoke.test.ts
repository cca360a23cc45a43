import { describe, expect, it } from 'vitest';
import { runFlat } from './support/harness.js';

describe('flat 32-bit smoke', () => {
  it('moves, adds and halts', () => {
    const r = runFlat('mov eax, 40\nadd eax, 2\nmov ebx, eax\nhlt');
    expect(r.stop).toBe('halt');
    expect(r.eax).toBe(42);
    expect(r.ebx).toBe(42);
  });
});
