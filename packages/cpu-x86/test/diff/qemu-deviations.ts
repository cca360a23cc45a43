import { type CaseResult, type DiffCase } from './case-format.js';
import { CODE_ADDR } from './layout.js';

/**
 * Where QEMU's TCG (the oracle on hosts that run no 32-bit programs, qemu-runner.ts) is wrong: it
 * differs from the SDM and from the processors the hardware runs of this harness used. A mismatch
 * with QEMU that an entry matches is tolerated, counted and printed, never silently dropped; cases
 * an entry `skips` are not run in QEMU at all (they would crash it) and are counted as such.
 * Entries match the exact instruction and outcome, so a different mismatch in the same case still
 * fails. None of this applies to comparisons with hardware.
 */
export interface QemuDeviation {
  /** The instruction form, as in the case forms (e.g. `F6/1 TEST Eb,Ib`). */
  form: string;
  /** What QEMU does, what the hardware does, and why QEMU is the one that is wrong. */
  reason: string;
  /** The case cannot run in QEMU (QEMU aborts on it): it is not run and is counted. */
  skips?: (c: DiffCase) => boolean;
  /** This mismatch between QEMU's result and the interpreter's is the deviation. */
  matches?: (c: DiffCase, qemu: CaseResult, interpreter: CaseResult) => boolean;
}

export const QEMU_DEVIATIONS: readonly QemuDeviation[] = [
  {
    form: 'F6/1 TEST Eb,Ib and F7/1 TEST Ev,Iz (the /1 alias of TEST)',
    reason: 'QEMU 7.2 TCG raises #UD for ModR/M reg 1 of group 3; the SDM leaves /1 blank, but Intel and AMD ' +
      'processors execute it as TEST Ib/Iz (/0), as every hardware run of these forms (in each batch) showed',
    matches: (c, qemu, interpreter) => {
      const at = instructionAt(c, qemu.eip);
      return qemu.vector === 6 && at !== null && (at.opcode === 0xf6 || at.opcode === 0xf7) && modrmReg(c, at) === 1 &&
        !(interpreter.vector >= 0 && interpreter.eip === qemu.eip);
    },
  },
  {
    form: 'F1 INT1 (ICEBP)',
    reason: 'QEMU 7.2 TCG decodes F1 only when built with WANT_ICEBP (it is not), so it raises #UD; the processor ' +
      'raises #DB as a trap (EIP after F1) without a gate DPL check (SDM vol. 2, INT1), which Linux reports as trap 1',
    matches: (c, qemu, interpreter) => {
      const at = instructionAt(c, qemu.eip);
      return qemu.vector === 6 && at !== null && at.opcode === 0xf1 && interpreter.vector === 1 && interpreter.eip === at.end;
    },
  },
  {
    form: 'LOCK on an instruction that cannot be locked (MOV, IMUL, CMOVcc, ARPL, BT, or XCHG/XADD with a register operand, ...)',
    reason: 'QEMU 7.2 TCG executes these; the SDM (vol. 2, "LOCK") requires #UD unless the instruction is ADD ADC AND ' +
      'BTC BTR BTS CMPXCHG CMPXCHG8B DEC INC NEG NOT OR SBB SUB XOR XADD or XCHG with a memory destination',
    matches: (c, qemu, interpreter) =>
      c.opcode !== 'seq' && lockRaisesUd(c) && interpreter.vector === 6 && interpreter.eip === CODE_ADDR &&
      !(qemu.vector === 6 && qemu.eip === CODE_ADDR),
  },
  {
    form: 'LOCK BT/BTS/BTR/BTC with a register operand (0F A3/AB/B3/BB, 0F BA /4-/7, mod = 3)',
    reason: 'QEMU 7.2 TCG aborts translating them (tcg/tcg.c "tcg fatal error", SIGABRT: the locked path uses a ' +
      'memory address there is none of); the SDM requires #UD. Not run in QEMU (the hardware runs cover them)',
    skips: (c) => {
      if (c.opcode === 'seq') return false; // LOCK is never generated inside sequences
      const at = instructionAt(c, CODE_ADDR);
      if (at === null || !at.prefixes.includes(0xf0) || at.map !== 0x0f) return false;
      const bitTest = at.opcode === 0xa3 || at.opcode === 0xab || at.opcode === 0xb3 || at.opcode === 0xbb || at.opcode === 0xba;
      return bitTest && modrmMod(c, at) === 3;
    },
  },
];

