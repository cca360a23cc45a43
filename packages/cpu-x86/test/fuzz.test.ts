import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CPU_HOST_AREA_BYTES, CpuInternalError, CpuStat, type CpuOptions } from '@typevisor/cpu-x86';
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

  /**
   * Random code in flat 32-bit protected mode at CPL 0 and 3 with the WebAssembly tiers on from the
   * first run (`options`): returns how many blocks went to the tier (CpuStat `stat`).
   */
  const flatWithHostArea = (options: Partial<CpuOptions>, stat: number, seed: number): number => {
    let made = 0;
    fc.assert(fc.property(code, fc.boolean(), (bytes, user) => {
      const m = machine({ warmBlocks: true, warmThreshold: 1, ...options }, 4 << 20, CPU_HOST_AREA_BYTES);
      m.memory.ram.set(bytes, 0x3000);
      m.cpu.enterFlatProtectedMode(user ? 3 : 0);
      m.cpu.setRegisters({ eip: 0x3000, esp: 0x8000 });
      drive(m);
      made += m.cpu.stats[stat]!;
    }), { seed, numRuns: 100 });
    return made;
  };

  it('flat 32-bit protected mode at CPL 0 and 3 with every block a warm WebAssembly block from its first run', () => {
    expect(flatWithHostArea({ compileThreshold: 65535 }, CpuStat.BlocksWarmed, 2027)).toBeGreaterThan(50);
  }, 60_000);

  it('flat 32-bit protected mode at CPL 0 and 3 with every block that can be translated into WebAssembly on its first run', () => {
    expect(flatWithHostArea({ compileThreshold: 1, wasmHotBlocks: true }, CpuStat.BlocksTranslated, 2028)).toBeGreaterThan(20);
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

/**
 * Random code made of calls, returns, jumps and branches with short displacements (so they land in
 * the code), pushes, pops and ALU instructions: blocks compiled on their first run, which follow
 * calls, returns and forward jumps (blocks.ts), must end in exactly the state the block loop gives.
 */
describe('fuzz: compiled blocks that follow transfers against the block loop', () => {
  const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const piece = fc.oneof(
    fc.integer({ min: -40, max: 60 }).map((d) => [0xe8, ...le32(d)]), // CALL rel32
    fc.constant([0xc3]), // RET
    fc.integer({ min: 0, max: 8 }).map((n) => [0xc2, n * 4, 0]), // RET imm16
    fc.integer({ min: -30, max: 40 }).map((d) => [0xeb, d & 0xff]), // JMP rel8
    fc.integer({ min: -30, max: 40 }).map((d) => [0xe9, ...le32(d)]), // JMP rel32
    fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: -20, max: 30 })).map(([cc, d]) => [0x70 + cc, d & 0xff]), // Jcc rel8
    fc.integer({ min: 0, max: 7 }).map((r) => [0x50 + r]), // PUSH r32
    fc.integer({ min: 0, max: 7 }).filter((r) => r !== 4).map((r) => [0x58 + r]), // POP r32 (not ESP)
    fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3 }).filter((r) => r !== 4))
      .map(([op, src, dst]) => [op * 8 + 1, 0xc0 | (src << 3) | dst]), // ALU r32, r32 (EAX..EBX, never ESP)
    fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 255 })).map(([op, imm]) => [0x83, 0xc0 | (op << 3) | 1, imm]), // ALU ECX, imm8
    fc.integer({ min: 0, max: 28 }).map((d) => [0x01, 0x44, 0x24, d & 0xfc]), // ADD [ESP + d], EAX
    fc.constant([0x8b, 0x04, 0x24]), // MOV EAX, [ESP]
  );
  const program = fc.array(piece, { minLength: 4, maxLength: 60 }).map((pieces) => new Uint8Array([...pieces.flat(), 0xf4]));

  it('give the same registers, flags, memory, retired count and stop', () => {
    fc.assert(fc.property(program, (bytes) => {
      const [interpreted, compiled] = [{ compileBlocks: false }, { compileThreshold: 1 }].map((options) => {
        const m = machine({ stopOnException: true, ...options });
        m.memory.ram.set(bytes, 0x1000);
        m.cpu.enterFlatProtectedMode(0);
        m.cpu.setRegisters({ eip: 0x1000, esp: 0x8000 });
        const stops: string[] = [];
        for (let i = 0; i < 3; i++) stops.push(m.cpu.run(BUDGET));
        return { stops, regs: m.cpu.getRegisters(), retired: m.cpu.instructionsRetired, exception: m.cpu.lastException, stack: Array.from(m.memory.ram.subarray(0x7000, 0x8100)) };
      });
      expect(compiled).toEqual(interpreted);
    }), { seed: 11, numRuns: 60 });
  }, 60_000);
});
