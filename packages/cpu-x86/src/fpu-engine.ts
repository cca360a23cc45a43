import type { FpuHost } from './fpu/fpu-host.js';

/**
 * The x87 unit as the CPU drives it (the `Fpu` class in src/fpu/fpu.ts satisfies this). ESC
 * instructions (D8-DF), FWAIT and FXSAVE/FXRSTOR are routed here after the CR0.EM/TS/MP checks.
 */
export interface FpuEngine {
  reset(): void;
  /** FWAIT: deliver a pending unmasked x87 exception. */
  fwait(host: FpuHost): void;
  execute(host: FpuHost, escape: number, modrm: number, ea: number, o32: boolean, pm: boolean,
    instructionPointer: number, codeSelector: number, dataSelector: number): void;
  /**
   * Optional direct entries for FLD m64real (DD /0) and FST/FSTP m64real (DD /2, /3): the same
   * effect as `execute` with that instruction. They return false, having done nothing, when the
   * engine wants `execute` to run it after all (the CPU then calls it).
   */
  loadF64?(host: FpuHost, ea: number, modrm: number, instructionPointer: number, codeSelector: number, dataSelector: number): boolean;
  storeF64?(host: FpuHost, ea: number, modrm: number, pop: boolean, instructionPointer: number, codeSelector: number, dataSelector: number): boolean;
  fxsave(host: FpuHost, ea: number): void;
  fxrstor(host: FpuHost, ea: number): void;
  /** Plain snapshot of the x87 state (optional: CPU snapshots then carry no FPU state). */
  saveState?(): unknown;
  restoreState?(state: never): void;
}
