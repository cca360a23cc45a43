import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '@typevisor/mmu';
import { Cpu } from '@typevisor/cpu-x86';
import { runFlat } from './support/harness.js';

describe('flat 32-bit smoke', () => {
  it('moves, adds and halts', () => {
    const r = runFlat('mov eax, 40\nadd eax, 2\nmov ebx, eax\nhlt');
    expect(r.stop).toBe('halt');
    expect(r.eax).toBe(42);
    expect(r.ebx).toBe(42);
  });

  it('the README embedding example works as written', () => {
    const memory = new PhysicalMemory({ ramSize: 16 << 20 });
    memory.ram.set([0xb8, 0x2a, 0, 0, 0, 0x01, 0xc3, 0xf4], 0x1000); // mov eax,42; add ebx,eax; hlt
    const cpu = new Cpu({ memory, io: { read: () => 0xff, write: () => {} } });
    cpu.enterFlatProtectedMode(0);
    cpu.setRegisters({ eip: 0x1000, esp: 0x8000, ebx: 1 });
    expect(cpu.run(1_000_000)).toBe('halt');
    expect(cpu.getRegisters().ebx).toBe(43);
  });
});
