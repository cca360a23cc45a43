import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpuInternalError } from '@typevisor/cpu-x86';
import { machine, type Machine } from './support/harness.js';
import { pmMachine } from './support/pm-program.js';

/**
 * Random bytes as code must never make the interpreter throw a host exception or run past its
 * budget, in any mode. Fixed seeds keep CI deterministic.
 */
const BUDGET = 2000;

function drive(m: Machine): void {
  for (let i = 0; i < 5; i++) {
    const before = m.cpu.instructionsRetired;
    let stop: string;
    try {
      stop = m.cpu.run(BUDGET);
    } catch (e) {
      if (e instanceof CpuInternalError) throw new Error(`${e.message}`);
      throw e;
    }
    expect(m.cpu.instructionsRetired - before).toBeLessThanOrEqual(BUDGET);
    if (stop === 'shutdown') return;
    if (stop === 'halt') m.irq.pending.push(0x20 + (i & 7));
  }
}

const code = fc.uint8Array({ minLength: 64, maxLength: 512 });

describe('fuzz: random code never throws and respects the budget', () => {
  it('real mode', () => {
    fc.assert(fc.property(code, (bytes) => {
      const m = machine({});
      m.memory.ram.set(bytes, 0x3000);
      m.memory.ram.set(bytes, 0x0);        // a random IVT too
      m.cpu.setRegisters({ cs: 0, ds: 0, es: 0, ss: 0, eip: 0x3000, esp: 0x7000 });
      drive(m);
    }), { seed: 1234, numRuns: 60 });
  }, 60_000);

  it('16-bit protected mode', () => {
    fc.assert(fc.property(code, (bytes) => {
      const m = pmMachine('jmp 0x30:0x3000');
      m.memory.ram.set(bytes, 0x3000);
      drive(m);
    }), { seed: 4321, numRuns: 60 });
  }, 60_000);

  it('32-bit protected mode at CPL 0 and 3 with random paging', () => {
    const pte = fc.array(fc.tuple(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 40 });
    // The program applies (index, value) PTE patches from a table at 0x6000 after building the identity map.
    const main = `call setup_paging
      mov esi, 0x6000
      mov ecx, [esi]
      add esi, 4
    .p: jecxz .done
      mov ebx, [esi]
      mov eax, [esi+4]
      mov [0x21000+ebx*4], eax
      add esi, 8
      dec ecx
      jmp .p
    .done:
      mov eax, cr3
      mov cr3, eax
      mov eax, 0x3000
      cmp dword [0x6ffc], 0
      jne to_ring3
      jmp eax`;
    fc.assert(fc.property(code, pte, fc.boolean(), (bytes, entries, user) => {
      const m = pmMachine(main);
      m.memory.writePhys32(0x6000, entries.length);
      entries.forEach(([i, v], k) => { m.memory.writePhys32(0x6004 + k * 8, i); m.memory.writePhys32(0x6008 + k * 8, v); });
      m.memory.writePhys32(0x6ffc, user ? 1 : 0);
      m.memory.ram.set(bytes, 0x3000);
      drive(m);
    }), { seed: 99, numRuns: 60 });
  }, 60_000);

  it('real mode and flat 32-bit protected mode with every block compiled on its first run', () => {
    fc.assert(fc.property(code, fc.boolean(), (bytes, real) => {
      const m = machine({ compileThreshold: 1 });
      m.memory.ram.set(bytes, 0x3000);
      if (real) {
        m.memory.ram.set(bytes, 0x0);
        m.cpu.setRegisters({ cs: 0, ds: 0, es: 0, ss: 0, eip: 0x3000, esp: 0x7000 });
      } else {
        m.cpu.enterFlatProtectedMode(0);
        m.cpu.setRegisters({ eip: 0x3000, esp: 0x8000 });
      }
      drive(m);
    }), { seed: 2026, numRuns: 100 });
  }, 60_000);

  it('flat 32-bit stopOnException mode', () => {
    fc.assert(fc.property(code, (bytes) => {
      const m = machine({ stopOnException: true });
      m.memory.ram.set(bytes, 0x1000);
      m.cpu.enterFlatProtectedMode(3);
      m.cpu.setRegisters({ eip: 0x1000, esp: 0x8000 });
      const before = m.cpu.instructionsRetired;
      const stop = m.cpu.run(BUDGET);
      expect(['budget', 'halt', 'exception', 'shutdown']).toContain(stop);
      expect(m.cpu.instructionsRetired - before).toBeLessThanOrEqual(BUDGET);
    }), { seed: 7, numRuns: 100 });
  }, 60_000);
});
