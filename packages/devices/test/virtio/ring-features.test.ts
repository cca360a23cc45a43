import { describe, expect, it } from 'vitest';
import {
  BufferCharBackend,
  ConsoleQueue,
  CryptoEntropySource,
  FeatureSet,
  InterruptBit,
  MmioRegister,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VirtioConsole,
  VirtioFeature,
  VirtioRng,
} from '@typevisor/devices';
import { rig } from './harness.js';

function rngRig(features: number[]) {
  const r = rig(new VirtioRng({ source: new CryptoEntropySource() }));
  r.driver.init({ features: () => FeatureSet.of(VirtioFeature.VERSION_1, ...features) });
  return r;
}

describe('split virtqueue notification suppression and indirect descriptors', () => {
  it('VIRTQ_AVAIL_F_NO_INTERRUPT suppresses used-buffer interrupts (no EVENT_IDX)', () => {
    const { driver, irq } = rngRig([]);
    driver.queue(0).setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT);
    driver.submit(0, [{ writable: 8 }]);
    driver.kick(0);
    expect(driver.takeUsed(0).length).toBe(1);
    expect(irq.level).toBe(false);
    driver.queue(0).setAvailFlags(0);
    driver.submit(0, [{ writable: 8 }]);
    driver.kick(0);
    expect(irq.level).toBe(true);
  });

  it('EVENT_IDX: interrupts only when used idx passes used_event', () => {
    const { driver, transport } = rngRig([VirtioFeature.RING_EVENT_IDX]);
    const queue = driver.queue(0);
    queue.setUsedEvent(2); // interrupt when the used entry with index 2 is published
    for (let i = 0; i < 2; i++) {
      driver.submit(0, [{ writable: 4 }]);
      driver.kick(0);
      expect(driver.readRegister(MmioRegister.INTERRUPT_STATUS)).toBe(0);
    }
    driver.submit(0, [{ writable: 4 }]);
    driver.kick(0);
    expect(driver.readRegister(MmioRegister.INTERRUPT_STATUS)).toBe(InterruptBit.USED_BUFFER);
    expect(transport.stats.usedInterrupts).toBe(1);
    expect(driver.takeUsed(0).length).toBe(3);
  });

  it('EVENT_IDX: the device publishes avail_event so the driver knows when to notify', () => {
    const { driver } = rngRig([VirtioFeature.RING_EVENT_IDX]);
    for (let i = 0; i < 3; i++) {
      driver.submit(0, [{ writable: 4 }]);
      driver.kick(0);
    }
    expect(driver.queue(0).availEvent()).toBe(3);
  });

  it('VIRTQ_USED_F_NO_NOTIFY is clear whenever the device is idle (it wants notifications)', () => {
    const { driver } = rngRig([]);
    driver.submit(0, [{ writable: 4 }]);
    driver.kick(0);
    expect(driver.queue(0).usedFlags()).toBe(0);
  });

  it('serves chains from indirect tables mixed with direct chains', () => {
    const backend = new BufferCharBackend();
    const r = rig(new VirtioConsole({ backend }));
    r.driver.init();
    r.driver.submit(ConsoleQueue.TX, [{ readable: new TextEncoder().encode('in') }, { readable: new TextEncoder().encode('direct ') }], { indirect: true });
    r.driver.submit(ConsoleQueue.TX, [{ readable: new TextEncoder().encode('and direct') }]);
    r.driver.kick(ConsoleQueue.TX);
    expect(backend.text()).toBe('indirect and direct');
    expect(r.driver.takeUsed(ConsoleQueue.TX).length).toBe(2);
  });

  it('an indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC negotiated puts the device in NEEDS_RESET', () => {
    const { driver, transport } = rngRig([]);
    driver.submit(0, [{ writable: 4 }], { indirect: true });
    driver.kick(0);
    expect(transport.status & 64).toBe(64);
    expect(transport.lastError).toContain('indirect');
  });
});
