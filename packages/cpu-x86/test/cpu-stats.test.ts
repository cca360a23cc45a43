import { describe, expect, it } from 'vitest';
import { CPU_STAT_COUNT, CpuStat } from '@typevisor/cpu-x86';
import { asm, flat } from './support/harness.js';
import { pmMachine, record } from './support/pm-program.js';

const PF = 14;
const DE = 0;

describe('CPU event statistics', () => {
  it('counts a delivered page fault as a #PF and an exception, with the page walks before it', () => {
    // 0x301000 is unmapped: the load faults and the #PF handler records the vector and halts.
    const m = pmMachine(['call setup_paging', 'mov dword [0x21000 + 0x301*4], 0', 'mov eax, cr3', 'mov cr3, eax', 'mov eax, [0x301000]'].join('\n'));
    expect(m.cpu.run(200000)).toBe('halt');
    expect(record(m).vector).toBe(PF);
    const s = m.cpu.stats;
    expect(s.length).toBe(CPU_STAT_COUNT);
    expect(s[CpuStat.PageFaults]).toBe(1);
    expect(s[CpuStat.Exceptions]).toBe(1);
    // The faulting load walked the tables, as did the handler's stack and record writes.
    expect(s[CpuStat.TlbMisses]).toBeGreaterThanOrEqual(2);
    expect(s[CpuStat.FetchTranslations]).toBeGreaterThan(0);
  });

  it('counts an exception the CPU stops on, which is no page fault', () => {
    const m = flat('xor edx, edx\nmov eax, 1\ndiv edx\nhlt');
    expect(m.cpu.run(100)).toBe('exception');
    expect(m.cpu.lastException?.vector).toBe(DE);
    expect(m.cpu.stats[CpuStat.Exceptions]).toBe(1);
    expect(m.cpu.stats[CpuStat.PageFaults]).toBe(0);
    expect(m.cpu.stats[CpuStat.TlbMisses]).toBe(0); // paging is off: no page walk
  });

  it('counts decoding once per instruction, not per execution', () => {
    const decodedAfter = (iterations: number): { decoded: number; blocks: number; retired: number } => {
      const m = flat(`mov ecx, ${iterations}\nl: add eax, ecx\ndec ecx\njnz l\nhlt`);
      expect(m.cpu.run(100000)).toBe('halt');
      return { decoded: m.cpu.stats[CpuStat.DecodedInstructions], blocks: m.cpu.stats[CpuStat.BlocksBuilt], retired: m.cpu.instructionsRetired };
    };
    const few = decodedAfter(10), many = decodedAfter(1000);
    expect(many.retired).toBe(3002);
    // The loop's instructions are decoded (into a block from the start and one from the loop head) ...
    expect(few.decoded).toBeGreaterThanOrEqual(5);
    expect(few.blocks).toBeGreaterThanOrEqual(2);
    // ... and then run from the cache: 100 times the iterations decode only a few more (the run
    // loop's 256-instruction chunks enter the loop mid-block once or twice: new block heads).
    expect(many.decoded).toBeLessThan(few.decoded + 3 * 4);
    expect(many.decoded).toBeLessThan(many.retired / 100);
  });

  it('decodes again only when the guest rewrites its code', () => {
    const m = flat('mov ecx, 100\nl: dec ecx\njnz l\nhlt');
    expect(m.cpu.run(100000)).toBe('halt');
    const decoded = m.cpu.stats[CpuStat.DecodedInstructions];
    m.cpu.setRegisters({ eip: 0x1000 });
    expect(m.cpu.run(100000)).toBe('halt');
    expect(m.cpu.stats[CpuStat.DecodedInstructions]).toBe(decoded);
    // A guest store into the code page drops its decoded instructions.
    m.memory.ram.set(asm('mov dword [0x1000], 0x90909090\nhlt', 32, 0x3000), 0x3000);
    m.cpu.setRegisters({ eip: 0x3000 });
    expect(m.cpu.run(100)).toBe('halt');
    const afterWrite = m.cpu.stats[CpuStat.DecodedInstructions];
    m.cpu.setRegisters({ eip: 0x1000 });
    m.cpu.run(100000);
    expect(m.cpu.stats[CpuStat.DecodedInstructions]).toBeGreaterThan(afterWrite);
  });
});
