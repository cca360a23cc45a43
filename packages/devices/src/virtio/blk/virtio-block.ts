import { BlockIoError, type BlockBackend, type DeviceState } from '../../types.js';
import { ConfigSpace } from '../config-space.js';
import { VirtioDeviceId, VirtioFeature } from '../constants.js';
import type { VirtioDevice, VirtioDeviceContext } from '../device.js';
import { FeatureSet } from '../features.js';
import type { DescriptorChain } from '../queue/descriptor-chain.js';
import { QueueError } from '../queue/queue-error.js';
import { serveQueue, type ChainHandler } from '../queue/serve-queue.js';
import type { SplitQueue } from '../queue/split-queue.js';
import { expectState } from '../state-io.js';
import {
  BLOCK_CONFIG_SIZE,
  BLOCK_ID_LENGTH,
  BLOCK_RANGE_SEGMENT_SIZE,
  BLOCK_REQUEST_HEADER_SIZE,
  BlockConfigOffset,
  BlockFeature,
  BlockRequestType,
  BlockStatus,
  SECTOR_SIZE,
} from './block-constants.js';

const STATE_KIND = 'virtio-blk';
const STATE_VERSION = 1;
/** Host bytes moved per backend call; the only buffer that scales with request size. */
const TRANSFER_CHUNK = 64 * 1024;
/** Largest request (header + data + status) accepted; bigger chains are malformed. */
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
/** Discard / write-zeroes limits advertised in config space. */
const MAX_RANGE_SECTORS = 0x0040_0000; // 2 GiB per segment
const MAX_RANGE_SEGMENTS = 32;

/** Counters of one {@link VirtioBlock}. */
export interface VirtioBlockStats {
  /** Completed IN requests. */
  reads: number;
  /** Completed OUT requests. */
  writes: number;
  /** Completed FLUSH requests. */
  flushes: number;
  /** Completed DISCARD requests. */
  discards: number;
  /** Completed WRITE_ZEROES requests. */
  writeZeroes: number;
  /** Requests answered with VIRTIO_BLK_S_IOERR. */
  ioErrors: number;
  /** Requests answered with VIRTIO_BLK_S_UNSUPP. */
  unsupported: number;
  /** Bytes read from the backend into the guest. */
  bytesRead: number;
  /** Bytes written from the guest to the backend. */
  bytesWritten: number;
}

/** Options of a {@link VirtioBlock}. */
export interface VirtioBlockOptions {
  /** The disk. Its `readOnly` flag offers VIRTIO_BLK_F_RO. */
  readonly backend: BlockBackend;
  /** QueueNumMax of the request queue (power of two, default 128). */
  readonly queueSize?: number;
  /** Offer VIRTIO_BLK_F_DISCARD (default true; never for read-only disks). */
  readonly discard?: boolean;
  /** Offer VIRTIO_BLK_F_WRITE_ZEROES (default true; never for read-only disks). */
  readonly writeZeroes?: boolean;
}

/**
 * virtio-blk (spec 5.2): one request queue; IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES over a
 * synchronous {@link BlockBackend}. Requests complete before the notify returns. Data moves through
 * one reused 64 KiB buffer, so host memory does not grow with request size.
 *
 * Guest errors map to status bytes as the spec says: a write to a read-only disk, a request past the
 * capacity or a length that is not whole sectors gets IOERR, a backend {@link BlockIoError} gets
 * IOERR, an unknown or not-negotiated type gets UNSUPP. A chain without room for the header or the
 * status byte is malformed and puts the device in DEVICE_NEEDS_RESET.
 */
export class VirtioBlock implements VirtioDevice {
  /** @inheritDoc */
  readonly deviceId = VirtioDeviceId.BLOCK;
  /** @inheritDoc */
  readonly kind = STATE_KIND;
  /** @inheritDoc */
  readonly offeredFeatures: FeatureSet;
  /** @inheritDoc */
  readonly queueMaxSizes: readonly number[];
  /** @inheritDoc */
  readonly configSize = BLOCK_CONFIG_SIZE;
  /** Request counters. */
  readonly stats: VirtioBlockStats = {
    reads: 0,
    writes: 0,
    flushes: 0,
    discards: 0,
    writeZeroes: 0,
    ioErrors: 0,
    unsupported: 0,
    bytesRead: 0,
    bytesWritten: 0,
  };

