/** Options of {@link disassemble} and {@link disassembleRange}. */
export interface DisassembleOptions {
  /** Default operand and address size of the code segment: 16 (real mode, 16-bit PM, v8086) or 32. */
  readonly mode: 16 | 32;
  /**
   * Guest address (offset within the code segment, EIP/IP) of the instruction's first byte, used to
   * compute relative branch targets. Defaults to the byte offset in the buffer.
   */
  readonly address?: number;
}

/** One decoded instruction in Intel syntax. */
export interface DisassembledInstruction {
  /**
   * Bytes the instruction occupies (1..15). An undefined opcode or an instruction longer than 15 bytes
   * is `(bad)` of length 1; a sequence cut short by the end of the buffer is `(bad)` covering the bytes
   * that are there (0 only when `offset` is at or past the end of the buffer).
   */
  readonly length: number;
  /** Lower-case mnemonic without prefixes, e.g. `movsb`, `cmpxchg8b`, `fld`; `(bad)` when undecodable. */
  readonly mnemonic: string;
  /** Operands in Intel order (destination first), e.g. `['eax', 'dword ptr [ebx+ecx*4+0x10]']`. */
  readonly operands: readonly string[];
  /** The full line: prefixes, mnemonic and operands, e.g. `lock cmpxchg8b qword ptr [esi]`. */
  readonly text: string;
}

/** An entry of {@link disassembleRange}: an instruction and where it was found. */
export interface DisassembledLine extends DisassembledInstruction {
  /** Offset of the instruction's first byte in the buffer. */
  readonly offset: number;
  /** Guest address of the instruction's first byte (see {@link DisassembleOptions.address}). */
  readonly address: number;
}
