import { describe, expect, it } from 'vitest';
import {
  BlockRequestType,
  CryptoEntropySource,
  DescriptorFlag,
  DeviceStatus,
  InterruptBit,
  MemoryBlockBackend,
  MmioRegister,
  NET_HEADER_SIZE,
  NetQueue,
  VirtioBlock,
  VirtioNet,
  VirtioRng,
  LoopbackNetBackend,
  type VirtioDevice,
} from '@typevisor/devices';
import type { GuestPhys } from '@typevisor/mmu';
import { rig, u32le, type Rig } from './harness.js';

const { NEXT, WRITE, INDIRECT } = DescriptorFlag;
/** A scratch area of guest RAM the tests use for raw buffers and tables. */
const SCRATCH = 0x60_0000;

function rngRig(queueSize = 8): Rig<VirtioRng> {
  const r = rig(new VirtioRng({ source: new CryptoEntropySource(), queueSize }));
  r.driver.init();
  return r;
}

/** Runs `action` (guest activity) and asserts that no host exception escaped. */
function guest(action: () => void): void {
  expect(action).not.toThrow();
}

/** The spec behaviour for a malformed queue: DEVICE_NEEDS_RESET + configuration-change interrupt. */
function expectNeedsReset<D extends VirtioDevice>(r: Rig<D>, reason: string): void {
  expect(r.transport.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(DeviceStatus.DEVICE_NEEDS_RESET);
  expect(r.transport.interruptStatus & InterruptBit.CONFIG_CHANGE).toBe(InterruptBit.CONFIG_CHANGE);
  expect(r.irq.level).toBe(true);
  expect(r.transport.stats.queueErrors).toBe(1);
  expect(r.transport.stats.internalErrors).toBe(0);
  expect(r.transport.lastError).toContain(reason);
}

function expectHealthy<D extends VirtioDevice>(r: Rig<D>): void {
  expect(r.transport.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(0);
  expect(r.transport.stats.internalErrors).toBe(0);
}

function writeTableEntry(r: Rig<VirtioDevice>, table: number, index: number, addr: number, len: number, flags: number, next: number): void {
  const at = table + 16 * index;
  r.memory.write32(at as GuestPhys, addr);
  r.memory.write32((at + 4) as GuestPhys, 0);
  r.memory.write32((at + 8) as GuestPhys, len);
  r.memory.write16((at + 12) as GuestPhys, flags);
  r.memory.write16((at + 14) as GuestPhys, next);
}

describe('hostile guest: malformed descriptor chains', () => {
  it('descriptor loop: a descriptor whose next is itself', () => {
    const r = rngRig();
    const q = r.driver.queue(0);
    q.writeDescriptor(3, SCRATCH, 16, WRITE | NEXT, 3);
    q.pushAvail(3);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'longer than the queue');
  });

  it('chain longer than the queue: a cycle through every descriptor', () => {
    const r = rngRig(8);
    const q = r.driver.queue(0);
    for (let i = 0; i < 8; i++) q.writeDescriptor(i, SCRATCH + 64 * i, 16, WRITE | NEXT, (i + 1) % 8);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'longer than the queue');
  });

  it('a chain using every descriptor exactly once is legal', () => {
    const r = rngRig(8);
    const q = r.driver.queue(0);
    for (let i = 0; i < 8; i++) q.writeDescriptor(i, SCRATCH + 64 * i, 16, WRITE | (i < 7 ? NEXT : 0), i + 1);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectHealthy(r);
    expect(q.usedIdx()).toBe(1);
  });

  it('descriptor index out of range: head and next beyond the queue size', () => {
    const r = rngRig(8);
    const q = r.driver.queue(0);
    q.writeDescriptor(0, SCRATCH, 16, WRITE | NEXT, 200);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'index out of range');

    const s = rngRig(8);
    s.driver.queue(0).pushAvail(8);
    guest(() => s.driver.kick(0));
    expectNeedsReset(s, 'index out of range');
  });

  it('nested indirect: an indirect table containing an indirect descriptor', () => {
    const r = rngRig();
    const outer = SCRATCH;
    const inner = SCRATCH + 0x100;
    writeTableEntry(r, inner, 0, SCRATCH + 0x1000, 16, WRITE, 0);
    writeTableEntry(r, outer, 0, inner, 16, INDIRECT, 0);
    const q = r.driver.queue(0);
    q.writeDescriptor(0, outer, 16, INDIRECT, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'nested indirect');
  });

  it('self-referencing indirect table: an entry pointing back at its own table', () => {
    const r = rngRig();
    const table = SCRATCH;
    writeTableEntry(r, table, 0, table, 32, INDIRECT, 0);
    writeTableEntry(r, table, 1, SCRATCH + 0x1000, 16, WRITE, 0);
    const q = r.driver.queue(0);
    q.writeDescriptor(0, table, 32, INDIRECT, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'nested indirect');
  });

  it('loop inside an indirect table (next chains back to entry 0)', () => {
    const r = rngRig();
    const table = SCRATCH;
    writeTableEntry(r, table, 0, SCRATCH + 0x1000, 16, WRITE | NEXT, 1);
    writeTableEntry(r, table, 1, SCRATCH + 0x1100, 16, WRITE | NEXT, 0);
    const q = r.driver.queue(0);
    q.writeDescriptor(0, table, 32, INDIRECT, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'longer than the queue');
  });

  it('indirect length not a multiple of 16', () => {
    const r = rngRig();
    writeTableEntry(r, SCRATCH, 0, SCRATCH + 0x1000, 16, WRITE, 0);
    const q = r.driver.queue(0);
    q.writeDescriptor(0, SCRATCH, 24, INDIRECT, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'indirect table length');
  });

  it('indirect length zero', () => {
    const r = rngRig();
    const q = r.driver.queue(0);
    q.writeDescriptor(0, SCRATCH, 0, INDIRECT, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'indirect table length');
  });

  it('indirect combined with NEXT', () => {
    const r = rngRig();
    writeTableEntry(r, SCRATCH, 0, SCRATCH + 0x1000, 16, WRITE, 0);
    const q = r.driver.queue(0);
    q.writeDescriptor(0, SCRATCH, 16, INDIRECT | NEXT, 1);
    q.writeDescriptor(1, SCRATCH + 0x2000, 16, WRITE, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'indirect descriptor not negotiated or combined with NEXT');
  });

  it('address outside RAM: a buffer past the end of guest memory', () => {
    const r = rngRig();
    const q = r.driver.queue(0);
    q.writeDescriptor(0, r.memory.size - 8, 64, WRITE, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'buffer outside guest RAM');
  });

  it('address inside an MMIO hole: a buffer that crosses into a device window', () => {
    const r = rngRig();
    r.memory.addHole(0x70_0000, 0x1000);
    const q = r.driver.queue(0);
    q.writeDescriptor(0, 0x70_0000 - 16, 64, WRITE, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'buffer outside guest RAM');
  });

  it('indirect table inside an MMIO hole', () => {
    const r = rngRig();
    r.memory.addHole(0x70_0000, 0x1000);
    const q = r.driver.queue(0);
    q.writeDescriptor(0, 0x70_0000, 32, INDIRECT, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'ring or descriptor table outside guest RAM');
  });

  it('rings inside an MMIO hole are a ring fault, not a host exception', () => {
    const r = rig(new VirtioRng({ source: new CryptoEntropySource() }));
    r.memory.addHole(0x40_0000, 0x10000);
    r.driver.negotiate(r.driver.deviceFeatures());
    r.driver.writeRegister(MmioRegister.QUEUE_SEL, 0);
    r.driver.writeRegister(MmioRegister.QUEUE_NUM, 8);
    r.driver.writeRegister(MmioRegister.QUEUE_DESC_LOW, 0x40_0000);
    r.driver.writeRegister(MmioRegister.QUEUE_DRIVER_LOW, 0x40_1000);
    r.driver.writeRegister(MmioRegister.QUEUE_DEVICE_LOW, 0x40_2000);
    r.driver.writeRegister(MmioRegister.QUEUE_READY, 1);
    r.driver.addStatus(DeviceStatus.DRIVER_OK);
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_NOTIFY, 0));
    expectNeedsReset(r, 'ring or descriptor table outside guest RAM');
  });

  it('used ring in read-only memory (ROM) is a ring fault', () => {
    const r = rngRig();
    const q = r.driver.queue(0);
    r.memory.addReadOnly(q.usedRing, 64);
    r.driver.submit(0, [{ writable: 8 }]);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'ring or descriptor table outside guest RAM');
  });

  it('length overflow: addr + len beyond 2^32', () => {
    const r = rngRig();
    const q = r.driver.queue(0);
    q.writeDescriptor(0, 0xffff_f000, 0x2000, WRITE, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'beyond 4 GiB');
  });

  it('length overflow: a descriptor with a non-zero high address word', () => {
    const r = rngRig();
    const q = r.driver.queue(0);
    q.writeDescriptor(0, SCRATCH, 16, WRITE, 0);
    r.memory.write32((q.descriptorTable + 4) as GuestPhys, 1);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'beyond 4 GiB');
  });

  it('sum of lengths exceeding the device limit (virtio-net transmit)', () => {
    const r = rig(new VirtioNet({ backend: new LoopbackNetBackend() }));
    r.driver.init();
    const q = r.driver.queue(NetQueue.TX);
    // Two 48 KiB buffers: each fine alone, together past the largest frame.
    q.writeDescriptor(0, SCRATCH, 48 * 1024, NEXT, 1);
    q.writeDescriptor(1, SCRATCH + 0x10000, 48 * 1024, 0, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(NetQueue.TX));
    expectNeedsReset(r, 'byte total too large');
  });

  it('sum of lengths overflowing 2^32 through an indirect table', () => {
    const r = rngRig();
    const table = SCRATCH;
    for (let i = 0; i < 4; i++) writeTableEntry(r, table, i, 0x1000, 0xc000_0000, WRITE | (i < 3 ? NEXT : 0), i + 1);
    const q = r.driver.queue(0);
    q.writeDescriptor(0, table, 64, INDIRECT, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'byte total too large');
  });

  it('device-readable descriptor after a device-writable one', () => {
    const r = rngRig();
    const q = r.driver.queue(0);
    q.writeDescriptor(0, SCRATCH, 16, WRITE | NEXT, 1);
    q.writeDescriptor(1, SCRATCH + 64, 16, 0, 0);
    q.pushAvail(0);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'readable descriptor after');
  });

  it('avail idx jump: more than the queue size ahead', () => {
    const r = rngRig(8);
    r.driver.queue(0).setAvailIdx(9);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'avail index jumped');
  });

  it('virtio-blk request without room for the header or the status byte', () => {
    const r = rig(new VirtioBlock({ backend: new MemoryBlockBackend({ size: 4096 }) }));
    r.driver.init();
    r.driver.submit(0, [{ readable: u32le(BlockRequestType.IN, 0) }, { writable: 512 }]);
    guest(() => r.driver.kick(0));
    expectNeedsReset(r, 'malformed device request');
  });

  it('virtio-net merged receive buffer smaller than the header', () => {
    const backend = new LoopbackNetBackend();
    const r = rig(new VirtioNet({ backend }));
    r.driver.init();
    r.driver.submit(NetQueue.RX, [{ writable: 4 }]);
    r.driver.kick(NetQueue.RX);
    guest(() => backend.send(new Uint8Array(60)));
    expectNeedsReset(r, 'malformed device request');
    expect(NET_HEADER_SIZE).toBe(12);
  });

  it('after DEVICE_NEEDS_RESET notifications are ignored, and a reset brings the device back', () => {
    const r = rngRig();
    const q = r.driver.queue(0);
    q.writeDescriptor(3, SCRATCH, 16, WRITE | NEXT, 3);
    q.pushAvail(3);
    guest(() => r.driver.kick(0));
    guest(() => r.driver.kick(0));
    expect(r.transport.stats.ignoredNotifications).toBe(1);
    r.driver.init();
    expect(r.transport.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(0);
    r.driver.submit(0, [{ writable: 16 }]);
    r.driver.kick(0);
    expect(r.driver.takeUsed(0)[0]?.length).toBe(16);
  });
});

