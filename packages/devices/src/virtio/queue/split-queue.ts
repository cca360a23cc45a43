import type { GuestPhys, MemoryBus } from '../dma.js';
import { DescriptorFlag, VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_USED_F_NO_NOTIFY } from '../constants.js';
import { DescriptorChain } from './descriptor-chain.js';
import { QueueError, type QueueErrorCode } from './queue-error.js';

/** Largest indirect descriptor table a device accepts, in descriptors (16 bytes each). */
export const MAX_INDIRECT_DESCRIPTORS = 1024;
/** Largest queue size the split ring format allows (spec 2.7: 32768). */
export const MAX_QUEUE_SIZE = 32768;

const TWO_POW_32 = 0x1_0000_0000;

/** The driver-programmed layout of one split virtqueue (what QueueNum/QueueDesc/... registers hold). */
export interface SplitQueueLayout {
  /** Queue size (number of descriptors); a power of two no larger than the maximum. */
  size: number;
  /** Guest-physical address of the descriptor table (16-byte aligned). */
  descriptorTable: number;
  /** Guest-physical address of the available ("driver") ring (2-byte aligned). */
  availRing: number;
  /** Guest-physical address of the used ("device") ring (4-byte aligned). */
  usedRing: number;
}

/** The saved state of one split virtqueue. */
export interface SplitQueueState extends SplitQueueLayout {
  ready: boolean;
  lastAvailIdx: number;
  usedIdx: number;
  signalledUsedIdx: number;
  notificationsEnabled: boolean;
}

/**
 * The device side of one split virtqueue (spec 2.7), independent of any device or transport.
 *
 * Guest memory is hostile: every ring and descriptor access is bounds-checked through the
 * `MemoryBus` (a short access is a {@link QueueError.RING_FAULT}), every chain walk is bounded by the
 * queue (or indirect table) size, and nothing is allocated per request — chains land in one reused
 * {@link DescriptorChain}. The first error marks the queue broken and calls `onError` (the transport
 * then sets DEVICE_NEEDS_RESET); a broken queue hands out nothing until it is reset.
 */
export class SplitQueue {
  /** Largest size the driver may choose (QueueNumMax). */
  readonly maxSize: number;
  /** Queue size chosen by the driver. */
  size: number;
  /** Descriptor table address. */
  descriptorTable = 0;
  /** Available ring address. */
  availRing = 0;
  /** Used ring address. */
  usedRing = 0;
  /** Set by QueueReady=1 after {@link SplitQueue.validateLayout} passed. */
  ready = false;
  /** Negotiated VIRTIO_F_RING_EVENT_IDX. */
  eventIdx = false;
  /** Negotiated VIRTIO_F_RING_INDIRECT_DESC. */
  indirect = false;
  /** Upper bound on readable + writable bytes of one chain (a device limit; default 4 GiB - 1). */
  maxChainBytes = TWO_POW_32 - 1;
  /** Next avail ring slot the device will consume (free-running 16-bit). */
  lastAvailIdx = 0;
  /** Next used ring slot the device will fill (free-running 16-bit). */
  usedIdx = 0;
  /** Used index at the last interrupt decision (for EVENT_IDX). */
  signalledUsedIdx = 0;
  /** Whether the device currently asks for available-buffer notifications. */
  notificationsEnabled = true;
  /** The first error seen since the last reset, or {@link QueueError.NONE}. */
  error: QueueErrorCode = QueueError.NONE;
  /** Called once when the queue breaks. */
  onError: ((code: QueueErrorCode) => void) | null = null;

  private memory: MemoryBus | null = null;
  private readonly chain: DescriptorChain;
  private readonly scratch = new Uint8Array(16);
  private readonly scratchView = new DataView(this.scratch.buffer);
  private readonly scratch2 = this.scratch.subarray(0, 2);
  private readonly scratch8 = this.scratch.subarray(0, 8);