  private readonly backend: BlockBackend;
  private readonly config = new ConfigSpace(BLOCK_CONFIG_SIZE);
  private readonly buffer = new Uint8Array(TRANSFER_CHUNK);
  private readonly header = new Uint8Array(BLOCK_REQUEST_HEADER_SIZE);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly statusByte = new Uint8Array(1);
  private readonly idBytes = new Uint8Array(BLOCK_ID_LENGTH);
  private readonly capacitySectors: number;
  private context: VirtioDeviceContext | null = null;
  private readonly serveRequest: ChainHandler = (queue, chain) => {
    const written = this.handleRequest(queue, chain);
    return written >= 0 && queue.addUsed(chain.head, written);
  };

  constructor(options: VirtioBlockOptions) {
    const backend = options.backend;
    if (backend.size % SECTOR_SIZE !== 0) throw new RangeError(`block backend size ${backend.size} is not a multiple of 512`);
    this.backend = backend;
    this.capacitySectors = backend.size / SECTOR_SIZE;
    const queueSize = options.queueSize ?? 128;
    this.queueMaxSizes = [queueSize];
    const features = FeatureSet.of(
      VirtioFeature.VERSION_1,
      VirtioFeature.RING_INDIRECT_DESC,
      VirtioFeature.RING_EVENT_IDX,
      BlockFeature.SIZE_MAX,
      BlockFeature.SEG_MAX,
      BlockFeature.BLK_SIZE,
      BlockFeature.FLUSH,
    );
    if (backend.readOnly) features.add(BlockFeature.RO);
    if (!backend.readOnly && options.discard !== false) features.add(BlockFeature.DISCARD);
    if (!backend.readOnly && options.writeZeroes !== false) features.add(BlockFeature.WRITE_ZEROES);
    this.offeredFeatures = features;

    const id = new TextEncoder().encode(backend.id);
    this.idBytes.set(id.subarray(0, BLOCK_ID_LENGTH));

    const config = this.config;
    config.set64(BlockConfigOffset.CAPACITY, this.capacitySectors);
    config.set32(BlockConfigOffset.SIZE_MAX, TRANSFER_CHUNK);
    config.set32(BlockConfigOffset.SEG_MAX, Math.max(1, queueSize - 2));
    config.set32(BlockConfigOffset.BLK_SIZE, SECTOR_SIZE);
    config.set16(BlockConfigOffset.NUM_QUEUES, 1);
    config.set32(BlockConfigOffset.MAX_DISCARD_SECTORS, MAX_RANGE_SECTORS);
    config.set32(BlockConfigOffset.MAX_DISCARD_SEG, MAX_RANGE_SEGMENTS);
    config.set32(BlockConfigOffset.DISCARD_SECTOR_ALIGNMENT, 1);
    config.set32(BlockConfigOffset.MAX_WRITE_ZEROES_SECTORS, MAX_RANGE_SECTORS);
    config.set32(BlockConfigOffset.MAX_WRITE_ZEROES_SEG, MAX_RANGE_SEGMENTS);
    config.set8(BlockConfigOffset.WRITE_ZEROES_MAY_UNMAP, 1);
  }

  /** @inheritDoc */
  attach(context: VirtioDeviceContext): void {
    this.context = context;
    context.queue(0).maxChainBytes = MAX_REQUEST_BYTES;
  }

  /** @inheritDoc */
  readConfig(offset: number, size: 1 | 2 | 4): number {
    return this.config.read(offset, size);
  }

  /** Every virtio-blk config field we expose is read-only (no CONFIG_WCE). */
  writeConfig(): boolean {
    return false;
  }

  /** @inheritDoc */
  validateFeatures(): string | null {
    return null;
  }

  /** @inheritDoc */
  activate(): void {
    serveQueue(this.context, 0, this.serveRequest);
  }

