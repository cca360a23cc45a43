/**
 * Named indices of the machine's performance counters, kept in one Float64Array so the run loop
 * updates them without allocating. (They are local because @typevisor/perf-model's counter types
 * were not settled when this was written; the names are stable so a perf-model adapter can read them.)
 */
export const MachineCounter = {
  /** Guest instructions retired. */
  instructions: 0,
  /** CPU run() slices. */
  slices: 1,
  /** Times the guest halted with nothing to do. */
  idleHalts: 2,
  /** Host milliseconds spent sleeping while the guest was idle. */
  idleHostMs: 3,
  /** Virtual nanoseconds skipped while idle (deterministic mode). */
  skippedNs: 4,
  /** Timer callbacks fired. */
  timersFired: 5,
  /** Port-I/O accesses. */
  portAccesses: 6,
  /** Interrupts acknowledged by the CPU (INTA cycles). */
  interrupts: 7,
  /** Host milliseconds spent running guest code. */
  runHostMs: 8,
  /** Real-time mode: host stall milliseconds hidden from the guest's clock. */
  hiddenStallMs: 9,
} as const;

/** Name of one {@link MachineCounter}. */
export type MachineCounterName = keyof typeof MachineCounter;

/** Number of counters. */
export const MACHINE_COUNTER_COUNT = 10;

/** Reads the counters into a plain object (for reports and `--verbose`). */
export function countersToObject(counters: Float64Array): Record<MachineCounterName, number> {
  const out = {} as Record<MachineCounterName, number>;
  for (const [name, index] of Object.entries(MachineCounter) as [MachineCounterName, number][]) out[name] = counters[index]!;
  return out;
}
