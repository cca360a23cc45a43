import { describe, expect, it } from 'vitest';
import { CpuConfigurationError, type CpuSnapshot } from '@typevisor/cpu-x86';
import { machine } from './support/harness.js';
import { pmMachine } from './support/pm-program.js';

/** A ring-3 program with paging that keeps computing and making system calls. */
const PROGRAM = `
  call setup_paging
  mov eax, user
  jmp to_ring3
user:
  mov ecx, 3000
l: imul esi, ecx, 7
  add [0x5c0], esi
  int 0x80
  fld1
  fiadd dword [0x5c0]
  fistp dword [0x5c4]
  loop l
  int 0x81`;
const HANDLERS = { int80: 'add dword [ss:0x5c8], 1\niretd' };

describe('CPU snapshots', () => {
  it('save mid-run, restore into a fresh machine (RAM copied), and finish with identical results', () => {
    const a = pmMachine(PROGRAM, HANDLERS);
    a.cpu.run(20000);
    const state = JSON.parse(JSON.stringify(a.cpu.saveState())) as CpuSnapshot;
    const ram = a.memory.ram.slice();

    const b = machine({});
    b.memory.ram.set(ram);
    b.cpu.restoreState(state);
    expect(b.cpu.getRegisters()).toEqual(a.cpu.getRegisters());

    expect(a.cpu.run(1_000_000)).toBe('halt');
    expect(b.cpu.run(1_000_000)).toBe('halt');
    expect(b.cpu.getRegisters()).toEqual(a.cpu.getRegisters());
    for (const addr of [0x5c0, 0x5c4, 0x5c8, 0x500]) expect(b.memory.readPhys32(addr)).toBe(a.memory.readPhys32(addr));
    expect(a.memory.readPhys32(0x5c8)).toBe(3000);
    expect(b.cpu.instructionsRetired).toBe(a.cpu.instructionsRetired);
  });

  it('rejects malformed snapshots with a typed error', () => {
    const m = machine({});
    const good = m.cpu.saveState();
    expect(() => m.cpu.restoreState({ ...good, version: 99 })).toThrow(CpuConfigurationError);
    expect(() => m.cpu.restoreState({ ...good, gprs: [1, 2] })).toThrow(CpuConfigurationError);
    expect(() => m.cpu.restoreState(null as unknown as CpuSnapshot)).toThrow(CpuConfigurationError);
  });
});
