/**
 * Instruction classes for the retired-instruction mix, after the groups of the Intel SDM vol. 1
 * chapter 5 folded into six: what a profile of guest work needs to tell apart (computation, data
 * movement, control flow, string loops, floating point, and operations on the machine itself).
 */

/**
 * Index of each instruction class in `Cpu.instructionMix`, e.g. `cpu.instructionMix[InstructionClass.Branch]`.
 */
export const InstructionClass = {
  /** Integer arithmetic, logic, shifts and rotates, bit tests, SETcc, BCD adjustment, flag control, NOP. */
  Alu: 0,
  /** Data transfer: MOV (not to control/debug registers), MOVZX/MOVSX, CMOVcc, XCHG, XADD, CMPXCHG, BSWAP, PUSH/POP, LEA, far-pointer loads, XLAT, ENTER/LEAVE, CBW/CWD. */
  DataTransfer: 1,
  /** Control transfer inside the program: JMP, Jcc, JCXZ, LOOPcc, CALL, RET (near and far). */
  Branch: 2,
  /** String instructions (MOVS, CMPS, SCAS, LODS, STOS, INS, OUTS), with or without REP. */
  String: 3,
  /** x87 instructions (escape opcodes D8-DF), FWAIT, FXSAVE/FXRSTOR. */
  Fpu: 4,
  /** Operations on the machine: I/O ports, interrupts (INT n, INT3, INTO, IRET), CLI/STI, HLT, descriptor tables, control and debug registers, MSRs, CPUID, RDTSC/RDPMC, SYSENTER/SYSEXIT, cache and TLB control, LAR/LSL/VERR/VERW/ARPL. */
  System: 5,
} as const;

/** One of the {@link InstructionClass} values. */
export type InstructionClass = (typeof InstructionClass)[keyof typeof InstructionClass];

/** Number of instruction classes (the length of `Cpu.instructionMix`). */
export const INSTRUCTION_CLASS_COUNT = 6;

const STRING = new Set(['movs', 'movsb', 'cmps', 'cmpsb', 'scas', 'scasb', 'lods', 'lodsb', 'stos', 'stosb', 'ins', 'insb', 'outs', 'outsb']);
const FPU = new Set(['esc', 'fwait', 'fxsave', 'fxrstor']);
const BRANCH = new Set(['jmp', 'jmpf', 'call', 'callf', 'ret', 'retf', 'jcxz', 'loop', 'loope', 'loopne']);
const SYSTEM = new Set([
  'int', 'int1', 'int3', 'into', 'iret', 'in', 'out', 'cli', 'sti', 'hlt', 'clts', 'lgdt', 'lidt', 'lldt', 'ltr', 'lmsw',
  'sgdt', 'sidt', 'sldt', 'smsw', 'str', 'invd', 'invlpg', 'wbinvd', 'rdmsr', 'wrmsr', 'rdpmc', 'rdtsc', 'cpuid',
  'sysenter', 'sysexit', 'lar', 'lsl', 'verr', 'verw', 'arpl', 'ud2',
]);
const DATA_TRANSFER = new Set([
  'mov', 'movsx', 'movzx', 'xchg', 'xadd', 'cmpxchg', 'cmpxchg8b', 'bswap', 'push', 'pop', 'pusha', 'popa', 'pushf',
  'popf', 'lea', 'lds', 'les', 'lfs', 'lgs', 'lss', 'xlat', 'enter', 'leave', 'cbw', 'cwd',
]);

/** The class of an opcode-table row (mnemonic, and for MOV whether it moves a control/debug register). */
export function instructionClassOf(mnemonic: string, operands: readonly string[]): InstructionClass {
  if (STRING.has(mnemonic)) return InstructionClass.String;
  if (FPU.has(mnemonic)) return InstructionClass.Fpu;
  if (BRANCH.has(mnemonic) || (mnemonic.startsWith('j') && mnemonic.length <= 3)) return InstructionClass.Branch;
  if (SYSTEM.has(mnemonic) || (mnemonic === 'mov' && operands.some((o) => o === 'Cd' || o === 'Dd'))) return InstructionClass.System;
  if (DATA_TRANSFER.has(mnemonic) || mnemonic.startsWith('cmov')) return InstructionClass.DataTransfer;
  return InstructionClass.Alu;
}