describe('hostile guest: register misuse is ignored and counted', () => {
  function setupPhase() {
    const r = rig(new VirtioRng({ source: new CryptoEntropySource(), queueSize: 64 }));
    r.driver.negotiate(r.driver.deviceFeatures());
    r.driver.writeRegister(MmioRegister.QUEUE_SEL, 0);
    return r;
  }

  it('queue size not a power of two is rejected at the QueueNum write', () => {
    const r = setupPhase();
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_NUM, 24));
    expect(r.transport.queue(0).size).toBe(64);
    expect(r.transport.stats.invalidQueueConfigs).toBe(1);
    r.driver.writeRegister(MmioRegister.QUEUE_NUM, 16);
    expect(r.transport.queue(0).size).toBe(16);
  });

  it('queue num larger than QueueNumMax is rejected', () => {
    const r = setupPhase();
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_NUM, 1024));
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_NUM, 0));
    expect(r.transport.queue(0).size).toBe(64);
    expect(r.transport.stats.invalidQueueConfigs).toBe(2);
  });

  it('misaligned rings are rejected at QueueReady', () => {
    const r = setupPhase();
    r.driver.writeRegister(MmioRegister.QUEUE_DESC_LOW, 0x10008);
    r.driver.writeRegister(MmioRegister.QUEUE_DRIVER_LOW, 0x20000);
    r.driver.writeRegister(MmioRegister.QUEUE_DEVICE_LOW, 0x30000);
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_READY, 1));
    expect(r.driver.readRegister(MmioRegister.QUEUE_READY)).toBe(0);
    r.driver.writeRegister(MmioRegister.QUEUE_DESC_LOW, 0x10000);
    r.driver.writeRegister(MmioRegister.QUEUE_DEVICE_LOW, 0x30002);
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_READY, 1));
    expect(r.driver.readRegister(MmioRegister.QUEUE_READY)).toBe(0);
    expect(r.transport.stats.invalidQueueConfigs).toBe(2);
    r.driver.writeRegister(MmioRegister.QUEUE_DEVICE_LOW, 0x30000);
    r.driver.writeRegister(MmioRegister.QUEUE_READY, 1);
    expect(r.driver.readRegister(MmioRegister.QUEUE_READY)).toBe(1);
  });

  it('rings above 4 GiB (non-zero high words) are rejected at QueueReady', () => {
    const r = setupPhase();
    r.driver.writeRegister(MmioRegister.QUEUE_DESC_LOW, 0x10000);
    r.driver.writeRegister(MmioRegister.QUEUE_DESC_HIGH, 1);
    r.driver.writeRegister(MmioRegister.QUEUE_DRIVER_LOW, 0x20000);
    r.driver.writeRegister(MmioRegister.QUEUE_DEVICE_LOW, 0x30000);
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_READY, 1));
    expect(r.driver.readRegister(MmioRegister.QUEUE_READY)).toBe(0);
    r.driver.writeRegister(MmioRegister.QUEUE_DESC_HIGH, 0);
    r.driver.writeRegister(MmioRegister.QUEUE_READY, 1);
    expect(r.transport.queue(0).descriptorTable).toBe(0x10000);
    expect(r.driver.readRegister(MmioRegister.QUEUE_READY)).toBe(1);
  });

  it('registers written in the wrong state: QueueNum after DRIVER_OK, features after FEATURES_OK, queue setup before FEATURES_OK', () => {
    const r = rngRig();
    const before = r.transport.queue(0).saveState();
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_NUM, 4));
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_DESC_LOW, 0x100));
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_READY, 0));
    guest(() => r.driver.writeRegister(MmioRegister.DRIVER_FEATURES, 0xffff_ffff));
    expect(r.transport.queue(0).saveState()).toEqual(before);
    expect(r.transport.stats.illegalStateWrites).toBe(4);

    const early = rig(new VirtioRng({ source: new CryptoEntropySource() }));
    early.driver.addStatus(DeviceStatus.ACKNOWLEDGE);
    early.driver.writeRegister(MmioRegister.DRIVER_FEATURES, 1); // before DRIVER
    early.driver.writeRegister(MmioRegister.QUEUE_SEL, 0);
    early.driver.writeRegister(MmioRegister.QUEUE_NUM, 4); // before FEATURES_OK
    early.driver.addStatus(DeviceStatus.FEATURES_OK); // before DRIVER
    expect(early.transport.stats.illegalStateWrites).toBe(3);
    expect(early.transport.status).toBe(DeviceStatus.ACKNOWLEDGE);
  });

  it('odd-width register accesses (1-byte/2-byte to 32-bit registers) read 0 and are ignored', () => {
    const r = rig(new VirtioRng({ source: new CryptoEntropySource() }));
    let reads: number[] = [];
    guest(() => {
      reads = [r.transport.read(MmioRegister.MAGIC_VALUE, 1), r.transport.read(MmioRegister.MAGIC_VALUE, 2), r.transport.read(MmioRegister.VERSION + 1, 1), r.transport.read(MmioRegister.MAGIC_VALUE + 2, 4)];
      r.transport.write(MmioRegister.STATUS, 1, DeviceStatus.ACKNOWLEDGE);
      r.transport.write(MmioRegister.STATUS, 2, DeviceStatus.ACKNOWLEDGE);
    });
    expect(reads).toEqual([0, 0, 0, 0]);
    expect(r.transport.status).toBe(0);
    expect(r.transport.stats.badWidthAccesses).toBe(6);
  });

  it('unknown registers and write-only registers read 0; read-only registers ignore writes', () => {
    const r = rngRig();
    guest(() => {
      expect(r.transport.read(0x0c8, 4)).toBe(0);
      expect(r.transport.read(MmioRegister.QUEUE_NOTIFY, 4)).toBe(0);
      expect(r.transport.read(MmioRegister.QUEUE_DESC_LOW, 4)).toBe(0);
      r.transport.write(MmioRegister.MAGIC_VALUE, 4, 0);
      r.transport.write(MmioRegister.INTERRUPT_STATUS, 4, 3);
    });
    expect(r.driver.readRegister(MmioRegister.MAGIC_VALUE)).toBe(0x74726976);
    expect(r.transport.stats.unknownRegisterAccesses).toBe(5);
  });

  it('config space accesses out of range or misaligned read 0 and are counted', () => {
    const r = rig(new VirtioBlock({ backend: new MemoryBlockBackend({ size: 4096 }) }));
    guest(() => {
      expect(r.transport.read(MmioRegister.CONFIG + 60, 4)).toBe(0);
      expect(r.transport.read(MmioRegister.CONFIG + 0xe00, 4)).toBe(0);
      expect(r.transport.read(MmioRegister.CONFIG + 1, 2)).toBe(0);
      r.transport.write(MmioRegister.CONFIG, 4, 0xffff_ffff);
    });
    expect(r.driver.readConfig(0)).toBe(8);
    expect(r.transport.stats.unknownRegisterAccesses).toBe(2);
    expect(r.transport.stats.badWidthAccesses).toBe(1);
    expect(r.transport.stats.illegalStateWrites).toBe(1);
  });

  it('notify of a non-existent queue is ignored and counted', () => {
    const r = rngRig();
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_NOTIFY, 7));
    guest(() => r.driver.writeRegister(MmioRegister.QUEUE_NOTIFY, 0xffff_ffff));
    expect(r.transport.stats.ignoredNotifications).toBe(2);
    expect(r.transport.stats.notifications).toBe(0);
    expectHealthy(r);
  });

  it('device used before DRIVER_OK: the notification is ignored, nothing is consumed', () => {
    const r = setupPhase();
    const q = r.driver.setupQueue(0, 8);
    r.driver.submit(0, [{ writable: 16 }]);
    guest(() => r.driver.kick(0));
    expect(q.usedIdx()).toBe(0);
    expect(r.transport.stats.ignoredNotifications).toBe(1);
    r.driver.addStatus(DeviceStatus.DRIVER_OK);
    // Buffers made available before DRIVER_OK are served once the driver is ready.
    expect(r.driver.takeUsed(0).length).toBe(1);
  });

  it('feature words beyond 64 bits set by the driver make FEATURES_OK fail', () => {
    const r = rig(new VirtioRng({ source: new CryptoEntropySource() }));
    r.driver.addStatus(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
    r.driver.writeRegister(MmioRegister.DRIVER_FEATURES_SEL, 1);
    r.driver.writeRegister(MmioRegister.DRIVER_FEATURES, 1);
    r.driver.writeRegister(MmioRegister.DRIVER_FEATURES_SEL, 5);
    r.driver.writeRegister(MmioRegister.DRIVER_FEATURES, 1);
    r.driver.addStatus(DeviceStatus.FEATURES_OK);
    expect(r.transport.status & DeviceStatus.FEATURES_OK).toBe(0);
  });
});
