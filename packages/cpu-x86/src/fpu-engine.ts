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
  fxsave(host: FpuHost, ea: number): void;
  fxrstor(host: FpuHost, ea: number): void;
  /** Plain snapshot of the x87 state (optional: CPU snapshots then carry no FPU state). */
  saveState?(): unknown;
  restoreState?(state: never): void;
}
