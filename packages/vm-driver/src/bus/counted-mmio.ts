import type { AccessSize, IoRegion } from '@typevisor/devices';
import { Counter, DeviceCounter } from '@typevisor/perf-model';
import type { Counters } from '@typevisor/perf-model';

/**
 * Wraps an MMIO window so that its reads and writes are counted in total (`mmio.reads`,
 * `mmio.writes`) and per device (`counters.device(name)`). Without counting (a disabled or absent
 * counter set) the region itself is returned, so an uncounted machine pays nothing.
 */
export function countedMmio(region: IoRegion, counters: Counters | null, name: string): IoRegion {
  if (counters === null || !counters.enabled) return region;
  const totals = counters.values;
  const device = counters.device(name);
  return {
    read(offset: number, size: AccessSize): number {
      totals[Counter.MmioReads]++;
      device[DeviceCounter.MmioReads]++;
      return region.read(offset, size);
    },
    write(offset: number, size: AccessSize, value: number): void {
      totals[Counter.MmioWrites]++;
      device[DeviceCounter.MmioWrites]++;
      region.write(offset, size, value);
    },
  };
}
