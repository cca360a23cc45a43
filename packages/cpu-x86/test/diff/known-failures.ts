import type { DiffCase } from './case-format.js';

/**
 * Interpreter bugs found by the differential tester that are not fixed yet. A mismatching case that
 * matches an entry is counted as a known failure instead of failing CI; every run prints how many it
 * tolerated per entry, and FINDINGS.md has the details (bytes, inputs, expected vs actual).
 * Remove an entry as soon as its bug is fixed: the report flags entries that no longer fail.
 */
export interface KnownFailure {
  /** Opcode key (DiffCase.opcode) the bug is in; also matches sequences containing it. */
  opcode: string;
  /** The bug, in one line (what is wrong, per FINDINGS.md). */
  bug: string;
  /** Narrows the entry to some cases of the opcode (e.g. only the 16-bit form). */
  matches?: (c: DiffCase) => boolean;
}

export const KNOWN_FAILURES: readonly KnownFailure[] = [
  {
    opcode: 'CC',
    bug: 'F1: INT3 with stopOnException goes through the IDT instead of stopping with #BP (EIP after the instruction); at CPL 3 without a valid IDT it stops with #GP(0x1A) at the instruction',
  },
  {
    opcode: 'CE',
    bug: 'F1: INTO (OF=1) with stopOnException goes through the IDT instead of stopping with #OF (EIP after the instruction); reports #GP(0x22) at the instruction',
  },
  {
    opcode: 'F1',
    bug: 'F1: INT1/ICEBP with stopOnException goes through the IDT instead of stopping with #DB (EIP after the instruction); reports #GP(0xB) at the instruction',
  },
];

/** Opcode keys a case exercises (one for a single instruction, several for a sequence). */
export function opcodesOf(c: DiffCase): string[] {
  if (c.opcode !== 'seq') return [c.opcode];
  return c.form.replace(/^sequence /, '').split(' ; ');
}

export function findKnownFailure(c: DiffCase, list: readonly KnownFailure[] = KNOWN_FAILURES): KnownFailure | undefined {
  const ops = opcodesOf(c);
  return list.find((k) => ops.includes(k.opcode) && (k.matches === undefined || k.matches(c)));
}
