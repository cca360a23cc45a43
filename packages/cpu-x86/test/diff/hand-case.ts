import type { DiffCase, MemoryPatch } from './case-format.js';

/** Initial general registers of a hand-written case (ESP defaults to 0x2800, the stack page; the rest to 0). */
export type HandRegs = Partial<Record<'eax' | 'ecx' | 'edx' | 'ebx' | 'esp' | 'ebp' | 'esi' | 'edi', number>>;

/** A case with a known answer for the runners' own tests: `code` run from `regs`, `eflags`, the seeded memory and `patches`. */
export function handCase(code: number[], regs: HandRegs, eflags = 0, patches: MemoryPatch[] = [], memorySeed = 1234): DiffCase {
  const r = Uint32Array.of(regs.eax ?? 0, regs.ecx ?? 0, regs.edx ?? 0, regs.ebx ?? 0, regs.esp ?? 0x2800, regs.ebp ?? 0, regs.esi ?? 0, regs.edi ?? 0);
  return { index: 0, opcode: 'test', form: 'hand-written', regs: r, eflags, memorySeed, patches, code: Uint8Array.from(code), undefinedFlags: 0, undefinedRegs: 0 };
}
