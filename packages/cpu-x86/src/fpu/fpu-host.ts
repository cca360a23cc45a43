/**
 * What the x87 FPU needs from the CPU core. Addresses are linear (segment already applied).
 *
 * Memory accessors may throw the CPU's fault sentinel (#PF/#GP); the FPU performs every guest read
 * of an instruction before it changes any architectural state, and every guest write before it
 * commits register/stack changes, so a faulting instruction can be restarted.
 */
export interface FpuHost {
  read8(linear: number): number;
  read16(linear: number): number;
  read32(linear: number): number;
  write8(linear: number, v: number): void;
  write16(linear: number, v: number): void;
  write32(linear: number, v: number): void;
  /** Raise a CPU exception (e.g. #MF = 16, #UD = 6); does not return (throws the CPU's fault sentinel). */
  raise(vector: number): never;
  /** CR0.NE set -> #MF exception path, else IGNNE/IRQ13 (report via raise or signal). */
  readonly cr0: number;
  /**
   * FCOMI/FCOMIP/FUCOMI/FUCOMIP result: set EFLAGS.ZF, PF and CF as given and clear OF, SF and AF.
   * Optional so older hosts still type-check; without it those instructions raise #UD.
   */
  setEflagsZPC?(zf: boolean, pf: boolean, cf: boolean): void;
  /** Current EFLAGS (FCMOVcc conditions). Optional; without it FCMOVcc raises #UD. */
  readEflags?(): number;
  /** FNSTSW AX (DF E0): write the 16-bit value into AX. Optional; without it FNSTSW AX raises #UD. */
  setAx?(value: number): void;
  /**
   * Legacy FPU error reporting (CR0.NE = 0): a waiting instruction found an unmasked exception
   * pending, so FERR# is asserted (a PC routes it to IRQ 13). The instruction then proceeds as if
   * IGNNE# were asserted. Optional; without it the pending exception is ignored when CR0.NE = 0.
   */
  signalFerr?(): void;
}
