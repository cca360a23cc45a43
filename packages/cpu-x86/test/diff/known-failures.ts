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

// F1 (INT3/INTO/INT1 under stopOnException) was fixed in 4740e56; see FINDINGS.md.
export const KNOWN_FAILURES: readonly KnownFailure[] = [];

/** Opcode keys a case exercises (one for a single instruction, several for a sequence). */
export function opcodesOf(c: DiffCase): string[] {
  if (c.opcode !== 'seq') return [c.opcode];
  return c.form.replace(/^sequence /, '').split(' ; ');
}

export function findKnownFailure(c: DiffCase, list: readonly KnownFailure[] = KNOWN_FAILURES): KnownFailure | undefined {
  const ops = opcodesOf(c);
  return list.find((k) => ops.includes(k.opcode) && (k.matches === undefined || k.matches(c)));
}
