import { describe, expect, it } from 'vitest';
import { flat } from './support/harness.js';

describe('features the P6 model deliberately does not have', () => {
  it('RSM outside SMM raises #UD (there is no SMM)', () => {
    const m = flat('nop\nrsm\nhlt');
    expect(m.cpu.run(100)).toBe('exception');
    expect(m.cpu.lastException).toEqual({ vector: 6, errorCode: null });
    expect(m.cpu.getRegisters().eip).toBe(0x1001);
  });

  it('CPUID reports family 6 model 1 stepping 9 without MCE (EDX bit 7) or MCA (EDX bit 14)', () => {
    const m = flat('mov eax, 1\ncpuid\nhlt');
    expect(m.cpu.run(100)).toBe('halt');
    const r = m.cpu.getRegisters();
    expect(r.eax).toBe(0x619);
    expect(r.edx & (1 << 7)).toBe(0);
    expect(r.edx & (1 << 14)).toBe(0);
  });
});
