/**
 * @packageDocumentation
 * `@typevisor/cpu-x86`: an i686 (P6-class) x86 interpreter. Create a {@link Cpu} over a
 * `PhysicalMemory` from `@typevisor/mmu`, a {@link PortIoBus} and optionally an
 * {@link InterruptSource}, then call {@link Cpu.run} with an instruction budget.
 */
export { Cpu } from './cpu.js';
export type { CpuOptions } from './cpu.js';
export type { ExceptionRecord, InterruptSource, PortIoBus, Registers, StopReason, TimeSource } from './types.js';
export type { CpuMemory, CpuPaging } from './memory-ports.js';
export type { FpuEngine } from './fpu-engine.js';
export { CpuConfigurationError, CpuInternalError } from './errors.js';
/** The package name (kept for tooling that probes packages). */
export const PACKAGE_NAME = '@typevisor/cpu-x86';
