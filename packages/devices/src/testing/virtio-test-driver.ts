import type { GuestPhys, MemoryBus } from '@typevisor/mmu';
import type { IoRegion } from '../types.js';
import { DescriptorFlag, DeviceStatus, MmioRegister, VirtioFeature } from '../virtio/constants.js';
import { FeatureSet } from '../virtio/features.js';

/** One buffer of a chain the test driver submits: bytes the device reads, or room it writes. */
export type TestBuffer = { readonly readable: Uint8Array } | { readonly writable: number };

/** Options for {@link VirtioTestDriver.submit}. */
export interface SubmitOptions {
  /** Put the chain in an indirect descriptor table (needs VIRTIO_F_RING_INDIRECT_DESC). */
  readonly indirect?: boolean;
}

/** A chain the device returned through the used ring. */
export interface UsedBuffer {
  /** Head descriptor index (the value {@link VirtioTestDriver.submit} returned). */
  readonly head: number;
  /** Bytes the device says it wrote (the used element's `len`). */
  readonly length: number;
  /** The first `length` bytes of the chain's writable buffers, concatenated (empty for chains the driver did not submit through `submit`). */
  readonly written: Uint8Array;
  /** The full current contents of each writable buffer (e.g. a status byte past `length`). */
  readonly buffers: readonly Uint8Array[];
}

/** Options of {@link VirtioTestDriver.init}. */
export interface DriverInitOptions {
  /**
   * Feature bits to accept. Default: every feature the device offers. A function receives the
   * offered set and returns the accepted one (it may include bits the device did not offer).
   */
  readonly features?: readonly number[] | ((offered: FeatureSet) => FeatureSet);
  /** Queue size per queue index (default: QueueNumMax, at most 256). */
  readonly queueSizes?: readonly number[];
}

/** Options of a {@link VirtioTestDriver}. */
export interface VirtioTestDriverOptions {
  /** The device's virtio-mmio register window (e.g. a `VirtioMmioTransport`). */
  readonly transport: IoRegion;
  /** Guest memory shared with the device (`FakeGuestMemory` or a real `PhysicalMemory`). */
  readonly memory: MemoryBus;
  /** First guest-physical byte the driver may use for rings and buffers (default 0x1000). */
  readonly heapBase?: number;
  /** Bytes available from `heapBase` (default 4 MiB). */
  readonly heapSize?: number;
}

/** Raised by the test driver when the device does not behave (e.g. FEATURES_OK refused). */
export class VirtioTestDriverError extends Error {
  override readonly name = 'VirtioTestDriverError';
}

interface InFlight {
  readonly descriptors: number[];
  readonly writable: { readonly addr: number; readonly length: number }[];
}

/**
 * The driver side of one split virtqueue as the test driver laid it out in guest memory. Besides the
 * normal path it exposes raw ring access, so tests can play a hostile guest.
 */
export class TestQueue {
  /** Queue index. */
  readonly index: number;
  /** Queue size chosen. */
  readonly size: number;
  /** Descriptor table address. */
  readonly descriptorTable: number;
  /** Available ring address. */
  readonly availRing: number;
  /** Used ring address. */
  readonly usedRing: number;
  /** Next avail index the driver will publish (free-running 16-bit). */
  availIdx = 0;
  /** Used index the driver has consumed up to. */
  lastUsedIdx = 0;
  private readonly memory: MemoryBus;
  private readonly free: number[] = [];
  /** @internal */
  readonly inFlight = new Map<number, InFlight>();

  /** @internal Created by {@link VirtioTestDriver.setupQueue}. */
  constructor(memory: MemoryBus, index: number, size: number, descriptorTable: number, availRing: number, usedRing: number) {
    this.memory = memory;
    this.index = index;
    this.size = size;
    this.descriptorTable = descriptorTable;
    this.availRing = availRing;
    this.usedRing = usedRing;
    for (let i = size - 1; i >= 0; i--) this.free.push(i);
  }

  /** Number of free descriptors. */
  get freeDescriptors(): number {
    return this.free.length;
  }

  /** Writes descriptor `i` of the descriptor table (raw; no bookkeeping). */
  writeDescriptor(i: number, addr: number, length: number, flags: number, next: number): void {
    writeDescriptorAt(this.memory, this.descriptorTable + 16 * i, addr, length, flags, next);
  }

