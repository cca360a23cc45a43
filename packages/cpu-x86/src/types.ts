/** Port I/O as the CPU sees it: IN/OUT/INS/OUTS land here with the access width. */
export interface PortIoBus {
  read(port: number, size: 1 | 2 | 4): number;
  write(port: number, size: 1 | 2 | 4, value: number): void;
}

/** The INTR line and INTA cycle: `hasInterrupt()` is polled when EFLAGS.IF allows it, `acknowledge()` returns the vector. */
export interface InterruptSource {
  hasInterrupt(): boolean;
  acknowledge(): number;
}

/** Where RDTSC reads time from: TSC cycles as an integral float64. */
export interface TimeSource {
  readTsc(): number;
}

/** Why {@link Cpu.run} returned. */
export type StopReason = 'budget' | 'halt' | 'exception' | 'shutdown';

/** The architectural registers exposed to embedders (segment registers are selectors). */
export interface Registers {
  eax: number; ecx: number; edx: number; ebx: number;
  esp: number; ebp: number; esi: number; edi: number;
  eip: number; eflags: number;
  cs: number; ds: number; es: number; fs: number; gs: number; ss: number;
  cr0: number; cr2: number; cr3: number; cr4: number;
}

/** An exception the CPU stopped on (stopOnException) or the one that caused a triple fault. */
export interface ExceptionRecord {
  readonly vector: number;
  readonly errorCode: number | null;
}
