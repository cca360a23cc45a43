/** What went wrong when building a {@link PhysicalMemory} map. */
export type MemoryMapErrorCode =
  /** Two ROM/MMIO regions claim the same addresses. */
  | 'overlap'
  /** A region (or RAM) does not fit in the 4 GiB physical space. */
  | 'out-of-range'
  /** A size, base or length is not a usable integer (negative, fractional, zero, not page-aligned RAM). */
  | 'invalid-argument';

/**
 * Thrown at machine set-up time (never during guest execution) when the memory map is inconsistent.
 * The message names the region being added and, for overlaps, the region it collides with, so the
 * fix (move or shrink one of them) is obvious.
 *
 * @example
 * ```ts
 * declare const memory: PhysicalMemory, apic: MmioHandler;
 * try { memory.addMmio(guestPhys(0xfee00000), 0x1000, apic, 'lapic'); }
 * catch (e) { if (e instanceof MemoryMapError && e.code === 'overlap') console.error(e.message); }
 * ```
 */
export class MemoryMapError extends Error {
  /** The kind of failure. */
  readonly code: MemoryMapErrorCode;
  /** Name of the region that was being added (`'ram'` for the RAM size check). */
  readonly region: string;
  /** Name of the existing region it overlaps, for `code === 'overlap'`; otherwise `null`. */
  readonly conflictsWith: string | null;

  constructor(code: MemoryMapErrorCode, region: string, message: string, conflictsWith: string | null = null) {
    super(message);
    this.name = 'MemoryMapError';
    this.code = code;
    this.region = region;
    this.conflictsWith = conflictsWith;
  }
}
