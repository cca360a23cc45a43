import { describe, expect, it } from 'vitest';
import { INSTRUCTION_CLASS_COUNT, InstructionClass } from '@typevisor/cpu-x86';
import { asm, flat, machine } from './support/harness.js';

const { Alu, DataTransfer, Branch, String: Str, Fpu, System } = InstructionClass;

function mixOf(m: ReturnType<typeof flat>): number[] {
  return Array.from(m.cpu.instructionMix);
}
function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

describe('retired-instruction mix', () => {
  it('counts every retired instruction in its class, exactly', () => {
    const m = flat([
      'mov ecx, 10',          // data transfer
      'l: add eax, ecx',      // alu           x10
      'push eax',             // data transfer x10
      'pop ebx',              // data transfer x10
      'call f',               // branch        x10
      'dec ecx',              // alu           x10
      'jnz l',                // branch        x10 (9 taken, 1 not)
      'cld',                  // alu
      'mov edi, 0x5000',      // data transfer
      'mov ecx, 4',           // data transfer
      'rep stosd',            // string
      'fld1',                 // x87
      'fwait',                // x87
      'mov eax, cr0',         // system (control register move)
      'cpuid',                // system
      'hlt',                  // system
      'f: ret',               // branch        x10
    ].join('\n'));
    m.cpu.countInstructionMix = true;
    expect(m.cpu.run(10_000)).toBe('halt');
    const mix = mixOf(m);
    expect(mix).toHaveLength(INSTRUCTION_CLASS_COUNT);
    expect(mix[Alu]).toBe(21);
    expect(mix[DataTransfer]).toBe(23);
    expect(mix[Branch]).toBe(30);
    expect(mix[Str]).toBe(1);
    expect(mix[Fpu]).toBe(2);
    expect(mix[System]).toBe(3);
    expect(sum(mix)).toBe(m.cpu.instructionsRetired);
    expect(m.cpu.getRegisters().edi).toBe(0x5010); // REP STOSD ran all four iterations
  });

  it('is off by default and counts nothing then', () => {
    const m = flat('mov ecx, 100\nl: dec ecx\njnz l\nhlt');
    expect(m.cpu.countInstructionMix).toBe(false);
    expect(m.cpu.run(10_000)).toBe('halt');
    expect(m.cpu.instructionsRetired).toBe(202);
    expect(sum(mixOf(m))).toBe(0);
  });

  it('counts the instructions of a block that retired before a fault, and not the faulting one', () => {
    const m = flat('mov eax, 1\nadd eax, eax\nxor edx, edx\ndiv edx\nhlt');
    m.cpu.countInstructionMix = true;
    expect(m.cpu.run(100)).toBe('exception');
    expect(m.cpu.instructionsRetired).toBe(3);
    const mix = mixOf(m);
    expect(mix[DataTransfer]).toBe(1);
    expect(mix[Alu]).toBe(2);
    expect(sum(mix)).toBe(3);
  });

  it('counts instructions run one at a time (crossing a page) and across budget-limited runs', () => {
    // `mov eax, imm32` at 0x1ffd crosses into the next page, so it runs outside the block cache.
    const m = machine({ stopOnException: true });
    m.memory.ram.set(asm('nop\nnop\nnop\njmp 0x1ffd', 32, 0x1000), 0x1000);
    m.memory.ram.set(asm('mov eax, 0x12345678\nxor eax, eax\nhlt', 32, 0x1ffd), 0x1ffd);
    m.cpu.enterFlatProtectedMode(0);
    m.cpu.setRegisters({ eip: 0x1000, esp: 0x8000 });
    m.cpu.countInstructionMix = true;
    // Budget 2 stops in the middle of the first block; the rest continues on the next run.
    expect(m.cpu.run(2)).toBe('budget');
    expect(sum(mixOf(m))).toBe(2);
    expect(m.cpu.run(100)).toBe('halt');
    const mix = mixOf(m);
    expect(mix[Alu]).toBe(4); // three NOPs and the XOR
    expect(mix[Branch]).toBe(1);
    expect(mix[DataTransfer]).toBe(1); // the page-crossing MOV
    expect(mix[System]).toBe(1);
    expect(m.cpu.getRegisters().eax).toBe(0);
    expect(sum(mix)).toBe(m.cpu.instructionsRetired);
  });

  it('stops counting when switched off and keeps what it counted', () => {
    const m = flat('mov ecx, 50\nl: dec ecx\njnz l\nhlt');
    m.cpu.countInstructionMix = true;
    expect(m.cpu.run(21)).toBe('budget');
    m.cpu.countInstructionMix = false;
    expect(m.cpu.run(10_000)).toBe('halt');
    expect(sum(mixOf(m))).toBe(21);
    expect(m.cpu.instructionsRetired).toBe(102);
  });
});
