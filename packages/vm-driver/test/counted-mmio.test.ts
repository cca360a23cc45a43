import { describe, expect, it } from 'vitest';
import { Counters } from '@typevisor/perf-model';
import type { IoRegion } from '@typevisor/devices';
import { countedMmio } from '../src/bus/counted-mmio.js';

const region: IoRegion = { read: (offset) => offset + 1, write: () => undefined };

describe('countedMmio', () => {
  it('counts reads and writes in total and per device, and passes accesses through', () => {
    const counters = new Counters();
    const counted = countedMmio(region, counters, 'virtio-blk0');
    expect(counted.read(4, 4)).toBe(5);
    counted.write(0, 4, 1);
    counted.write(0, 4, 2);
    const snapshot = counters.snapshot();
    expect(snapshot.counters['mmio.reads']).toBe(1);
    expect(snapshot.counters['mmio.writes']).toBe(2);
    expect(snapshot.devices['virtio-blk0']).toMatchObject({ 'mmio.reads': 1, 'mmio.writes': 2 });
  });

  it('costs nothing without counting: the region itself is used', () => {
    expect(countedMmio(region, null, 'x')).toBe(region);
    expect(countedMmio(region, new Counters({ enabled: false }), 'x')).toBe(region);
  });
});
