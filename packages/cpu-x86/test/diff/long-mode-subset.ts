import { disassemble } from '@typevisor/cpu-x86';
import { CODE_MAX, type DiffCase } from './case-format.js';
import { CODE_ADDR } from './layout.js';

/**
 * Which generated cases mean the same in 64-bit mode as in 32-bit protected mode, and their code
 * rewritten for it, so that a host whose kernel runs no 32-bit programs can still run them on its
 * own CPU (native64/runner.c, a 64-bit process).
 *
 * With 32-bit operands (no REX prefix) most integer instructions are the same in both modes:
 * results, flags, faults. What differs, and how a case is made equal or left out:
 *
 * - Address size is 64 bits in long mode, so `[ebx+disp]` would not wrap at 4 GiB and string
 *   instructions, LOOP/JECXZ and XLAT would use RSI/RDI/RCX/RBX. An address-size prefix (67) in
 *   front of every such instruction makes them 32-bit again, zero-extended: the same addresses and
 *   counts as in flat 32-bit mode. Branch displacements within the snippet are moved to match.
 * - `[disp32]` encoded without a SIB byte means RIP-relative in long mode: it is written with a SIB
 *   byte that has neither base nor index, which means `[disp32]` in both modes.
 * - INC/DEC r32 (40-4F) are REX prefixes in long mode, and 82 (an alias of 80) is invalid there:
 *   they are written as their equivalents FF /0, FF /1 (ModR/M register form) and 80, which the SDM
 *   defines identically in 32-bit mode.
 * - 16-bit addressing (a 67 prefix already there) does not exist in long mode: left out.
 * - Opcodes that are invalid or mean something else (BCD, PUSHA, BOUND, ARPL, LDS/LES, SALC, far
 *   transfers), everything that pushes or pops (8-byte stack
 *   slots), selector loads and stores, FS/GS overrides (their bases are the host's), the system
 *   instructions Linux emulates or answers from its own state (SGDT, LAR, CPUID, RDTSC,
 *   SYSCALL/SYSENTER) and relative branches with an operand-size prefix (ignored in long mode,
 *   EIP truncated to 16 bits in 32-bit mode): left out.
 */

export interface LongModeCode {
  /** The code to run in long mode. */
  code: Uint8Array;
  /** Offset in `code` of each instruction boundary (and the end) -> offset in the original code. */
  originalOffset: Map<number, number>;
}

const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

/** One-byte opcodes that are invalid, mean something else, or use the stack or selectors in long mode. */
const ONE_BYTE_LEFT_OUT = new Set([
  0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f,
  ...Array.from({ length: 16 }, (_, i) => 0x50 + i), // PUSH/POP r32
  0x60, 0x61, 0x62, 0x63, 0x68, 0x6a, 0x8c, 0x8e, 0x8f, 0x9a, 0x9c, 0x9d,
  0xc2, 0xc3, 0xc4, 0xc5, 0xc8, 0xc9, 0xca, 0xcb, 0xce, 0xcf, 0xd4, 0xd5, 0xd6, 0xe8, 0xea,
]);
/** 0F opcodes left out: selector and descriptor-table instructions, SYSCALL/SYSENTER family, CPUID, RDTSC/RDPMC, PUSH/POP FS/GS, the 3-byte maps. */
const TWO_BYTE_LEFT_OUT = new Set([0x00, 0x01, 0x02, 0x03, 0x05, 0x07, 0x31, 0x33, 0x34, 0x35, 0x38, 0x3a, 0xa0, 0xa1, 0xa2, 0xa8, 0xa9]);

/** Instructions with an implicit memory operand or counter: string instructions, XLAT, LOOPcc/JECXZ. */
function usesImplicitAddressOrCounter(op: number): boolean {
  return (op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf) || (op >= 0x6c && op <= 0x6f) || op === 0xd7 || (op >= 0xe0 && op <= 0xe3);
}

interface Branch {
  /** Offset of the instruction's first byte in the new code and the instruction's new length. */
  at: number;
  length: number;
  /** Displacement size: 1 or 4 bytes, the instruction's last bytes. */
  size: 1 | 4;
  /** Target as an offset in the original code. */
  target: number;
}

