import type { AccessSize, IoRegion } from '@typevisor/devices';
import { Counter, DeviceCounter } from '@typevisor/perf-model';
import type { Counters } from '@typevisor/perf-model';

/** One device window on the port bus: `size` ports from `base`, handled by `region` with offsets. */
export interface PortMapping {
  readonly base: number;
  readonly size: number;
  readonly region: IoRegion;
  /** Device name, for conflicts and `--verbose`. */
  readonly name: string;
}

/** Raised when two device windows claim the same port or address. */
export class BusConflictError extends Error {
  override readonly name = 'BusConflictError';
}

const PORT_COUNT = 0x1_0000;

/**
 * The x86 I/O port space: 64 Ki ports, each owned by at most one {@link IoRegion}. Dispatch is one
 * typed-array lookup (port -> window index) and one call, with no allocation; unclaimed ports read
 * all ones and ignore writes, like an ISA bus cycle nobody answers. It implements cpu-x86's
 * `PortIoBus`. With a perf-model {@link Counters} set, reads and writes are counted in total
 * (`port.reads`, `port.writes`) and per device window (`counters.device(name)`).
 */
export class PortBus {
  /** window index + 1 per port; 0 = unclaimed. */
  private readonly owner = new Uint16Array(PORT_COUNT);
  private readonly windows: PortMapping[] = [];
  /** Per window: its perf-model device counter block (empty when not counting). */
  private readonly windowCounters: Float64Array[] = [];
  private readonly counting: boolean;
  private readonly totals: Float64Array;
  /** Total port reads and writes. */
  accesses = 0;

  constructor(private readonly counters: Counters | null = null) {
    this.counting = counters !== null && counters.enabled;
    this.totals = counters?.values ?? new Float64Array(0);
  }

  /** Maps a window; throws {@link BusConflictError} if any of its ports is taken. */
  map(mapping: PortMapping): void {
    const { base, size, name } = mapping;
    if (!Number.isInteger(base) || !Number.isInteger(size) || size <= 0 || base < 0 || base + size > PORT_COUNT) {
      throw new RangeError(`port window ${name} (${base}+${size}) is outside 0..0xFFFF`);
    }
    for (let port = base; port < base + size; port++) {
      const taken = this.owner[port]!;
      if (taken !== 0) {
        const other = this.windows[taken - 1]!;
        throw new BusConflictError(`port 0x${port.toString(16)} of ${name} is already used by ${other.name}`);
      }
    }
    this.windows.push(mapping);
    this.windowCounters.push(this.counting ? this.counters!.device(name) : new Float64Array(0));
    this.owner.fill(this.windows.length, base, base + size);
  }

  /** The mapped windows, in mapping order. */
  mappings(): readonly PortMapping[] {
    return this.windows;
  }

  read(port: number, size: AccessSize): number {
    this.accesses++;
    const index = this.owner[port & 0xffff]!;
    if (this.counting) this.totals[Counter.PortReads]++;
    if (index === 0) return size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
    if (this.counting) this.windowCounters[index - 1]![DeviceCounter.PortReads]++;
    const window = this.windows[index - 1]!;
    return window.region.read((port & 0xffff) - window.base, size);
  }

  write(port: number, size: AccessSize, value: number): void {
    this.accesses++;
    const index = this.owner[port & 0xffff]!;
    if (this.counting) this.totals[Counter.PortWrites]++;
    if (index === 0) return;
    if (this.counting) this.windowCounters[index - 1]![DeviceCounter.PortWrites]++;
    const window = this.windows[index - 1]!;
    window.region.write((port & 0xffff) - window.base, size, value);
  }
}