  /** Puts `head` in the next avail slot and publishes it (raw; no bookkeeping). */
  pushAvail(head: number): void {
    const slot = this.availIdx % this.size;
    this.memory.write16((this.availRing + 4 + 2 * slot) as GuestPhys, head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.memory.write16((this.availRing + 2) as GuestPhys, this.availIdx);
  }

  /** Overwrites avail->idx (raw), e.g. to make it jump. */
  setAvailIdx(value: number): void {
    this.availIdx = value & 0xffff;
    this.memory.write16((this.availRing + 2) as GuestPhys, this.availIdx);
  }

  /** Sets avail->flags (VIRTQ_AVAIL_F_NO_INTERRUPT). */
  setAvailFlags(flags: number): void {
    this.memory.write16(this.availRing as GuestPhys, flags);
  }

  /** Sets used_event (the slot after the avail ring; meaningful with EVENT_IDX). */
  setUsedEvent(value: number): void {
    this.memory.write16((this.availRing + 4 + 2 * this.size) as GuestPhys, value);
  }

  /** used->idx as the device last wrote it. */
  usedIdx(): number {
    return this.memory.read16((this.usedRing + 2) as GuestPhys);
  }

  /** used->flags (VIRTQ_USED_F_NO_NOTIFY). */
  usedFlags(): number {
    return this.memory.read16(this.usedRing as GuestPhys);
  }

  /** avail_event (the slot after the used ring; meaningful with EVENT_IDX). */
  availEvent(): number {
    return this.memory.read16((this.usedRing + 4 + 8 * this.size) as GuestPhys);
  }

  /** @internal */
  takeDescriptor(): number {
    const index = this.free.pop();
    if (index === undefined) throw new VirtioTestDriverError(`queue ${this.index} has no free descriptors`);
    return index;
  }

  /** @internal */
  releaseDescriptors(list: readonly number[]): void {
    for (const i of list) this.free.push(i);
  }
}

/**
 * A fake virtio-mmio guest driver for testing any device alone (ours or your own): it performs the
 * initialization sequence of spec 3.1, lays out split virtqueues in guest memory, submits descriptor
 * chains (optionally indirect), notifies, and collects used buffers.
 *
 * @example
 * ```ts
 * const memory = new FakeGuestMemory({ size: 8 << 20 });
 * const irq = new RecordingIrqLine();
 * const rng = new VirtioRng({ source: new CryptoEntropySource() });
 * const driver = new VirtioTestDriver({ transport: new VirtioMmioTransport({ device: rng, memory, irq }), memory });
 * driver.init();
 * driver.submit(0, [{ writable: 16 }]);
 * driver.kick(0);
 * const [used] = driver.takeUsed(0); // used.length === 16
 * ```
 */
export class VirtioTestDriver {
  /** The register window driven. */
  readonly transport: IoRegion;
  /** Guest memory. */
  readonly memory: MemoryBus;
  /** Queues set up so far, by index. */
  readonly queues: TestQueue[] = [];
  private heapNext: number;
  private readonly heapEnd: number;

  constructor(options: VirtioTestDriverOptions) {
    this.transport = options.transport;
    this.memory = options.memory;
    this.heapNext = options.heapBase ?? 0x1000;
    this.heapEnd = this.heapNext + (options.heapSize ?? 4 << 20);
  }

  /** Reads a 32-bit register. */
  readRegister(offset: number): number {
    return this.transport.read(offset, 4);
  }

  /** Writes a 32-bit register. */
  writeRegister(offset: number, value: number): void {
    this.transport.write(offset, 4, value);
  }

  /** Device status register. */
  get status(): number {
    return this.readRegister(MmioRegister.STATUS);
  }

  /** Reads `size` bytes of device config space at `offset`. */
  readConfig(offset: number, size: 1 | 2 | 4 = 4): number {
    return this.transport.read(MmioRegister.CONFIG + offset, size);
  }

  /** The 64 feature bits the device offers. */
  deviceFeatures(): FeatureSet {
    this.writeRegister(MmioRegister.DEVICE_FEATURES_SEL, 0);
    const low = this.readRegister(MmioRegister.DEVICE_FEATURES);
    this.writeRegister(MmioRegister.DEVICE_FEATURES_SEL, 1);
    const high = this.readRegister(MmioRegister.DEVICE_FEATURES);
    return new FeatureSet(low, high);
  }

  /** Writes 0 to Status (device reset) and forgets driver-side queues. */
  reset(): void {
    this.writeRegister(MmioRegister.STATUS, 0);
    this.queues.length = 0;
  }

  /** Adds bits to the device status (the driver never clears bits except by reset). */
  addStatus(bits: number): void {
    this.writeRegister(MmioRegister.STATUS, this.status | bits);
  }

