import { BlockIoError, type BlockBackend } from '../../types.js';

/** Options of a {@link MemoryBlockBackend}. */
export interface MemoryBlockBackendOptions {
  /** Disk size in bytes (a multiple of 512). Ignored when `data` is given. */
  readonly size?: number;
  /** Initial contents, used in place (not copied); its length must be a multiple of 512. */
  readonly data?: Uint8Array;
  /** Refuse writes (the device then offers VIRTIO_BLK_F_RO). */
  readonly readOnly?: boolean;
  /** Disk identifier shown to the guest by GET_ID (at most 20 bytes are visible). */
  readonly id?: string;
}

/**
 * A disk held in a `Uint8Array`: for tests, initrd-style scratch disks and browsers. Out-of-range
 * accesses throw {@link BlockIoError} (the device never issues them; this guards other callers).
 */
export class MemoryBlockBackend implements BlockBackend {
  /** The disk contents (live: writes land here). */
  readonly data: Uint8Array;
  /** @inheritDoc */
  readonly readOnly: boolean;
  /** @inheritDoc */
  readonly id: string;
  /** Number of completed flushes (a memory disk has nothing to flush; tests can observe them). */
  flushCount = 0;

  constructor(options: MemoryBlockBackendOptions) {
    const data = options.data ?? new Uint8Array(options.size ?? 0);
    if (data.length % 512 !== 0) throw new RangeError(`disk size ${data.length} is not a multiple of 512`);
    this.data = data;
    this.readOnly = options.readOnly ?? false;
    this.id = options.id ?? 'typevisor-memdisk';
  }

  /** @inheritDoc */
  get size(): number {
    return this.data.length;
  }

  /** @inheritDoc */
  read(offset: number, dst: Uint8Array): void {
    this.check(offset, dst.length);
    dst.set(this.data.subarray(offset, offset + dst.length));
  }

  /** @inheritDoc */
  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new BlockIoError('write to a read-only memory disk');
    this.check(offset, src.length);
    this.data.set(src, offset);
  }

  /** @inheritDoc */
  flush(): void {
    this.flushCount++;
  }

  /** @inheritDoc */
  discard(offset: number, length: number): void {
    if (this.readOnly) throw new BlockIoError('discard on a read-only memory disk');
    this.check(offset, length);
    this.data.fill(0, offset, offset + length);
  }

  private check(offset: number, length: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + length > this.data.length) {
      throw new BlockIoError(`access at ${offset}+${length} is outside the ${this.data.length}-byte memory disk`);
    }
  }
}
