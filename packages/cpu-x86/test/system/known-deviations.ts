/**
 * Interpreter bugs the system tests found that are not fixed yet. Each entry replaces one exact line
 * of QEMU's output with the line typevisor prints today, so the rest of the program is still
 * compared strictly; the test prints every applied entry. When the bug is fixed the replaced line
 * no longer appears and the test fails until the entry is removed. Details: test/diff/FINDINGS.md.
 */
export interface KnownDeviation {
  program: string;
  bug: string;
  qemu: string;
  typevisor: string;
}

// F2 (#PF on the fetch at a CALL target) was fixed in 4740e56; see ../diff/FINDINGS.md.
export const KNOWN_DEVIATIONS: readonly KnownDeviation[] = [];
