import { describe, expect, it } from 'vitest';
import { PhysicalMemory, guestPhys, type GuestPhys } from '@typevisor/mmu';
import { CryptoEntropySource, VirtioMmioTransport, VirtioRng } from '@typevisor/devices';
import { FakeGuestMemory, ManualClock, RecordingIrqLine, VirtioTestDriver } from '@typevisor/devices/testing';

describe('testing kit', () => {
  it('FakeGuestMemory: short block transfers at holes, read-only ranges and the end of RAM', () => {
    const memory = new FakeGuestMemory({ size: 0x1000 });
    memory.addHole(0x800, 0x100);
    memory.addReadOnly(0x400, 0x10);
    expect(memory.readBytes(0x7f0 as GuestPhys, new Uint8Array(0x20))).toBe(0x10);
    expect(memory.readBytes(0x800 as GuestPhys, new Uint8Array(4))).toBe(0);
    expect(memory.read32(0x800 as GuestPhys)).toBe(0xffff_ffff);
    expect(memory.writeBytes(0x3f8 as GuestPhys, new Uint8Array(16).fill(1))).toBe(8);
    expect(memory.readBytes(0x400 as GuestPhys, new Uint8Array(16))).toBe(16);
    expect(memory.writeBytes(0xffc as GuestPhys, new Uint8Array(16))).toBe(4);
    expect(memory.readBytes(0x2000 as GuestPhys, new Uint8Array(1))).toBe(0);
    memory.write32(0x10 as GuestPhys, 0xdeadbeef);
    expect(memory.read16(0x12 as GuestPhys)).toBe(0xdead);
  });

  it('ManualClock fires due timers in deadline order and skips cancelled ones', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(100, () => {
      fired.push(`a@${clock.now()}`);
      clock.setTimer(150, () => fired.push(`nested@${clock.now()}`));
    });
    const cancelled = clock.setTimer(200, () => fired.push('cancelled'));
    cancelled.cancel();
    clock.advance(250);
    expect(fired).toEqual(['a@100', 'nested@150']);
    expect(clock.now()).toBe(250);
    expect(clock.pendingTimers).toBe(1);
    clock.advanceTo(300);
    expect(fired).toEqual(['a@100', 'nested@150', 'c@300']);
  });

  it('RecordingIrqLine records levels and rising edges', () => {
    const irq = new RecordingIrqLine();
    irq.setLevel(true);
    irq.setLevel(true);
    irq.setLevel(false);
    irq.setLevel(true);
    expect(irq.history).toEqual([true, true, false, true]);
    expect(irq.rises).toBe(2);
    expect(irq.level).toBe(true);
  });

  it('the test driver works over the real mmu PhysicalMemory, with the device mapped as MMIO', () => {
    const memory = new PhysicalMemory({ ramSize: 1 << 20 });
    const irq = new RecordingIrqLine();
    const transport = new VirtioMmioTransport({ device: new VirtioRng({ source: new CryptoEntropySource() }), memory, irq });
    memory.addMmio(guestPhys(0xd000_0000), 0x1000, transport, 'virtio-rng');
    expect(memory.readPhys32(0xd000_0000)).toBe(0x74726976);
    const driver = new VirtioTestDriver({ transport, memory, heapBase: 0x10000, heapSize: 0x80000 });
    driver.init();
    driver.submit(0, [{ writable: 64 }]);
    driver.kick(0);
    const [used] = driver.takeUsed(0);
    expect(used?.length).toBe(64);
    expect(irq.level).toBe(true);
  });
});