/** The case's code for long mode, or why it is not comparable there. */
export function longModeCode(c: DiffCase): LongModeCode | string {
  const src = c.code;
  const out: number[] = [];
  const originalOffset = new Map<number, number>();
  const newOffset = new Map<number, number>();
  const branches: Branch[] = [];
  for (let at = 0; at < src.length;) {
    const insn = disassemble(src, at, { mode: 32, address: CODE_ADDR + at });
    if (insn.mnemonic === '(bad)' || insn.length === 0) return 'undecodable bytes';
    let p = at, has66 = false, has67 = false;
    while (p < at + insn.length && PREFIXES.has(src[p]!)) {
      const b = src[p]!;
      if (b === 0x64 || b === 0x65) return 'FS/GS override';
      if (b === 0x66) has66 = true;
      if (b === 0x67) has67 = true;
      p++;
    }
    const op = src[p]!, twoByte = op === 0x0f, op2 = twoByte ? src[p + 1]! : -1;
    if (twoByte ? TWO_BYTE_LEFT_OUT.has(op2) : ONE_BYTE_LEFT_OUT.has(op)) return `opcode ${twoByte ? '0F ' : ''}${(twoByte ? op2 : op).toString(16).padStart(2, '0')}`;
    const modrmAt = p + (twoByte ? 2 : 1);
    // INT n to the Intel-reserved vectors 0x15-0x1F: a 64-bit host kernel (or hypervisor) may have
    // entries of its own there; on the first host this ran on, INT 0x17 was #GP(0) after the
    // instruction, INT 0x1A returned with registers cleared and INT 0x1B was #UD, where a DPL 0 gate
    // gives #GP(n*8+2). That is the host's IDT, not the CPU.
    if (!twoByte && op === 0xcd && src[p + 1]! >= 0x15 && src[p + 1]! <= 0x1f) return 'INT n to a reserved vector (host kernel entries)';
    if (!twoByte && op === 0xff && ((src[modrmAt]! >> 3) & 7) >= 2 && ((src[modrmAt]! >> 3) & 7) <= 6) return 'indirect branch or push';
    const memory = insn.operands.some((o) => o.includes('['));
    const implicit = !twoByte && usesImplicitAddressOrCounter(op);
    if ((memory || implicit) && has67) return '16-bit addressing';
    // Memory operands through ModR/M (everything but MOV moffs and the implicit forms).
    const ripRelative = memory && !implicit && !(!twoByte && op >= 0xa0 && op <= 0xa3) && (src[modrmAt]! & 0xc7) === 0x05;
    const rel8 = !twoByte && ((op >= 0x70 && op <= 0x7f) || op === 0xeb || (op >= 0xe0 && op <= 0xe3));
    const rel32 = (!twoByte && op === 0xe9) || (twoByte && op2 >= 0x80 && op2 <= 0x8f);
    if ((rel8 || rel32) && has66) return 'branch with operand-size prefix';
    newOffset.set(at, out.length);
    originalOffset.set(out.length, at);
    const start = out.length;
    if (memory || implicit) out.push(0x67);
    for (let i = at; i < at + insn.length; i++) {
      const b = src[i]!;
      if (i === p && !twoByte && (b & 0xf0) === 0x40) out.push(0xff, b < 0x48 ? 0xc0 | (b & 7) : 0xc8 | (b & 7));
      else if (i === p && b === 0x82) out.push(0x80);
      else if (i === modrmAt && ripRelative) out.push((b & 0xf8) | 4, 0x25);
      else out.push(b);
    }
    if (rel8 || rel32) {
      const end = at + insn.length;
      const disp = rel8 ? (src[end - 1]! << 24) >> 24 : (src[end - 4]! | (src[end - 3]! << 8) | (src[end - 2]! << 16) | (src[end - 1]! << 24));
      branches.push({ at: start, length: out.length - start, size: rel8 ? 1 : 4, target: end + disp });
    }
    at += insn.length;
  }
  newOffset.set(src.length, out.length);
  originalOffset.set(out.length, src.length);
  for (const b of branches) {
    const target = newOffset.get(b.target);
    if (target === undefined) return 'branch to outside the snippet or into an instruction';
    const disp = target - (b.at + b.length);
    const end = b.at + b.length;
    if (b.size === 1) {
      if (disp < -128 || disp > 127) return 'branch displacement out of rel8 range';
      out[end - 1] = disp & 0xff;
    } else {
      for (let k = 0; k < 4; k++) out[end - 4 + k] = (disp >> (8 * k)) & 0xff;
    }
  }
  if (out.length > CODE_MAX) return 'too long with address-size prefixes';
  return { code: Uint8Array.from(out), originalOffset };
}
