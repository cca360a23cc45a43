import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '@typevisor/mmu';
import { Cpu, CPU_HOST_AREA_BYTES } from '@typevisor/cpu-x86';
import { CPU_HOST_AREA_BYTES as AREA, HOST, WARM_JUMP_BITS, WARM_RECORD, WARM_SLOTS } from '../src/wasm/host-area.js';
import { FPU_BYTES, FPU_EMPTY, FPU_HI, FPU_SX, FPU_TOP, FPU_WORD } from '../src/fpu/fpu-registers.js';
import { asm, RecordingIo } from './support/harness.js';

/**
 * The host area (src/wasm/host-area.ts) is the CPU state that WebAssembly code shares with
 * JavaScript: its parts must not overlap, and what JavaScript writes must be where they read it.
 */
describe('the host area', () => {
  it('has parts that do not overlap, each aligned to its elements', () => {
    const parts: Array<[string, number, number, number]> = [
      ['regs', HOST.regs, 16 * 8, 8], ['exit', HOST.exit, 16 * 4, 4], ['segSel', HOST.segSel, 8 * 4, 4],
      ['cr0', HOST.cr0, 4, 4], ['fpu', HOST.fpu, FPU_BYTES, 4], ['segBase', HOST.segBase, 8 * 4, 4],
      ['segCheck', HOST.segCheck, 8 * 4, 4], ['segLimit', HOST.segLimit, 8 * 8, 8], ['zero', HOST.zero, 4, 4],
      ['tlbTag', HOST.tlbTag, 5 * 1024 * 4, 4], ['tlbVal', HOST.tlbVal, 5 * 1024 * 4, 4], ['codePages', HOST.codePages, 1 << 20, 1],
      ['warmJumps', HOST.warmJumps, 32 << WARM_JUMP_BITS, 4], ['warmRuns', HOST.warmRuns, WARM_SLOTS * 2, 2],
      ['warmSlots', HOST.warmSlots, WARM_SLOTS * WARM_RECORD, 4],
    ];
    parts.sort((a, b) => a[1] - b[1]);
    for (const [name, at, , align] of parts) expect(at % align, name).toBe(0);
    for (let i = 1; i < parts.length; i++) {
      const [before, at, bytes] = parts[i - 1]!;
      expect(at + bytes, `${before} ends before ${parts[i]![0]}`).toBeLessThanOrEqual(parts[i]![1]);
    }
    const [, lastAt, lastBytes] = parts.at(-1)!;
    expect(lastAt + lastBytes).toBeLessThanOrEqual(AREA);
    expect(CPU_HOST_AREA_BYTES).toBe(AREA);
  });

  it('holds CR0, the selectors and the built-in FPU registers where translated code reads them', () => {
    const memory = new PhysicalMemory({ ramSize: 1 << 20, hostAreaBytes: CPU_HOST_AREA_BYTES });
    const cpu = new Cpu({ memory, io: new RecordingIo() });
    memory.ram.set(asm('fninit\nfldpi\nfld1\nhlt', 32, 0x1000), 0x1000);
    cpu.enterFlatProtectedMode(0);
    cpu.setRegisters({ eip: 0x1000, esp: 0x8000 });
    expect(cpu.run(100)).toBe('halt');
    const area = memory.hostArea!, at = (offset: number) => area.byteOffset + offset;
    expect(new Int32Array(area.buffer, at(HOST.cr0), 1)[0]! & 1).toBe(1);
    expect(new Int32Array(area.buffer, at(HOST.segSel), 8)[1]).toBe(cpu.getRegisters().cs);
    // TOP 6; ST(1) = pi in physical register 7, ST(0) = 1 in 6; the others empty.
    const words = new Uint32Array(area.buffer, at(HOST.fpu + FPU_WORD), 9);
    expect(words[FPU_TOP]).toBe(6);
    expect(words[FPU_EMPTY]).toBe(0x3f);
    const sx = new Uint16Array(area.buffer, at(HOST.fpu + FPU_SX), 8), hi = new Uint32Array(area.buffer, at(HOST.fpu + FPU_HI), 8);
    expect([sx[7], hi[7], sx[6], hi[6]]).toEqual([0x4000, 0xc90fdaa2, 0x3fff, 0x80000000]);
  });
});
