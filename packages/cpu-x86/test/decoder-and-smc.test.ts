import { describe, expect, it } from 'vitest';
import { CpuStat } from '@typevisor/cpu-x86';
import { flat, runFlat } from './support/harness.js';

function bytes(m: ReturnType<typeof flat>, at: number, b: number[]): void {
  m.memory.ram.set(b, at);
}

describe('decoder limits', () => {
  it('a 15-byte instruction executes; 16 bytes raise #GP(0)', () => {
    const ok = runFlat('times 14 db 0x66\nnop\nhlt');
    expect(ok.stop).toBe('halt');
    const bad = runFlat('times 15 db 0x66\nnop\nhlt');
    expect(bad.stop).toBe('exception');
    expect(bad.m.cpu.lastException).toEqual({ vector: 13, errorCode: 0 });
    expect(bad.eip).toBe(0x1000);
  });
  it('LOCK on a register destination or a non-lockable instruction raises #UD', () => {
    for (const code of ['db 0xf0, 0x01, 0xd8', 'db 0xf0, 0x90', 'db 0xf0, 0x8b, 0x03']) {
      const r = runFlat(`${code}\nhlt`);
      expect(r.m.cpu.lastException).toEqual({ vector: 6, errorCode: null });
    }
    const ok = runFlat('mov dword [0x2000], 1\nlock add dword [0x2000], 2\nlock xadd [0x2000], eax\nmov ebx, [0x2000]\nhlt');
    expect(ok.stop).toBe('halt');
    expect(ok.ebx).toBe(3);
  });
  it('undefined opcodes raise #UD', () => {
    for (const code of ['ud2', 'db 0x0f, 0xff', 'db 0x0f, 0x05', 'db 0x0f, 0xaa', 'db 0xc6, 0xc8, 0x00', 'db 0x8d, 0xc0']) {
      const r = runFlat(`${code}\nhlt`);
      expect(r.m.cpu.lastException, code).toEqual({ vector: 6, errorCode: null });
    }
  });
  it('redundant prefixes: the last segment override and REP prefix win', () => {
    const r = runFlat('mov dword [0x2000], 7\ndb 0x2e, 0x3e\nmov eax, [0x2000]\nhlt');
    expect(r.eax).toBe(7);
  });
  it('multi-byte NOP (0F 1F /0) and PAUSE', () => {
    const r = runFlat('db 0x0f, 0x1f, 0x44, 0x00, 0x00\npause\nmov eax, 1\nhlt');
    expect(r.eax).toBe(1);
  });
  it('CPUID reports a P6 GenuineIntel without SSE', () => {
    const r = runFlat('xor eax, eax\ncpuid\nmov esi, ebx\nmov edi, edx\nmov ebp, ecx\nmov eax, 1\ncpuid\nhlt');
    const text = [r.esi, r.edi, r.ebp].map((v) => String.fromCharCode(v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24)).join('');
    expect(text).toBe('GenuineIntel');
    expect((r.eax >> 8) & 15).toBe(6);
    expect(r.edx & (1 << 25)).toBe(0);
    expect(r.edx & (1 << 8)).toBe(1 << 8);
  });
  it('CPUID reports the local APIC only when asked to', () => {
    const m = flat('mov eax, 1\ncpuid\nhlt', { apic: true });
    m.cpu.run(10);
    expect(m.cpu.getRegisters().edx & (1 << 9)).toBe(1 << 9);
    expect(runFlat('mov eax, 1\ncpuid\nhlt').edx & (1 << 9)).toBe(0);
  });
  it('RDMSR of an unknown MSR raises #GP(0)', () => {
    const r = runFlat('mov ecx, 0x12345\nrdmsr\nhlt');
    expect(r.m.cpu.lastException).toEqual({ vector: 13, errorCode: 0 });
  });
});

/** Flat machine with paging: PD at 0x100000, PT 0x101000 identity-mapping 0-4 MiB. */
function pagedFlat(source: string, notPresent: number[] = []): ReturnType<typeof flat> {
  const m = flat(source);
  m.memory.writePhys32(0x100000, 0x101007);
  for (let i = 0; i < 1024; i++) m.memory.writePhys32(0x101000 + i * 4, notPresent.includes(i) ? 0 : (i << 12) | 7);
  m.cpu.setRegisters({ cr3: 0x100000 });
  m.cpu.setRegisters({ cr0: (m.cpu.getRegisters().cr0 | 0x80000000) >>> 0 });
  return m;
}

