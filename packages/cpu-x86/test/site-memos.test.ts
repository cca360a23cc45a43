import { describe, expect, it } from 'vitest';
import type { CpuOptions } from '@typevisor/cpu-x86';
import { flat } from './support/harness.js';

// In a compiled one-block loop each memory access remembers the page it last reached through the
// TLB (block-compiler.ts, site memos) and goes straight to it on the next pass. These loops run
// with paging on (4 KiB pages, identity-mapped except where a test remaps) compiled and in the
// block loop, and must end the same.

const PD = 0x100000, PT = 0x101000;

function pagedLoop(source: string, options: Partial<CpuOptions>, remap: Record<number, number> = {}): ReturnType<typeof flat> {
  const m = flat(source, options);
  for (let page = 0; page < 1024; page++) m.memory.writePhys32(PT + page * 4, ((remap[page] ?? page) << 12) | 3);
  m.memory.writePhys32(PD, PT | 3);
  m.cpu.setRegisters({ cr3: PD });
  m.cpu.setRegisters({ cr0: (m.cpu.getRegisters().cr0 | 0x80000000) >>> 0 });
  return m;
}

function bothWays(source: string, remap: Record<number, number>, setup: (m: ReturnType<typeof flat>) => void): [number, number] {
  const results = [{ compileBlocks: false }, { compileThreshold: 1 }].map((options) => {
    const m = pagedLoop(source, options, remap);
    setup(m);
    expect(m.cpu.run(1_000_000)).toBe('halt');
    return m.cpu.getRegisters().eax >>> 0;
  });
  return [results[0]!, results[1]!];
}

describe('site memos of compiled one-block loops (paging on)', () => {
  it('do not outlive a translation: a page remapped and INVLPG-ed mid-loop is read where it maps now', () => {
    const source = `
      mov ecx, 200
      xor eax, eax
    l: add eax, [0x200000]
      cmp ecx, 100
      jne skip
      mov dword [${PT + 0x200 * 4}], 0x300003
      invlpg [0x200000]
    skip:
      dec ecx
      jnz l
      hlt`;
    const [blockLoop, compiled] = bothWays(source, {}, (m) => {
      m.memory.writePhys32(0x200000, 1);
      m.memory.writePhys32(0x300000, 1000);
    });
    expect(blockLoop).toBe(101 + 99 * 1000);
    expect(compiled).toBe(blockLoop);
  });

  it('take no dword from the remembered page that runs into the next one (mapped elsewhere)', () => {
    // ESI walks byte by byte across linear 0x201000, whose page maps to physical 0x350000.
    const source = `
      mov esi, 0x200ff0
      xor eax, eax
    l: add eax, [esi]
      mov bx, [esi + 1]
      add eax, ebx
      inc esi
      cmp esi, 0x201008
      jne l
      hlt`;
    const fill = (m: ReturnType<typeof flat>): void => {
      for (let i = 0; i < 0x20; i++) {
        m.memory.ram[0x200ff0 + i] = (i * 7 + 1) & 0xff;
        m.memory.ram[0x201000 + i] = 0xee; // physical 0x201000: linear 0x201000 does not map here
        m.memory.ram[0x350000 + i] = (i * 13 + 5) & 0xff;
      }
    };
    const [blockLoop, compiled] = bothWays(source, { 0x201: 0x350 }, fill);
    expect(compiled).toBe(blockLoop);
  });
});