  /** @inheritDoc */
  queueNotify(index: number): void {
    if (index === 0) serveQueue(this.context, 0, this.serveRequest);
  }

  /** @inheritDoc */
  reset(): void {
    // No per-session state: requests complete synchronously.
  }

  /** @inheritDoc */
  saveState(): DeviceState {
    return { kind: STATE_KIND, version: STATE_VERSION, data: {} };
  }

  /** @inheritDoc */
  restoreState(state: DeviceState): void {
    expectState(state, STATE_KIND, STATE_VERSION);
  }

  /** Executes one request; returns the bytes written into the chain, or -1 when the queue broke. */
  private handleRequest(queue: SplitQueue, chain: DescriptorChain): number {
    if (chain.readableBytes < BLOCK_REQUEST_HEADER_SIZE || chain.writableBytes < 1) {
      queue.fail(QueueError.BAD_REQUEST);
      return -1;
    }
    if (chain.read(0, this.header) !== BLOCK_REQUEST_HEADER_SIZE) {
      queue.fail(QueueError.BUFFER_FAULT);
      return -1;
    }
    const view = this.headerView;
    const type = view.getUint32(0, true);
    const sectorLow = view.getUint32(8, true);
    const sectorHigh = view.getUint32(12, true);
    const statusOffset = chain.writableBytes - 1;
    let status: number;
    let dataWritten = 0;
    try {
      switch (type) {
        case BlockRequestType.IN: {
          const result = this.readSectors(chain, sectorLow, sectorHigh, statusOffset);
          if (result === -1) return this.bufferFault(queue);
          status = result === -2 ? BlockStatus.IOERR : BlockStatus.OK;
          dataWritten = result >= 0 ? result : 0;
          if (status === BlockStatus.OK) this.stats.reads++;
          break;
        }
        case BlockRequestType.OUT:
          status = this.writeSectors(chain, sectorLow, sectorHigh);
          if (status < 0) return this.bufferFault(queue);
          if (status === BlockStatus.OK) this.stats.writes++;
          break;
        case BlockRequestType.FLUSH:
          this.backend.flush();
          this.stats.flushes++;
          status = BlockStatus.OK;
          break;
        case BlockRequestType.GET_ID: {
          const length = Math.min(BLOCK_ID_LENGTH, statusOffset);
          if (chain.write(0, length === BLOCK_ID_LENGTH ? this.idBytes : this.idBytes.subarray(0, length)) < 0) {
            return this.bufferFault(queue);
          }
          dataWritten = length;
          status = BlockStatus.OK;
          break;
        }
        case BlockRequestType.DISCARD:
        case BlockRequestType.WRITE_ZEROES:
          status = this.rangeRequest(chain, type);
          if (status < 0) return this.bufferFault(queue);
          break;
        default:
          status = BlockStatus.UNSUPP;
      }
    } catch (error) {
      if (!(error instanceof BlockIoError)) throw error;
      status = BlockStatus.IOERR;
    }
    if (status === BlockStatus.IOERR) this.stats.ioErrors++;
    else if (status === BlockStatus.UNSUPP) this.stats.unsupported++;
    this.statusByte[0] = status;
    if (chain.write(statusOffset, this.statusByte) !== 1) return this.bufferFault(queue);
    return dataWritten + 1;
  }

  private bufferFault(queue: SplitQueue): number {
    queue.fail(QueueError.BUFFER_FAULT);
    return -1;
  }

  /** Byte offset of a sector range when it lies inside the disk, else -1. */
  private rangeOffset(sectorLow: number, sectorHigh: number, bytes: number): number {
    if (sectorHigh !== 0) return -1;
    const offset = sectorLow * SECTOR_SIZE;
    return offset + bytes <= this.backend.size ? offset : -1;
  }

