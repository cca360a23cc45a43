import type { GuestPhys, MemoryBus } from '../dma.js';

/**
 * One descriptor chain popped from a virtqueue, flattened into scatter-gather segments: first the
 * device-readable ones, then the device-writable ones. The arrays are allocated once per queue (sized
 * for the longest legal chain) and reused for every chain, so walking a chain allocates nothing.
 *
 * Offsets passed to the accessors are relative to the start of the readable (or writable) part.
 */
export class DescriptorChain {
  /** Index of the head descriptor; what goes into the used ring. */
  head = 0;
  /** Number of device-readable segments (they come first in the arrays). */
  readableCount = 0;
  /** Number of device-writable segments (they follow the readable ones). */
  writableCount = 0;
  /** Total bytes in the readable segments. */
  readableBytes = 0;
  /** Total bytes in the writable segments. */
  writableBytes = 0;
  /** Segment guest-physical addresses (each segment fits below 4 GiB). */
  readonly addresses: Uint32Array;
  /** Segment lengths in bytes (never 0: empty descriptors are skipped). */
  readonly lengths: Uint32Array;
  private memory: MemoryBus | null = null;

  constructor(capacity: number) {
    this.addresses = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
  }

  /** Maximum number of segments this chain can hold. */
  get capacity(): number {
    return this.addresses.length;
  }

  /** @internal Starts a new chain; called by the queue. */
  begin(memory: MemoryBus, head: number): void {
    this.memory = memory;
    this.head = head;
    this.readableCount = 0;
    this.writableCount = 0;
    this.readableBytes = 0;
    this.writableBytes = 0;
  }

  /**
   * Copies readable bytes starting at `offset` into `dst` (as many as fit and exist). Returns the
   * number copied, or -1 when a segment is not backed by guest RAM.
   */
  read(offset: number, dst: Uint8Array): number {
    return this.transfer(0, this.readableCount, offset, dst, false);
  }

  /**
   * Copies `src` into the writable part starting at `offset` (as much as fits). Returns the number
   * copied, or -1 when a segment is not backed by guest RAM.
   */
  write(offset: number, src: Uint8Array): number {
    return this.transfer(this.readableCount, this.readableCount + this.writableCount, offset, src, true);
  }

  /** Guest-physical address of writable byte `offset`, or -1 when the offset is past the end. */
  writableAddress(offset: number): number {
    const end = this.readableCount + this.writableCount;
    let skip = offset;
    for (let i = this.readableCount; i < end; i++) {
      const len = this.lengths[i];
      if (skip < len) return this.addresses[i] + skip;
      skip -= len;
    }
    return -1;
  }

  private transfer(first: number, end: number, offset: number, buffer: Uint8Array, toGuest: boolean): number {
    const memory = this.memory;
    if (memory === null) return -1;
    let skip = offset;
    let done = 0;
    const total = buffer.length;
    for (let i = first; i < end && done < total; i++) {
      const len = this.lengths[i];
      if (skip >= len) {
        skip -= len;
        continue;
      }
      const count = Math.min(len - skip, total - done);
      const addr = (this.addresses[i] + skip) as GuestPhys;
      const part = count === total ? buffer : buffer.subarray(done, done + count);
      const moved = toGuest ? memory.writeBytes(addr, part) : memory.readBytes(addr, part);
      if (moved !== count) return -1;
      done += count;
      skip = 0;
    }
    return done;
  }
}
