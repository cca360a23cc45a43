/**
 * Instruction byte sequences for the objdump comparison: every one-byte and 0F opcode, each with
 * register and memory ModRM forms for every ModRM.reg, the full set of addressing forms (SIB, eiz,
 * absolute, disp8/disp16/disp32, negative displacements) and prefix combinations. Bytes after the
 * ModRM/SIB are a fixed tail that serves as displacement and immediate (sign bit set, so that
 * sign-extension and signed displacements show). Opcodes without ModRM simply take the tail.
 */
const PREFIX_BYTES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);
const TAIL_NEGATIVE = [0xf0, 0xff, 0x12, 0x80, 0x08, 0x00, 0x34, 0x12];
const TAIL_POSITIVE = [0x10, 0x02, 0x00, 0x00, 0x20, 0x00, 0x30, 0x00];

/** ModRM (+SIB) byte groups exercising the addressing forms of one address size. */
function addressingForms(a32: boolean): number[][] {
  const forms: number[][] = [];
  for (let reg = 0; reg < 8; reg++) {
    forms.push([0xc0 | (reg << 3) | ((reg + 1) & 7)]); // register form
    forms.push([(reg << 3) | (reg & 3)]); // mod 0 memory form
  }
  if (a32) {
    forms.push([0x04, 0x88], [0x04, 0x24], [0x04, 0x25], [0x04, 0x20], [0x04, 0xa4], [0x04, 0x05], [0x04, 0xc5]);
    forms.push([0x05], [0x45], [0x44, 0x24], [0x4c, 0x8b], [0x83], [0x84, 0x4e], [0x46]);
  } else {
    for (let rm = 0; rm < 8; rm++) forms.push([0x40 | rm], [0x80 | rm]);
    forms.push([0x06], [0x0e]);
  }
  return forms;
}

/** One case: its bytes and what it exercises (for failure messages). */
export interface InstructionCase {
  readonly bytes: Uint8Array;
  readonly mode: 16 | 32;
}

function opcodeBytes(): number[][] {
  const out: number[][] = [];
  for (let op = 0; op < 256; op++) if (!PREFIX_BYTES.has(op) && op !== 0x0f) out.push([op]);
  for (let op = 0; op < 256; op++) out.push([0x0f, op]);
  return out;
}

/** fwait followed by an x87 escape is one instruction for objdump (`fstsw`) but two for the CPU. */
function mergesWithFwait(bytes: number[]): boolean {
  const i = bytes.findIndex((b) => !PREFIX_BYTES.has(b));
  return bytes[i] === 0x9b && bytes[i + 1] >= 0xd8 && bytes[i + 1] <= 0xdf;
}

/** All comparison cases for one mode. */
export function instructionCases(mode: 16 | 32): InstructionCase[] {
  const cases: InstructionCase[] = [];
  const add = (bytes: number[]): void => {
    if (!mergesWithFwait(bytes)) cases.push({ bytes: Uint8Array.from(bytes), mode });
  };
  const prefixSets = [[0x66], [0x67], [0x2e], [0x3e], [0x64], [0xf3], [0xf2], [0xf0], [0x66, 0x67], [0x26, 0x65]];
  for (const op of opcodeBytes()) {
    addressingForms(mode === 32).forEach((form, i) => add([...op, ...form, ...(i % 2 === 0 ? TAIL_NEGATIVE : TAIL_POSITIVE)]));
    for (const prefixes of prefixSets) {
      const other = (mode === 32) !== prefixes.includes(0x67) ? [0x84, 0x4e] : [0x46];
      add([...prefixes, ...op, 0x00, ...TAIL_NEGATIVE]);
      add([...prefixes, ...op, 0xc1, ...TAIL_POSITIVE]);
      add([...prefixes, ...op, ...other, ...TAIL_NEGATIVE]);
    }
  }
  return cases;
}
