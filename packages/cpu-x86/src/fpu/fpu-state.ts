/** Current layout version of {@link FpuStateSnapshot}. */
export const FPU_STATE_VERSION = 1;

/**
 * Plain-data snapshot of the whole x87 state (JSON/structured-clone friendly).
 * Registers are listed by physical index (not ST order).
 */
export interface FpuStateSnapshot {
  readonly version: typeof FPU_STATE_VERSION;
  /** Sign | biased exponent of physical registers 0-7. */
  readonly signExponent: readonly number[];
  /** Significand bits 63..32 of physical registers 0-7. */
  readonly significandHigh: readonly number[];
  /** Significand bits 31..0 of physical registers 0-7. */
  readonly significandLow: readonly number[];
  /** Bit i set: physical register i is empty. */
  readonly emptyMask: number;
  readonly controlWord: number;
  /** Status word including TOP in bits 11-13 (ES/B are derived on restore). */
  readonly statusWord: number;
  readonly lastInstructionPointer: number;
  readonly lastCodeSelector: number;
  readonly lastDataPointer: number;
  readonly lastDataSelector: number;
  readonly lastOpcode: number;
}

/** Thrown by restoreState() for a snapshot this version cannot read. */
export class FpuSnapshotError extends Error {
  constructor(message: string) {
    super(`${message} (take a fresh snapshot with this version of @typevisor/cpu-x86)`);
    this.name = 'FpuSnapshotError';
  }
}
