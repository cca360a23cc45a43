/**
 * Machine-wide event counters, kept in one typed array indexed by named constants so that the hot
 * paths of the CPU and devices count with a single array increment and no allocation.
 */

/** Names of the fixed counters, in index order. */
export const COUNTER_NAMES = [
  'instructions',
  'instructions.alu',
  'instructions.dataTransfer',
  'instructions.branch',
  'instructions.string',
  'instructions.fpu',
  'instructions.system',
  'decodeCache.hits',
  'decodeCache.misses',
  'tlb.misses',
  'pageFaults',
  'exceptions',
  'interrupts',
  'port.reads',
  'port.writes',
  'mmio.reads',
  'mmio.writes',
  'virtio.requests',
  'virtio.bytes',
  'halts',
] as const;

/** The name of one fixed counter. */
export type CounterName = (typeof COUNTER_NAMES)[number];

/** Index of each fixed counter in {@link Counters.values}, e.g. `values[Counter.TlbMisses]++`. */
export const Counter = {
  Instructions: 0,
  InstructionsAlu: 1,
  InstructionsDataTransfer: 2,
  InstructionsBranch: 3,
  InstructionsString: 4,
  InstructionsFpu: 5,
  InstructionsSystem: 6,
  DecodeCacheHits: 7,
  DecodeCacheMisses: 8,
  TlbMisses: 9,
  PageFaults: 10,
  Exceptions: 11,
  Interrupts: 12,
  PortReads: 13,
  PortWrites: 14,
  MmioReads: 15,
  MmioWrites: 16,
  VirtioRequests: 17,
  VirtioBytes: 18,
  Halts: 19,
} as const;

/** Number of fixed counters. */
export const COUNTER_COUNT = COUNTER_NAMES.length;

/** Per-device access counts, indexed by {@link DeviceCounter}. */
export const DeviceCounter = { PortReads: 0, PortWrites: 1, MmioReads: 2, MmioWrites: 3, Requests: 4, Bytes: 5 } as const;
const DEVICE_COUNTER_NAMES = ['port.reads', 'port.writes', 'mmio.reads', 'mmio.writes', 'requests', 'bytes'] as const;

/**
 * One machine's counters. Counting is free when disabled: instrumented code holds the `values` array
 * of a disabled set, which is a zero-length array, and guards increments with `enabled`, a constant
 * for the lifetime of the set.
 */
export class Counters {
  /** Whether counting is on; fixed at construction so the check folds into a constant in hot code. */
  readonly enabled: boolean;
  /** Counter values indexed by {@link Counter}. Float64 so counts stay exact past 2^32. */
  readonly values: Float64Array;
  readonly #devices = new Map<string, Float64Array>();

  constructor(options: { enabled?: boolean } = {}) {
    this.enabled = options.enabled ?? true;
    this.values = new Float64Array(this.enabled ? COUNTER_COUNT : 0);
  }

  /** Adds `amount` (default 1) to a fixed counter. */
  add(counter: number, amount = 1): void {
    if (this.enabled) this.values[counter] += amount;
  }

  /** The value of a fixed counter (0 when disabled). */
  get(counter: number): number {
    return this.enabled ? this.values[counter] : 0;
  }

  /**
   * The counter block of one device (indexed by {@link DeviceCounter}), created on first use. Devices
   * keep the returned array and increment it directly.
   */
  device(name: string): Float64Array {
    let block = this.#devices.get(name);
    if (!block) {
      block = new Float64Array(this.enabled ? DEVICE_COUNTER_NAMES.length : 0);
      this.#devices.set(name, block);
    }
    return block;
  }

  /** Sets every counter back to zero. */
  reset(): void {
    this.values.fill(0);
    for (const block of this.#devices.values()) block.fill(0);
  }

  /** A plain-object copy: `{ "tlb.misses": 12, ..., "devices": { "uart0": { "port.reads": 3 } } }`. */
  snapshot(): CounterSnapshot {
    const fixed: Record<string, number> = {};
    COUNTER_NAMES.forEach((name, i) => (fixed[name] = this.get(i)));
    const devices: Record<string, Record<string, number>> = {};
    for (const [name, block] of this.#devices) {
      const entry: Record<string, number> = {};
      DEVICE_COUNTER_NAMES.forEach((counter, i) => (entry[counter] = block[i] ?? 0));
      devices[name] = entry;
    }
    return { counters: fixed as Record<CounterName, number>, devices };
  }
}

/** Counter values at one moment, as plain data. */
export interface CounterSnapshot {
  /** Fixed counters by name. */
  readonly counters: Readonly<Record<CounterName, number>>;
  /** Per-device counters by device name, then counter name. */
  readonly devices: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** The change of every counter between two snapshots (`later - earlier`). */
export function counterDelta(earlier: CounterSnapshot, later: CounterSnapshot): CounterSnapshot {
  const counters = {} as Record<CounterName, number>;
  for (const name of COUNTER_NAMES) counters[name] = later.counters[name] - earlier.counters[name];
  const devices: Record<string, Record<string, number>> = {};
  for (const [device, values] of Object.entries(later.devices)) {
    const before = earlier.devices[device] ?? {};
    devices[device] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v - (before[k] ?? 0)]));
  }
  return { counters, devices };
}