  /**
   * Reset, ACKNOWLEDGE, DRIVER, write `features`, set FEATURES_OK and read it back. Returns whether
   * the device latched FEATURES_OK (spec 3.1.1 steps 1-6).
   */
  negotiate(features: FeatureSet): boolean {
    this.reset();
    this.addStatus(DeviceStatus.ACKNOWLEDGE);
    this.addStatus(DeviceStatus.DRIVER);
    this.writeRegister(MmioRegister.DRIVER_FEATURES_SEL, 0);
    this.writeRegister(MmioRegister.DRIVER_FEATURES, features.low);
    this.writeRegister(MmioRegister.DRIVER_FEATURES_SEL, 1);
    this.writeRegister(MmioRegister.DRIVER_FEATURES, features.high);
    this.addStatus(DeviceStatus.FEATURES_OK);
    return (this.status & DeviceStatus.FEATURES_OK) !== 0;
  }

  /** Number of queues the device has (QueueNumMax != 0), probing up to 64. */
  queueCount(): number {
    for (let index = 0; index < 64; index++) {
      this.writeRegister(MmioRegister.QUEUE_SEL, index);
      if (this.readRegister(MmioRegister.QUEUE_NUM_MAX) === 0) return index;
    }
    return 64;
  }

  /** Allocates and programs queue `index` with `size` entries, then sets QueueReady. */
  setupQueue(index: number, size: number): TestQueue {
    const descriptorTable = this.alloc(16 * size, 16);
    const availRing = this.alloc(6 + 2 * size, 2);
    const usedRing = this.alloc(6 + 8 * size, 4);
    this.writeRegister(MmioRegister.QUEUE_SEL, index);
    this.writeRegister(MmioRegister.QUEUE_NUM, size);
    this.writeRegister(MmioRegister.QUEUE_DESC_LOW, descriptorTable);
    this.writeRegister(MmioRegister.QUEUE_DESC_HIGH, 0);
    this.writeRegister(MmioRegister.QUEUE_DRIVER_LOW, availRing);
    this.writeRegister(MmioRegister.QUEUE_DRIVER_HIGH, 0);
    this.writeRegister(MmioRegister.QUEUE_DEVICE_LOW, usedRing);
    this.writeRegister(MmioRegister.QUEUE_DEVICE_HIGH, 0);
    this.writeRegister(MmioRegister.QUEUE_READY, 1);
    const queue = new TestQueue(this.memory, index, size, descriptorTable, availRing, usedRing);
    this.queues[index] = queue;
    return queue;
  }

  /**
   * The whole initialization sequence: negotiate, set up every queue, DRIVER_OK. Returns the
   * accepted features. Throws {@link VirtioTestDriverError} when the device refuses FEATURES_OK.
   */
  init(options: DriverInitOptions = {}): FeatureSet {
    const offered = this.deviceFeatures();
    const choice = options.features;
    const features =
      choice === undefined ? offered.clone() : typeof choice === 'function' ? choice(offered.clone()) : FeatureSet.of(...choice);
    if (typeof choice !== 'function' && choice !== undefined) features.add(VirtioFeature.VERSION_1);
    if (!this.negotiate(features)) throw new VirtioTestDriverError('device refused FEATURES_OK');
    const count = this.queueCount();
    for (let index = 0; index < count; index++) {
      this.writeRegister(MmioRegister.QUEUE_SEL, index);
      const max = this.readRegister(MmioRegister.QUEUE_NUM_MAX);
      this.setupQueue(index, options.queueSizes?.[index] ?? Math.min(max, 256));
    }
    this.addStatus(DeviceStatus.DRIVER_OK);
    return features;
  }

  /** The driver-side view of queue `index`. */
  queue(index: number): TestQueue {
    const queue = this.queues[index];
    if (queue === undefined) throw new VirtioTestDriverError(`queue ${index} is not set up`);
    return queue;
  }

