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
export { CPU_STAT_COUNT, CpuStat } from './stats.js';
export { CPU_HOST_AREA_BYTES } from './wasm/host-area.js';
export { INSTRUCTION_CLASS_COUNT, InstructionClass } from './instruction-class.js';
export { CpuConfigurationError, CpuInternalError } from './errors.js';
export { CPU_SNAPSHOT_VERSION } from './snapshot.js';
export type { CpuSnapshot, SegmentSnapshot } from './snapshot.js';
export type { PmuSnapshot } from './system/pmu.js';
export { disassemble, disassembleRange } from './disasm/disassemble.js';
export type { DisassembleOptions, DisassembledInstruction, DisassembledLine } from './disasm/types.js';
export { Fpu } from './fpu/fpu.js';
export type { FpuHost } from './fpu/fpu-host.js';
export type { FpuRegisters } from './fpu/fpu-registers.js';
export { FPU_STATE_VERSION, FpuSnapshotError } from './fpu/fpu-state.js';
export type { FpuStateSnapshot } from './fpu/fpu-state.js';
/** The package name (kept for tooling that probes packages). */
export const PACKAGE_NAME = '@typevisor/cpu-x86';
