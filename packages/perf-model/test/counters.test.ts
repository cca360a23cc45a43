import { describe, expect, it } from 'vitest';
import { COUNTER_COUNT, COUNTER_NAMES, Counter, Counters, DeviceCounter, counterDelta } from '@typevisor/perf-model';

describe('Counters', () => {
  it('has one named slot per counter constant', () => {
    expect(Object.keys(Counter)).toHaveLength(COUNTER_COUNT);
    expect(new Set(Object.values(Counter)).size).toBe(COUNTER_COUNT);
    expect(COUNTER_NAMES[Counter.TlbMisses]).toBe('tlb.misses');
  });

  it('counts by direct array increments and by add()', () => {
    const c = new Counters();
    c.values[Counter.Instructions] += 1000;
    c.add(Counter.TlbMisses);
    c.add(Counter.TlbMisses, 4);
    expect(c.get(Counter.Instructions)).toBe(1000);
    expect(c.snapshot().counters['tlb.misses']).toBe(5);
  });

  it('stays exact beyond 32 bits', () => {
    const c = new Counters();
    c.add(Counter.Instructions, 2 ** 40);
    c.add(Counter.Instructions, 1);
    expect(c.get(Counter.Instructions)).toBe(2 ** 40 + 1);
  });

  it('costs nothing when disabled: no storage, reads are zero', () => {
    const c = new Counters({ enabled: false });
    expect(c.values.length).toBe(0);
    c.add(Counter.Interrupts, 3);
    expect(c.get(Counter.Interrupts)).toBe(0);
    expect(c.device('uart0').length).toBe(0);
  });

  it('keeps per-device blocks and reports deltas between snapshots', () => {
    const c = new Counters();
    const uart = c.device('uart0');
    expect(c.device('uart0')).toBe(uart);
    uart[DeviceCounter.PortWrites] += 7;
    const before = c.snapshot();
    uart[DeviceCounter.PortWrites] += 3;
    c.add(Counter.PortWrites, 3);
    const delta = counterDelta(before, c.snapshot());
    expect(delta.devices.uart0['port.writes']).toBe(3);
    expect(delta.counters['port.writes']).toBe(3);
    c.reset();
    expect(c.snapshot().devices.uart0['port.writes']).toBe(0);
  });
});