  /**
   * Places a chain (readable buffers first, then writable ones) in queue `index`'s descriptor table
   * (or an indirect table) and publishes it in the avail ring. Returns the head index. Does not notify.
   */
  submit(index: number, buffers: readonly TestBuffer[], options: SubmitOptions = {}): number {
    const queue = this.queue(index);
    const writable: { addr: number; length: number }[] = [];
    const entries = buffers.map((buffer) => {
      if ('readable' in buffer) {
        const addr = this.alloc(Math.max(1, buffer.readable.length), 8);
        this.memory.writeBytes(addr as GuestPhys, buffer.readable);
        return { addr, length: buffer.readable.length, flags: 0 };
      }
      const addr = this.alloc(Math.max(1, buffer.writable), 8);
      this.memory.writeBytes(addr as GuestPhys, new Uint8Array(buffer.writable));
      writable.push({ addr, length: buffer.writable });
      return { addr, length: buffer.writable, flags: DescriptorFlag.WRITE };
    });
    if (entries.length === 0) throw new VirtioTestDriverError('a chain needs at least one buffer');
    const descriptors: number[] = [];
    if (options.indirect === true) {
      const table = this.alloc(16 * entries.length, 16);
      entries.forEach((entry, i) => {
        const last = i === entries.length - 1;
        writeDescriptorAt(this.memory, table + 16 * i, entry.addr, entry.length, entry.flags | (last ? 0 : DescriptorFlag.NEXT), last ? 0 : i + 1);
      });
      const head = queue.takeDescriptor();
      queue.writeDescriptor(head, table, 16 * entries.length, DescriptorFlag.INDIRECT, 0);
      descriptors.push(head);
    } else {
      for (let i = 0; i < entries.length; i++) descriptors.push(queue.takeDescriptor());
      entries.forEach((entry, i) => {
        const last = i === entries.length - 1;
        queue.writeDescriptor(
          descriptors[i] as number,
          entry.addr,
          entry.length,
          entry.flags | (last ? 0 : DescriptorFlag.NEXT),
          last ? 0 : (descriptors[i + 1] as number),
        );
      });
    }
    const head = descriptors[0] as number;
    queue.inFlight.set(head, { descriptors, writable });
    queue.pushAvail(head);
    return head;
  }

  /** Notifies the device about queue `index` (QueueNotify). */
  kick(index: number): void {
    this.writeRegister(MmioRegister.QUEUE_NOTIFY, index);
  }

  /** Collects every used element published since the last call and frees their descriptors. */
  takeUsed(index: number): UsedBuffer[] {
    const queue = this.queue(index);
    const out: UsedBuffer[] = [];
    const usedIdx = queue.usedIdx();
    const published = (usedIdx - queue.lastUsedIdx) & 0xffff;
    if (published > queue.size) {
      queue.lastUsedIdx = usedIdx;
      throw new VirtioTestDriverError(`queue ${index}: used->idx moved ${published} entries, more than the queue size ${queue.size}`);
    }
    while (queue.lastUsedIdx !== usedIdx) {
      const slot = queue.lastUsedIdx % queue.size;
      const head = this.memory.read32((queue.usedRing + 4 + 8 * slot) as GuestPhys);
      const length = this.memory.read32((queue.usedRing + 8 + 8 * slot) as GuestPhys);
      queue.lastUsedIdx = (queue.lastUsedIdx + 1) & 0xffff;
      const flight = queue.inFlight.get(head);
      const capacity = flight === undefined ? 0 : flight.writable.reduce((sum, part) => sum + part.length, 0);
      if (length > capacity && flight !== undefined) {
        throw new VirtioTestDriverError(`queue ${index}: device reported ${length} bytes written into a ${capacity}-byte chain`);
      }
      const written = new Uint8Array(Math.min(length, capacity));
      const buffers: Uint8Array[] = [];
      if (flight !== undefined) {
        for (const part of flight.writable) {
          const contents = new Uint8Array(part.length);
          this.memory.readBytes(part.addr as GuestPhys, contents);
          buffers.push(contents);
        }
        let offset = 0;
        for (const part of flight.writable) {
          if (offset >= length) break;
          const count = Math.min(part.length, length - offset);
          this.memory.readBytes(part.addr as GuestPhys, written.subarray(offset, offset + count));
          offset += count;
        }
        queue.inFlight.delete(head);
        queue.releaseDescriptors(flight.descriptors);
      }
      out.push({ head, length, written, buffers });
    }
    return out;
  }

  /** Reads InterruptStatus, acknowledges every bit set, and returns them. */
  acknowledgeInterrupts(): number {
    const status = this.readRegister(MmioRegister.INTERRUPT_STATUS);
    if (status !== 0) this.writeRegister(MmioRegister.INTERRUPT_ACK, status);
    return status;
  }

  /** Reserves `size` bytes of guest memory from the driver's heap. */
  alloc(size: number, align = 8): number {
    const addr = Math.ceil(this.heapNext / align) * align;
    if (addr + size > this.heapEnd) throw new VirtioTestDriverError(`test driver heap exhausted (${size} bytes requested)`);
    this.heapNext = addr + size;
    return addr;
  }
}

function writeDescriptorAt(memory: MemoryBus, at: number, addr: number, length: number, flags: number, next: number): void {
  memory.write32(at as GuestPhys, addr >>> 0);
  memory.write32((at + 4) as GuestPhys, 0);
  memory.write32((at + 8) as GuestPhys, length >>> 0);
  memory.write16((at + 12) as GuestPhys, flags);
  memory.write16((at + 14) as GuestPhys, next);
}