  /** IN: returns data bytes written, -1 on a guest buffer fault, -2 for IOERR. */
  private readSectors(chain: DescriptorChain, sectorLow: number, sectorHigh: number, length: number): number {
    if (length % SECTOR_SIZE !== 0) return -2;
    const offset = this.rangeOffset(sectorLow, sectorHigh, length);
    if (offset < 0) return -2;
    const buffer = this.buffer;
    for (let done = 0; done < length; ) {
      const count = Math.min(buffer.length, length - done);
      const part = count === buffer.length ? buffer : buffer.subarray(0, count);
      this.backend.read(offset + done, part);
      if (chain.write(done, part) !== count) return -1;
      done += count;
    }
    this.stats.bytesRead += length;
    return length;
  }

  /** OUT: returns a status, or -1 on a guest buffer fault. */
  private writeSectors(chain: DescriptorChain, sectorLow: number, sectorHigh: number): number {
    const length = chain.readableBytes - BLOCK_REQUEST_HEADER_SIZE;
    if (this.backend.readOnly || length % SECTOR_SIZE !== 0) return BlockStatus.IOERR;
    const offset = this.rangeOffset(sectorLow, sectorHigh, length);
    if (offset < 0) return BlockStatus.IOERR;
    const buffer = this.buffer;
    for (let done = 0; done < length; ) {
      const count = Math.min(buffer.length, length - done);
      const part = count === buffer.length ? buffer : buffer.subarray(0, count);
      if (chain.read(BLOCK_REQUEST_HEADER_SIZE + done, part) !== count) return -1;
      this.backend.write(offset + done, part);
      done += count;
    }
    this.stats.bytesWritten += length;
    return BlockStatus.OK;
  }

  /** DISCARD / WRITE_ZEROES: returns a status, or -1 on a guest buffer fault. */
  private rangeRequest(chain: DescriptorChain, type: number): number {
    const isDiscard = type === BlockRequestType.DISCARD;
    const feature = isDiscard ? BlockFeature.DISCARD : BlockFeature.WRITE_ZEROES;
    if (!(this.context as VirtioDeviceContext).features.has(feature)) return BlockStatus.UNSUPP;
    if (this.backend.readOnly) return BlockStatus.IOERR;
    const payload = chain.readableBytes - BLOCK_REQUEST_HEADER_SIZE;
    const segments = payload / BLOCK_RANGE_SEGMENT_SIZE;
    if (payload === 0 || payload % BLOCK_RANGE_SEGMENT_SIZE !== 0 || segments > MAX_RANGE_SEGMENTS) return BlockStatus.IOERR;
    const view = this.headerView;
    // Validate every segment before touching the disk, so a bad one leaves the disk unchanged.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < segments; i++) {
        if (chain.read(BLOCK_REQUEST_HEADER_SIZE + i * BLOCK_RANGE_SEGMENT_SIZE, this.header) !== BLOCK_RANGE_SEGMENT_SIZE) {
          return -1;
        }
        const sectorLow = view.getUint32(0, true);
        const sectorHigh = view.getUint32(4, true);
        const sectors = view.getUint32(8, true);
        const flags = view.getUint32(12, true);
        const unmap = (flags & 1) !== 0;
        if (pass === 0) {
          if ((flags & ~1) !== 0 || (isDiscard && unmap)) return BlockStatus.UNSUPP;
          if (sectors > MAX_RANGE_SECTORS) return BlockStatus.IOERR;
          if (this.rangeOffset(sectorLow, sectorHigh, sectors * SECTOR_SIZE) < 0) return BlockStatus.IOERR;
          continue;
        }
        const offset = sectorLow * SECTOR_SIZE;
        const bytes = sectors * SECTOR_SIZE;
        if (isDiscard || unmap) this.backend.discard(offset, bytes);
        else this.writeZeroBytes(offset, bytes);
      }
    }
    if (isDiscard) this.stats.discards++;
    else this.stats.writeZeroes++;
    return BlockStatus.OK;
  }

  private writeZeroBytes(offset: number, length: number): void {
    const buffer = this.buffer;
    buffer.fill(0);
    for (let done = 0; done < length; ) {
      const count = Math.min(buffer.length, length - done);
      this.backend.write(offset + done, count === buffer.length ? buffer : buffer.subarray(0, count));
      done += count;
    }
  }
}
