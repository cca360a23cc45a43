import { describe, expect, it } from 'vitest';
import { Cpu, CpuStat } from '@typevisor/cpu-x86';
import { guestPhys, PhysicalMemory } from '@typevisor/mmu';
import { asm, flat } from './support/harness.js';

// Compiled blocks of paging-off code reach RAM without the TLB (block-compiler.ts, directRam): the
// linear address is the RAM offset while paging is off, the A20 gate open and the RAM below it
// plain. Each of those is checked when the block runs, not only when it was compiled.

/** `add eax, [address]` 100 times, compiled on its first run. */
const SUM_LOOP = (address: number): string => `
  mov ecx, 100
  xor eax, eax
l: add eax, [0x${address.toString(16)}]
  dec ecx
  jnz l
  hlt`;

function rerun(m: ReturnType<typeof flat>): number {
  m.cpu.setRegisters({ eip: 0x1000 });
  expect(m.cpu.run(10_000)).toBe('halt');
  return m.cpu.getRegisters().eax >>> 0;
}

describe('compiled blocks with paging off', () => {
  it('go to RAM without filling the TLB: a loop over 8 MiB walks no page tables', () => {
    const m = flat(`
      mov ecx, 3
    pass:
      mov esi, 0x100000
    l: mov eax, [esi]
      mov [esi + 4], eax
      add esi, 0x1000
      cmp esi, 0x900000
      jb l
      dec ecx
      jnz pass
      hlt`, { compileThreshold: 1 }, 16 << 20);
    const before = m.cpu.stats[CpuStat.TlbMisses];
    expect(m.cpu.run(1_000_000)).toBe('halt');
    expect(m.cpu.stats[CpuStat.BlocksCompiled]).toBeGreaterThan(0);
    // Through the TLB each pass would miss on all 2,048 pages (the TLB holds 1,024 per kind).
    expect(m.cpu.stats[CpuStat.TlbMisses] - before).toBeLessThan(64);
  });

  it('read through the page tables once paging is on, though compiled before', () => {
    const m = flat(SUM_LOOP(0x200000), { compileThreshold: 1 });
    m.memory.writePhys32(0x200000, 1);
    m.memory.writePhys32(0x300000, 7);
    expect(rerun(m)).toBe(100);
    // Identity map 0-4 MiB, except linear 0x200000 -> physical 0x300000.
    for (let page = 0; page < 1024; page++) m.memory.writePhys32(0x101000 + page * 4, ((page === 0x200 ? 0x300 : page) << 12) | 3);
    m.memory.writePhys32(0x100000, 0x101000 | 3);
    m.cpu.setRegisters({ cr3: 0x100000, cr0: (m.cpu.getRegisters().cr0 | 0x80000000) >>> 0 });
    expect(rerun(m)).toBe(700);
  });

  it('see the A20 gate close after they were compiled', () => {
    const m = flat(SUM_LOOP(0x100010), { compileThreshold: 1 });
    m.memory.writePhys32(0x100010, 5);
    m.memory.writePhys32(0x10, 9);
    expect(rerun(m)).toBe(500);
    m.cpu.setA20(false);
    expect(rerun(m)).toBe(900);
  });

  for (const mapBy of ['ranges', 'pages'] as const) {
    it(`stop at the first page that is not plain RAM: ROM reads its bytes and ignores writes (memory map asked by ${mapBy})`, () => {
      const memory = new PhysicalMemory({ ramSize: 4 << 20 });
      // Without describe() the CPU walks isRamPage() page by page.
      const seen = mapBy === 'ranges' ? memory : new Proxy(memory, { get: (target, key) => (key === 'describe' ? undefined : Reflect.get(target, key) as unknown) });
      const cpu = new Cpu({ memory: seen, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true, compileThreshold: 1 });
      memory.ram.set(asm(`
      mov ecx, 100
    l: mov eax, [0x1ffffc]
      mov dword [0x1ffffc], 0x11111111
      mov ebx, [0x200000]
      mov dword [0x200000], 0x22222222
      dec ecx
      jnz l
      hlt`, 32, 0x1000), 0x1000);
      memory.addRom(guestPhys(0x200000), Uint8Array.of(0x78, 0x56, 0x34, 0x12), 'test ROM');
      cpu.enterFlatProtectedMode(0); // a new memory map is followed by a TLB flush
      cpu.setRegisters({ eip: 0x1000, esp: 0x8000 });
      expect(cpu.run(10_000)).toBe('halt');
      expect(cpu.getRegisters().ebx >>> 0).toBe(0x12345678);
      expect(memory.readPhys32(0x200000) >>> 0).toBe(0x12345678);
      expect(memory.readPhys32(0x1ffffc) >>> 0).toBe(0x11111111);
    });
  }
});
