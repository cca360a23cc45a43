import type { PhysicalMemory } from '@typevisor/mmu';

/**
 * Why {@link CpuEngine.run} returned: the budget ran out, the CPU executed HLT, an exception stopped
 * it (only in stop-on-exception mode), or it shut down (triple fault). Same values as cpu-x86.
 */
export type CpuStopReason = 'budget' | 'halt' | 'exception' | 'shutdown';

/** The port-I/O bus the CPU sees (cpu-x86 `PortIoBus`). */
export interface CpuPortBus {
  read(port: number, size: 1 | 2 | 4): number;
  write(port: number, size: 1 | 2 | 4, value: number): void;
}

/** The INTR line and INTA cycle (cpu-x86 `InterruptSource`). */
export interface CpuInterruptSource {
  hasInterrupt(): boolean;
  acknowledge(): number;
}

/** What the machine hands a CPU engine when it creates it. */
export interface CpuEngineContext {
  readonly memory: PhysicalMemory;
  readonly io: CpuPortBus;
  readonly interrupts: CpuInterruptSource;
  /** TSC source (cpu-x86 `TimeSource`). */
  readonly time: { readTsc(): number };
  /** A performance counter with its INT bit overflowed (cpu-x86 `onPerformanceInterrupt`): the LAPIC's LVT PC entry. */
  readonly onPerformanceInterrupt: () => void;
}

/**
 * The small interface the machine drives a CPU through, in the spirit of Cloud Hypervisor's `Vcpu`:
 * cpu-x86's `Cpu` implements it structurally, and a test can slot in a fake.
 */
export interface CpuEngine {
  /** Power-on state: real mode at the reset vector (F000:FFF0). */
  reset(): void;
  /** Runs at most `budget` instructions. Never throws for anything the guest does. */
  run(budget: number): CpuStopReason;
  /** Instructions retired since reset (float64). */
  readonly instructionsRetired: number;
  /** After 'exception' or 'shutdown': the exception that caused it. */
  readonly lastException: { readonly vector: number; readonly errorCode: number | null } | null;
  /** The A20 gate (port 0x92, i8042). */
  setA20(enabled: boolean): void;
  /** Raises an NMI (LINT1 or an I/O APIC NMI). */
  raiseNmi?(): void;
  /** An interrupt became pending: finish the current block soon so it is taken promptly. */
  notifyInterrupt?(): void;
  /**
   * End the run() in progress after the current instruction (it returns 'budget' early); dropped
   * outside run(). Without it a timer armed inside a slice fires at the slice's end.
   */
  requestStop?(): void;
  /** Register values for error messages (EIP, CS, CR0 ...). */
  getRegisters?(): CpuRegisterSummary;
  /** Event statistics indexed by cpu-x86 `CpuStat`; they only grow (the machine adds differences to perf counters). */
  readonly stats?: ArrayLike<number>;
  /** Retired instructions by cpu-x86 `InstructionClass`, while {@link CpuEngine.countInstructionMix} is on. */
  readonly instructionMix?: ArrayLike<number>;
  /** Whether the engine counts {@link CpuEngine.instructionMix}; absent when it cannot. */
  countInstructionMix?: boolean;
}

/** The registers the machine shows when the guest dies (cpu-x86 `Registers` has them all). */
export interface CpuRegisterSummary {
  readonly eip: number;
  readonly cs: number;
  readonly eflags: number;
  readonly cr0: number;
  readonly cr2: number;
  readonly cr3: number;
}

/** Creates the CPU engine of a machine. */
export type CpuEngineFactory = (context: CpuEngineContext) => CpuEngine;