describe('instruction fetch across pages', () => {
  it('an instruction spanning into an absent page faults with CR2 = the second page', () => {
    const m = pagedFlat('jmp 0x2ffe', [3]);
    bytes(m, 0x2ffe, [0xb8, 0x78, 0x56, 0x34, 0x12]);
    expect(m.cpu.run(100)).toBe('exception');
    expect(m.cpu.lastException).toEqual({ vector: 14, errorCode: 0 });
    expect(m.cpu.getRegisters()).toMatchObject({ cr2: 0x3000, eip: 0x2ffe });
  });
  it('an instruction spanning two present pages executes', () => {
    const m = pagedFlat('jmp 0x2ffe');
    bytes(m, 0x2ffe, [0xb8, 0x78, 0x56, 0x34, 0x12, 0xf4]);
    expect(m.cpu.run(100)).toBe('halt');
    expect(m.cpu.getRegisters().eax).toBe(0x12345678);
  });

  // A loop whose `mov eax, imm32` starts at 0x2ffc and ends at 0x3000, on the next page.
  const crossingLoop = (passes: number, body = ''): string => [
    `mov ecx, ${passes}`, 'xor ebx, ebx', 'jmp top', 'times 0x2ffc - 0x1000 - ($ - $$) db 0',
    'top: mov eax, 0x12345678', 'add ebx, eax', body, 'dec ecx', 'jnz top', 'hlt',
  ].join('\n');

  it('a page-crossing instruction in a loop is decoded once, not on every pass', () => {
    const m = pagedFlat(crossingLoop(5000));
    expect(m.cpu.run(100000)).toBe('halt');
    expect(m.cpu.getRegisters().ebx).toBe(Math.imul(5000, 0x12345678) >>> 0);
    expect(m.cpu.stats[CpuStat.DecodedInstructions]).toBeLessThan(50);
    expect(m.cpu.stats[CpuStat.FetchTranslations]).toBeLessThan(10);
  });
  it('stores into either page of a kept page-crossing instruction are seen on the next pass', () => {
    // After the first pass the immediate's last byte (0x3000) is 0x01, or its first (0x2ffd) 0x00.
    for (const [store, later] of [['mov byte [0x3000], 0x01', 0x01345678], ['mov byte [0x2ffd], 0', 0x12345600]] as const) {
      const m = pagedFlat(crossingLoop(3, store));
      expect(m.cpu.run(100000)).toBe('halt');
      expect(m.cpu.getRegisters().ebx).toBe((0x12345678 + 2 * later) >>> 0);
    }
  });
  it('a kept page-crossing instruction reads its second page where that page maps now', () => {
    const m = pagedFlat(crossingLoop(1));
    expect(m.cpu.run(1000)).toBe('halt');
    // Page 3 now maps to physical 0x5000, a copy of it whose first byte differs.
    m.memory.ram.copyWithin(0x5000, 0x3000, 0x4000);
    m.memory.ram[0x5000] = 0x02;
    m.memory.writePhys32(0x101000 + 3 * 4, 0x5007);
    // Start on page 3 (at `add ebx, eax`), so that its new mapping is what the fetch translation
    // cache holds when the loop comes round to the page-crossing instruction.
    m.cpu.setRegisters({ cr3: 0x100000, eip: 0x3001, ecx: 2 });
    expect(m.cpu.run(1000)).toBe('halt');
    expect(m.cpu.getRegisters().eax).toBe(0x02345678);
    // And with page 3 gone, the same instruction faults on fetching it.
    m.memory.writePhys32(0x101000 + 3 * 4, 0);
    m.cpu.setRegisters({ cr3: 0x100000, eip: 0x2ffc, ecx: 1 });
    expect(m.cpu.run(1000)).toBe('exception');
    expect(m.cpu.lastException).toEqual({ vector: 14, errorCode: 0 });
    expect(m.cpu.getRegisters()).toMatchObject({ cr2: 0x3000, eip: 0x2ffc });
  });
});

describe('self-modifying code', () => {
  it('a store to the very next instruction is seen', () => {
    const r = runFlat('mov byte [next+1], 0x42\nnext: mov al, 0\nhlt');
    expect(r.eax & 0xff).toBe(0x42);
  });
  it('patching an already executed (cached) routine takes effect on the next call', () => {
    const r = runFlat('mov ecx, 2\nxor edx, edx\nl: call f\nadd edx, ebx\nmov byte [f+1], 7\nloop l\nhlt\nf: mov ebx, 1\nret');
    expect(r.edx).toBe(8);
  });
  it('a DMA write into a code page invalidates its decoded instructions', () => {
    const m = flat('mov eax, 1\nhlt');
    expect(m.cpu.run(10)).toBe('halt');
    m.memory.writeBytes(0x1001 as never, Uint8Array.of(9));
    m.cpu.setRegisters({ eip: 0x1000 });
    m.cpu.run(10);
    expect(m.cpu.getRegisters().eax).toBe(9);
  });
  it('self-modifying code through a different linear alias of the same physical page', () => {
    const m = pagedFlat('mov byte [0x5000 + (next - 0x1000) + 1], 0x33\nnext: mov al, 0\nhlt');
    m.memory.writePhys32(0x101000 + 5 * 4, 0x1007); // linear 0x5000 -> physical 0x1000
    m.cpu.setRegisters({ cr3: 0x100000 });
    m.cpu.run(100);
    expect(m.cpu.getRegisters().eax & 0xff).toBe(0x33);
  });
});

describe('decoded code and direct RAM rewrites', () => {
  it('reset() forgets decoded instructions, so code rewritten through memory.ram runs after a reset', () => {
    const m = flat('mov eax, 1\nhlt');
    m.cpu.run(10);
    m.memory.ram[0x1001] = 5; // direct write: no code-write notification
    m.cpu.reset();
    m.cpu.enterFlatProtectedMode(0);
    m.cpu.setRegisters({ eip: 0x1000 });
    m.cpu.run(10);
    expect(m.cpu.getRegisters().eax).toBe(5);
  });
});