  constructor(maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > MAX_QUEUE_SIZE || (maxSize & (maxSize - 1)) !== 0) {
      throw new RangeError(`virtqueue maximum size must be a power of two in 1..${MAX_QUEUE_SIZE}, got ${maxSize}`);
    }
    this.maxSize = maxSize;
    this.size = maxSize;
    this.chain = new DescriptorChain(maxSize + MAX_INDIRECT_DESCRIPTORS);
  }

  /** True once an error has been recorded; cleared by {@link SplitQueue.reset}. */
  get broken(): boolean {
    return this.error !== QueueError.NONE;
  }

  /** Returns the queue to its power-on state (size = max, not ready, indices 0). */
  reset(): void {
    this.size = this.maxSize;
    this.descriptorTable = 0;
    this.availRing = 0;
    this.usedRing = 0;
    this.ready = false;
    this.eventIdx = false;
    this.indirect = false;
    this.lastAvailIdx = 0;
    this.usedIdx = 0;
    this.signalledUsedIdx = 0;
    this.notificationsEnabled = true;
    this.error = QueueError.NONE;
    this.memory = null;
  }

  /** True when `size` is a legal queue size for this queue. */
  isValidSize(size: number): boolean {
    return Number.isInteger(size) && size >= 1 && size <= this.maxSize && (size & (size - 1)) === 0;
  }

  /**
   * Checks the programmed layout: a legal size, aligned rings (spec 2.7.1: 16/2/4 bytes) that end
   * below 4 GiB. Returns a reason when the layout is unusable, or null.
   */
  validateLayout(): string | null {
    if (!this.isValidSize(this.size)) return `queue size ${this.size} is not a power of two in 1..${this.maxSize}`;
    if (this.descriptorTable % 16 !== 0) return 'descriptor table is not 16-byte aligned';
    if (this.availRing % 2 !== 0) return 'available ring is not 2-byte aligned';
    if (this.usedRing % 4 !== 0) return 'used ring is not 4-byte aligned';
    if (this.descriptorTable + 16 * this.size > TWO_POW_32) return 'descriptor table extends beyond 4 GiB';
    if (this.availRing + 6 + 2 * this.size > TWO_POW_32) return 'available ring extends beyond 4 GiB';
    if (this.usedRing + 6 + 8 * this.size > TWO_POW_32) return 'used ring extends beyond 4 GiB';
    return null;
  }

  /** Binds the queue to guest memory and the negotiated ring features; called at DRIVER_OK. */
  activate(memory: MemoryBus, eventIdx: boolean, indirect: boolean): void {
    this.memory = memory;
    this.eventIdx = eventIdx;
    this.indirect = indirect;
  }

  /** Records `code` (the first one wins), marks the queue broken and tells the owner. */
  fail(code: QueueErrorCode): void {
    if (code === QueueError.NONE || this.error !== QueueError.NONE) return;
    this.error = code;
    this.onError?.(code);
  }

  /** True when the queue is ready, bound to memory and not broken. */
  get usable(): boolean {
    return this.ready && this.memory !== null && this.error === QueueError.NONE;
  }

  /**
   * Number of chains the driver has made available and the device has not consumed yet; 0 when the
   * queue is unusable or broken (an avail index that jumped too far breaks it).
   */
  pending(): number {
    if (!this.usable) return 0;
    const availIdx = this.readRing16(this.availRing + 2);
    if (availIdx < 0) return 0;
    const count = (availIdx - this.lastAvailIdx) & 0xffff;
    if (count > this.size) {
      this.fail(QueueError.AVAIL_INDEX_JUMP);
      return 0;
    }
    return count;
  }

  /**
   * Consumes the next available chain and returns it (valid until the next `pop`), or null when none
   * is available or the queue is (or just became) broken.
   */
  pop(): DescriptorChain | null {
    if (this.pending() === 0) return null;
    const slot = this.lastAvailIdx & (this.size - 1);
    const head = this.readRing16(this.availRing + 4 + 2 * slot);
    if (head < 0) return null;
    const code = this.walk(head);
    if (code !== QueueError.NONE) {
      this.fail(code);
      return null;
    }
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    if (this.eventIdx && this.notificationsEnabled) this.writeAvailEvent();
    return this.chain;
  }

  /** Gives back the last `count` popped chains (not yet used) so they are popped again later. */
  unpop(count: number): void {
    this.lastAvailIdx = (this.lastAvailIdx - count) & 0xffff;
    if (this.eventIdx && this.notificationsEnabled && this.usable) this.writeAvailEvent();
  }

  /** Chains returned to the driver since this queue was created (a metric; not guest state). */
  completedChains = 0;
  /** Bytes the device reported written into returned chains (a metric; not guest state). */
  usedBytes = 0;

  /** Writes a used ring element without publishing it (see {@link SplitQueue.publishUsed}). */
  pushUsed(head: number, length: number): boolean {
    if (!this.usable) return false;
    const slot = (this.usedIdx) & (this.size - 1);
    const view = this.scratchView;
    view.setUint32(0, head, true);
    view.setUint32(4, length >>> 0, true);
    if (!this.writeRing(this.usedRing + 4 + 8 * slot, this.scratch8)) return false;
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.completedChains++;
    this.usedBytes += length >>> 0;
    return true;
  }

  /** Makes every pushed used element visible to the driver by writing used->idx. */
  publishUsed(): boolean {
    if (!this.usable) return false;
    this.scratchView.setUint16(0, this.usedIdx, true);
    return this.writeRing(this.usedRing + 2, this.scratch2);
  }

  /** Returns a chain to the driver: pushes one used element and publishes it. */
  addUsed(head: number, length: number): boolean {
    return this.pushUsed(head, length) && this.publishUsed();
  }

  /**
   * Decides whether the driver wants a used-buffer interrupt for what was published since the last
   * decision: VIRTQ_AVAIL_F_NO_INTERRUPT, or with EVENT_IDX the used_event index (spec 2.7.10).
   */
  needsInterrupt(): boolean {
    if (!this.usable) return false;
    const newIdx = this.usedIdx;
    const oldIdx = this.signalledUsedIdx;
    if (newIdx === oldIdx) return false;
    this.signalledUsedIdx = newIdx;
    if (this.eventIdx) {
      const usedEvent = this.readRing16(this.availRing + 4 + 2 * this.size);
      if (usedEvent < 0) return false;
      return ((newIdx - usedEvent - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }
    const flags = this.readRing16(this.availRing);
    if (flags < 0) return false;
    return (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /**
   * Asks the driver to (not) notify the device of new buffers: VIRTQ_USED_F_NO_NOTIFY, or with
   * EVENT_IDX the avail_event index.
   */
  setNotifications(enabled: boolean): void {
    this.notificationsEnabled = enabled;
    if (!this.usable) return;
    if (this.eventIdx) {
      if (enabled) this.writeAvailEvent();
      return;
    }
    this.scratchView.setUint16(0, enabled ? 0 : VIRTQ_USED_F_NO_NOTIFY, true);
    this.writeRing(this.usedRing, this.scratch2);
  }

  /** Captures indices and layout for a snapshot. */
  saveState(): SplitQueueState {
    return {
      size: this.size,
      descriptorTable: this.descriptorTable,
      availRing: this.availRing,
      usedRing: this.usedRing,
      ready: this.ready,
      lastAvailIdx: this.lastAvailIdx,
      usedIdx: this.usedIdx,
      signalledUsedIdx: this.signalledUsedIdx,
      notificationsEnabled: this.notificationsEnabled,
    };
  }

  /** Restores what {@link SplitQueue.saveState} captured (memory is re-bound by `activate`). */
  restoreState(state: SplitQueueState): void {
    this.reset();
    this.size = state.size;
    this.descriptorTable = state.descriptorTable;
    this.availRing = state.availRing;
    this.usedRing = state.usedRing;
    this.ready = state.ready;
    this.lastAvailIdx = state.lastAvailIdx & 0xffff;
    this.usedIdx = state.usedIdx & 0xffff;
    this.signalledUsedIdx = state.signalledUsedIdx & 0xffff;
    this.notificationsEnabled = state.notificationsEnabled;
  }

  /** Walks the chain at `head` into the scratch chain. Bounded: at most size + indirect entries. */
  private walk(head: number): QueueErrorCode {
    const memory = this.memory as MemoryBus;
    const chain = this.chain;
    chain.begin(memory, head);
    const view = this.scratchView;
    const capacity = chain.capacity;
    let table = this.descriptorTable;
    let tableSize = this.size;
    let index = head;
    let walked = 0;
    let inIndirect = false;
    let segments = 0;
    let seenWritable = false;
    let total = 0;
    for (;;) {
      if (index >= tableSize) return QueueError.DESCRIPTOR_INDEX_OUT_OF_RANGE;
      if (++walked > tableSize) return QueueError.CHAIN_TOO_LONG;
      if (memory.readBytes((table + 16 * index) as GuestPhys, this.scratch) !== 16) return QueueError.RING_FAULT;
      const addrLow = view.getUint32(0, true);
      const addrHigh = view.getUint32(4, true);
      const len = view.getUint32(8, true);
      const flags = view.getUint16(12, true);
      const next = view.getUint16(14, true);
      if ((flags & DescriptorFlag.INDIRECT) !== 0) {
        if (inIndirect) return QueueError.NESTED_INDIRECT;
        if (!this.indirect || (flags & DescriptorFlag.NEXT) !== 0) return QueueError.INDIRECT_NOT_ALLOWED;
        if (len === 0 || len % 16 !== 0 || len / 16 > MAX_INDIRECT_DESCRIPTORS) return QueueError.BAD_INDIRECT_LENGTH;
        if (addrHigh !== 0 || addrLow + len > TWO_POW_32) return QueueError.ADDRESS_OVERFLOW;
        table = addrLow;
        tableSize = len / 16;
        index = 0;
        walked = 0;
        inIndirect = true;
        continue;
      }
      if (len !== 0) {
        if (addrHigh !== 0 || addrLow + len > TWO_POW_32) return QueueError.ADDRESS_OVERFLOW;
        const writable = (flags & DescriptorFlag.WRITE) !== 0;
        if (writable) seenWritable = true;
        else if (seenWritable) return QueueError.READABLE_AFTER_WRITABLE;
        if (segments >= capacity) return QueueError.CHAIN_TOO_LONG;
        total += len;
        if (total > this.maxChainBytes) return QueueError.CHAIN_TOO_LARGE;
        chain.addresses[segments] = addrLow;
        chain.lengths[segments] = len;
        segments++;
        if (writable) {
          chain.writableCount++;
          chain.writableBytes += len;
        } else {
          chain.readableCount++;
          chain.readableBytes += len;
        }
      }
      if ((flags & DescriptorFlag.NEXT) === 0) return QueueError.NONE;
      index = next;
    }
  }

  private writeAvailEvent(): void {
    this.scratchView.setUint16(0, this.lastAvailIdx, true);
    this.writeRing(this.usedRing + 4 + 8 * this.size, this.scratch2);
  }

  /** Reads a 16-bit ring field; -1 (and the queue breaks) when it is not backed by RAM. */
  private readRing16(addr: number): number {
    const memory = this.memory;
    if (memory === null) return -1;
    if (memory.readBytes(addr as GuestPhys, this.scratch2) !== 2) {
      this.fail(QueueError.RING_FAULT);
      return -1;
    }
    return this.scratchView.getUint16(0, true);
  }

  private writeRing(addr: number, bytes: Uint8Array): boolean {
    const memory = this.memory;
    if (memory === null) return false;
    if (memory.writeBytes(addr as GuestPhys, bytes) !== bytes.length) {
      this.fail(QueueError.RING_FAULT);
      return false;
    }
    return true;
  }
}
