import { describe, expect, it } from 'vitest';
import {
  CryptoEntropySource,
  DeviceStatus,
  FeatureSet,
  InterruptBit,
  MmioRegister,
  TYPEVISOR_VENDOR_ID,
  VIRTIO_MMIO_MAGIC,
  VirtioConsole,
  VirtioDeviceId,
  VirtioFeature,
  VirtioRng,
  BufferCharBackend,
  DeviceStateError,
} from '@typevisor/devices';
import { TestQueue } from '@typevisor/devices/testing';
import { rig } from './harness.js';

function rngRig() {
  return rig(new VirtioRng({ source: new CryptoEntropySource() }));
}

describe('virtio-mmio transport', () => {
  it('identifies itself as a version 2 virtio-mmio device', () => {
    const { driver } = rngRig();
    expect(driver.readRegister(MmioRegister.MAGIC_VALUE)).toBe(VIRTIO_MMIO_MAGIC);
    expect(driver.readRegister(MmioRegister.VERSION)).toBe(2);
    expect(driver.readRegister(MmioRegister.DEVICE_ID)).toBe(VirtioDeviceId.ENTROPY);
    expect(driver.readRegister(MmioRegister.VENDOR_ID)).toBe(TYPEVISOR_VENDOR_ID);
  });

  it('offers VERSION_1 in the high feature word and exposes both words through DeviceFeaturesSel', () => {
    const { driver } = rngRig();
    const offered = driver.deviceFeatures();
    expect(offered.has(VirtioFeature.VERSION_1)).toBe(true);
    expect(offered.high & 1).toBe(1);
    expect(offered.has(VirtioFeature.RING_EVENT_IDX)).toBe(true);
    driver.writeRegister(MmioRegister.DEVICE_FEATURES_SEL, 7);
    expect(driver.readRegister(MmioRegister.DEVICE_FEATURES)).toBe(0);
  });

  it('runs the full initialization sequence to DRIVER_OK', () => {
    const { driver, transport } = rngRig();
    driver.init();
    expect(driver.status).toBe(
      DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK,
    );
    expect(transport.active).toBe(true);
    driver.writeRegister(MmioRegister.QUEUE_SEL, 0);
    expect(driver.readRegister(MmioRegister.QUEUE_READY)).toBe(1);
    expect(driver.readRegister(MmioRegister.QUEUE_NUM_MAX)).toBe(64);
    driver.writeRegister(MmioRegister.QUEUE_SEL, 1);
    expect(driver.readRegister(MmioRegister.QUEUE_NUM_MAX)).toBe(0);
  });

  it('does not latch FEATURES_OK when the driver accepts a feature the device does not offer', () => {
    const { driver, transport } = rngRig();
    const features = FeatureSet.of(VirtioFeature.VERSION_1, 40);
    expect(driver.negotiate(features)).toBe(false);
    expect(driver.status & DeviceStatus.FEATURES_OK).toBe(0);
    expect(driver.status & DeviceStatus.DRIVER).toBe(DeviceStatus.DRIVER);
    expect(transport.stats.featureNegotiationFailures).toBe(1);
  });

  it('does not latch FEATURES_OK without VIRTIO_F_VERSION_1 (no legacy interface)', () => {
    const { driver } = rngRig();
    expect(driver.negotiate(FeatureSet.of(VirtioFeature.RING_EVENT_IDX))).toBe(false);
    expect(driver.negotiate(FeatureSet.of(VirtioFeature.VERSION_1))).toBe(true);
  });

  it('refuses DRIVER_OK before FEATURES_OK and counts it', () => {
    const { driver, transport } = rngRig();
    driver.reset();
    driver.addStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
    driver.addStatus(DeviceStatus.DRIVER_OK);
    expect(driver.status & DeviceStatus.DRIVER_OK).toBe(0);
    expect(transport.stats.illegalStateWrites).toBe(1);
  });

  it('ignores a status write that clears bits, and resets on 0', () => {
    const { driver, transport } = rngRig();
    driver.init();
    driver.writeRegister(MmioRegister.STATUS, DeviceStatus.ACKNOWLEDGE);
    expect(driver.status & DeviceStatus.DRIVER_OK).toBe(DeviceStatus.DRIVER_OK);
    expect(transport.stats.illegalStateWrites).toBe(1);
    driver.writeRegister(MmioRegister.STATUS, 0);
    expect(driver.status).toBe(0);
    driver.writeRegister(MmioRegister.QUEUE_SEL, 0);
    expect(driver.readRegister(MmioRegister.QUEUE_READY)).toBe(0);
    expect(transport.negotiatedFeatures.low).toBe(0);
    expect(transport.active).toBe(false);
  });

  it('reset clears pending interrupts and lowers the line', () => {
    const { driver, irq } = rngRig();
    driver.init();
    driver.submit(0, [{ writable: 8 }]);
    driver.kick(0);
    expect(irq.level).toBe(true);
    driver.reset();
    expect(driver.readRegister(MmioRegister.INTERRUPT_STATUS)).toBe(0);
    expect(irq.level).toBe(false);
  });

  it('holds the level interrupt while InterruptStatus is non-zero and drops it on ACK', () => {
    const { driver, irq } = rngRig();
    driver.init();
    driver.submit(0, [{ writable: 8 }]);
    driver.kick(0);
    expect(driver.readRegister(MmioRegister.INTERRUPT_STATUS)).toBe(InterruptBit.USED_BUFFER);
    expect(irq.level).toBe(true);
    driver.writeRegister(MmioRegister.INTERRUPT_ACK, InterruptBit.USED_BUFFER);
    expect(irq.level).toBe(false);
    expect(irq.rises).toBe(1);
  });

  it('bumps ConfigGeneration and raises a config-change interrupt when the config changes', () => {
    const backend = new BufferCharBackend();
    const { driver, irq, device } = rig(new VirtioConsole({ backend, cols: 80, rows: 25 }));
    driver.init();
    const before = driver.readRegister(MmioRegister.CONFIG_GENERATION);
    device.resize(132, 43);
    expect(driver.readRegister(MmioRegister.CONFIG_GENERATION)).toBe(before + 1);
    expect(driver.readRegister(MmioRegister.INTERRUPT_STATUS) & InterruptBit.CONFIG_CHANGE).toBe(InterruptBit.CONFIG_CHANGE);
    expect(irq.level).toBe(true);
    expect(driver.readConfig(0, 2)).toBe(132);
    expect(driver.readConfig(2, 2)).toBe(43);
  });

  it('saves and restores transport and queue state into a fresh transport', () => {
    const a = rngRig();
    a.driver.init();
    a.driver.submit(0, [{ writable: 4 }]);
    a.driver.kick(0);
    const state = a.transport.saveState();
    const json = JSON.parse(JSON.stringify(state)) as typeof state;

    const b = rngRig();
    b.memory.bytes.set(a.memory.bytes);
    b.transport.restoreState(json);
    expect(b.transport.status).toBe(a.transport.status);
    expect(b.transport.interruptStatus).toBe(a.transport.interruptStatus);
    expect(b.irq.level).toBe(true);
    expect(b.transport.queue(0).saveState()).toEqual(a.transport.queue(0).saveState());
    expect(b.transport.negotiatedFeatures).toEqual(a.transport.negotiatedFeatures);

    // The restored device keeps serving the same rings.
    const old = a.driver.queue(0);
    const queue = new TestQueue(b.memory, 0, old.size, old.descriptorTable, old.availRing, old.usedRing);
    queue.availIdx = 1;
    queue.writeDescriptor(5, 0x7000, 32, 2, 0);
    queue.pushAvail(5);
    b.driver.kick(0);
    expect(queue.usedIdx()).toBe(2);
  });

  it('rejects a snapshot of another device kind with a typed error', () => {
    const a = rngRig();
    const b = rig(new VirtioConsole({ backend: new BufferCharBackend() }));
    expect(() => b.transport.restoreState(a.transport.saveState())).toThrow(DeviceStateError);
    expect(() => b.transport.restoreState({ kind: 'virtio-mmio', version: 99, data: {} })).toThrow(DeviceStateError);
    a.driver.init();
    const state = a.transport.saveState();
    const queues = (state.data['queues'] as { descriptorTable: number }[]).map((q) => ({ ...q, descriptorTable: 0x1008 }));
    expect(() => a.transport.restoreState({ ...state, data: { ...state.data, queues } })).toThrow(/not 16-byte aligned/);
  });
});

describe('queue totals (metrics for perf-model)', () => {
  it('counts the chains a device completes and the bytes it wrote, over all queues', () => {
    const { driver, transport } = rig(new VirtioRng({ source: { fill: (dst: Uint8Array) => dst.fill(7) } }));
    expect(transport.queueTotals()).toEqual({ requests: 0, bytes: 0 });
    driver.init();
    driver.submit(0, [{ writable: 32 }]);
    driver.submit(0, [{ writable: 100 }]);
    driver.kick(0);
    expect(driver.takeUsed(0)).toHaveLength(2);
    expect(transport.queueTotals()).toEqual({ requests: 2, bytes: 132 });
  });
});