/** The deviation (of `deviations`, QEMU's by default) that explains this mismatch with QEMU, if any. */
export function findQemuDeviation(
  c: DiffCase, qemu: CaseResult, interpreter: CaseResult, deviations: readonly QemuDeviation[] = QEMU_DEVIATIONS,
): QemuDeviation | undefined {
  return deviations.find((d) => d.matches?.(c, qemu, interpreter) === true);
}

/** The deviation (of `deviations`, QEMU's by default) that keeps this case out of QEMU, if any. */
export function findQemuSkip(c: DiffCase, deviations: readonly QemuDeviation[] = QEMU_DEVIATIONS): QemuDeviation | undefined {
  return deviations.find((d) => d.skips?.(c) === true);
}

const PREFIXES = new Set([0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67]);

interface Instruction {
  prefixes: number[];
  /** 0 for the one-byte map, 0x0f for the two-byte map. */
  map: number;
  opcode: number;
  /** Code offset of the byte after the opcode (the ModR/M byte where there is one). */
  next: number;
  /** Linear address after a one-byte instruction (only meaningful for those). */
  end: number;
}

/** Prefixes and opcode of the instruction at linear address `eip` in the case's code, or null outside it. */
function instructionAt(c: DiffCase, eip: number): Instruction | null {
  let at = eip - CODE_ADDR;
  if (at < 0 || at >= c.code.length) return null;
  const prefixes: number[] = [];
  while (at < c.code.length && PREFIXES.has(c.code[at] as number)) prefixes.push(c.code[at++] as number);
  let map = 0;
  if (c.code[at] === 0x0f) {
    map = 0x0f;
    at++;
  }
  if (at >= c.code.length) return null;
  const opcode = c.code[at] as number;
  return { prefixes, map, opcode, next: at + 1, end: CODE_ADDR + at + 1 };
}

function modrmReg(c: DiffCase, at: Instruction): number {
  return ((c.code[at.next] ?? 0) >> 3) & 7;
}

function modrmMod(c: DiffCase, at: Instruction): number {
  return (c.code[at.next] ?? 0) >> 6;
}

/** The case's first instruction has LOCK and is not one the SDM lets LOCK prefix (so it must #UD). */
function lockRaisesUd(c: DiffCase): boolean {
  const at = instructionAt(c, CODE_ADDR);
  if (at === null || !at.prefixes.includes(0xf0)) return false;
  const memory = modrmMod(c, at) !== 3;
  const reg = modrmReg(c, at);
  const op = at.opcode;
  let lockable: boolean;
  if (at.map === 0x0f) {
    lockable = memory && ([0xab, 0xb3, 0xbb, 0xb0, 0xb1, 0xc0, 0xc1].includes(op) || (op === 0xba && reg >= 5) || (op === 0xc7 && reg === 1));
  } else {
    const aluToMemory = op < 0x40 && (op & 7) <= 1 && (op & 0x38) !== 0x38; // ADD..XOR Eb,Gb / Ev,Gv, not CMP
    lockable = memory && (aluToMemory || ((op >= 0x80 && op <= 0x83) && reg !== 7) || op === 0x86 || op === 0x87 ||
      ((op === 0xf6 || op === 0xf7) && (reg === 2 || reg === 3)) || ((op === 0xfe || op === 0xff) && reg <= 1));
  }
  return !lockable;
}
