import type { DeviceState, EthernetFrame, NetBackend } from '../../types.js';
import { ConfigSpace } from '../config-space.js';
import { VirtioDeviceId, VirtioFeature } from '../constants.js';
import type { VirtioDevice, VirtioDeviceContext } from '../device.js';
import type { GuestPhys } from '../dma.js';
import { FeatureSet } from '../features.js';
import type { DescriptorChain } from '../queue/descriptor-chain.js';
import { QueueError } from '../queue/queue-error.js';
import { serveQueue, type ChainHandler } from '../queue/serve-queue.js';
import type { SplitQueue } from '../queue/split-queue.js';
import { booleanField, expectState } from '../state-io.js';
import {
  MAX_FRAME_SIZE,
  NET_CONFIG_SIZE,
  NET_HEADER_NUM_BUFFERS,
  NET_HEADER_SIZE,
  NetConfigOffset,
  NetFeature,
  NetLinkStatus,
  NetQueue,
} from './net-constants.js';

const STATE_KIND = 'virtio-net';
const STATE_VERSION = 1;

/** Outcome of trying to place one frame in the receive queue. */
const Delivery = { DONE: 0, NO_BUFFERS: 1, DROPPED: 2, BROKEN: 3 } as const;

/** Counters of one {@link VirtioNet}. */
export interface VirtioNetStats {
  /** Frames the guest sent that reached the backend. */
  txFrames: number;
  /** Bytes of those frames. */
  txBytes: number;
  /** Guest frames dropped because the link was down or the frame was a runt. */
  txDropped: number;
  /** Frames placed in guest receive buffers. */
  rxFrames: number;
  /** Bytes of those frames. */
  rxBytes: number;
  /** Host frames dropped: link down, device not running, backlog full, or too big for the buffers. */
  rxDropped: number;
}

/** Options of a {@link VirtioNet}. */
export interface VirtioNetOptions {
  /** Where frames go and come from. */
  readonly backend: NetBackend;
  /** The NIC's MAC address (6 bytes; default 02:74:76:00:00:01, locally administered). */
  readonly mac?: ArrayLike<number>;
  /** QueueNumMax of both queues (power of two, default 256). */
  readonly queueSize?: number;
  /** Offer VIRTIO_NET_F_MRG_RXBUF (default true). */
  readonly mergeableRxBuffers?: boolean;
  /** Frames held while the guest has no receive buffers; more are dropped (default 64). */
  readonly rxBacklogFrames?: number;
  /** Initial link state (default up). */
  readonly linkUp?: boolean;
}

/**
 * virtio-net (spec 5.1): one receive and one transmit queue, MAC and link status in config space,
 * optional merged receive buffers. No offloads are offered, so every frame is complete and checksummed.
 *
 * Received frames wait in a small bounded backlog when the guest has not posted buffers; when it is
 * full, or a frame cannot fit (a single buffer too small without MRG_RXBUF), the frame is dropped and
 * counted — never queued without bound.
 */
export class VirtioNet implements VirtioDevice {
  /** @inheritDoc */
  readonly deviceId = VirtioDeviceId.NET;
  /** @inheritDoc */
  readonly kind = STATE_KIND;
  /** @inheritDoc */
  readonly offeredFeatures: FeatureSet;
  /** @inheritDoc */
  readonly queueMaxSizes: readonly number[];
  /** @inheritDoc */
  readonly configSize = NET_CONFIG_SIZE;
  /** Frame counters. */
  readonly stats: VirtioNetStats = { txFrames: 0, txBytes: 0, txDropped: 0, rxFrames: 0, rxBytes: 0, rxDropped: 0 };

  private readonly backend: NetBackend;
  private readonly config = new ConfigSpace(NET_CONFIG_SIZE);
  private readonly header = new Uint8Array(NET_HEADER_SIZE);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly numBuffersBytes = new Uint8Array(1);
  private readonly backlog: EthernetFrame[] = [];
  private readonly backlogLimit: number;
  private readonly rxHeads: Uint32Array;
  private readonly rxLengths: Uint32Array;
  private context: VirtioDeviceContext | null = null;
  private linkUp: boolean;
  private readonly serveTransmit: ChainHandler = (queue, chain) =>
    this.transmitChain(queue, chain) && queue.addUsed(chain.head, 0);

  constructor(options: VirtioNetOptions) {
    this.backend = options.backend;
    const queueSize = options.queueSize ?? 256;
    this.queueMaxSizes = [queueSize, queueSize];
    this.rxHeads = new Uint32Array(queueSize);
    this.rxLengths = new Uint32Array(queueSize);
    this.backlogLimit = options.rxBacklogFrames ?? 64;
    this.linkUp = options.linkUp ?? true;
    const features = FeatureSet.of(
      VirtioFeature.VERSION_1,
      VirtioFeature.RING_INDIRECT_DESC,
      VirtioFeature.RING_EVENT_IDX,
      NetFeature.MAC,
      NetFeature.STATUS,
    );
    if (options.mergeableRxBuffers !== false) features.add(NetFeature.MRG_RXBUF);
    this.offeredFeatures = features;
    const mac = options.mac ?? [0x02, 0x74, 0x76, 0x00, 0x00, 0x01];
    if (mac.length !== 6) throw new RangeError(`a MAC address has 6 bytes, got ${mac.length}`);
    for (let i = 0; i < 6; i++) this.config.set8(NetConfigOffset.MAC + i, (mac[i] as number) & 0xff);
    this.config.set16(NetConfigOffset.STATUS, this.linkUp ? NetLinkStatus.LINK_UP : 0);
    this.config.set16(NetConfigOffset.MAX_VIRTQUEUE_PAIRS, 1);
    this.config.set16(NetConfigOffset.MTU, 1500);
    this.backend.setReceiver((frame) => this.onFrame(frame));
  }

  /** The MAC address in config space. */
  get mac(): Uint8Array {
    return this.config.bytes.slice(NetConfigOffset.MAC, NetConfigOffset.MAC + 6);
  }

  /** Whether the link is up. */
  get isLinkUp(): boolean {
    return this.linkUp;
  }

  /** Frames waiting for receive buffers. */
  get rxBacklog(): number {
    return this.backlog.length;
  }

  /**
   * Plugs or unplugs the cable: updates the config `status` and sends a configuration-change
   * interrupt. While down, frames in both directions are dropped.
   */
  setLinkUp(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    this.config.set16(NetConfigOffset.STATUS, up ? NetLinkStatus.LINK_UP : 0);
    if (!up) this.dropBacklog();
    this.context?.configChanged();
  }

  /** @inheritDoc */
  attach(context: VirtioDeviceContext): void {
    this.context = context;
    context.queue(NetQueue.TX).maxChainBytes = NET_HEADER_SIZE + MAX_FRAME_SIZE;
  }

  /** @inheritDoc */
  readConfig(offset: number, size: 1 | 2 | 4): number {
    return this.config.read(offset, size);
  }

  /** The MAC is read-only for a virtio 1.x driver (it may be changed only through a control queue). */
  writeConfig(): boolean {
    return false;
  }

  /** @inheritDoc */
  validateFeatures(): string | null {
    return null;
  }

  /** @inheritDoc */
  activate(): void {
    this.transmit();
    this.flushBacklog();
  }

  /** @inheritDoc */
  queueNotify(index: number): void {
    if (index === NetQueue.TX) this.transmit();
    else if (index === NetQueue.RX) this.flushBacklog();
  }

  /** @inheritDoc */
  reset(): void {
    this.backlog.length = 0;
  }

  /** @inheritDoc */
  saveState(): DeviceState {
    return { kind: STATE_KIND, version: STATE_VERSION, data: { linkUp: this.linkUp } };
  }

  /** Restores the link state; frames that were waiting in the backlog are not part of a snapshot. */
  restoreState(state: DeviceState): void {
    const data = expectState(state, STATE_KIND, STATE_VERSION);
    this.linkUp = booleanField(data, 'linkUp', STATE_KIND);
    this.config.set16(NetConfigOffset.STATUS, this.linkUp ? NetLinkStatus.LINK_UP : 0);
    this.backlog.length = 0;
  }

  private onFrame(frame: EthernetFrame): void {
    const context = this.context;
    if (context === null || !context.active || !this.linkUp || frame.length > MAX_FRAME_SIZE) {
      this.stats.rxDropped++;
      return;
    }
    if (this.backlog.length >= this.backlogLimit) {
      this.stats.rxDropped++;
      return;
    }
    this.backlog.push(frame);
    context.guard(() => this.flushBacklog());
  }

  private dropBacklog(): void {
    this.stats.rxDropped += this.backlog.length;
    this.backlog.length = 0;
  }

  private transmit(): void {
    serveQueue(this.context, NetQueue.TX, this.serveTransmit);
  }

  private transmitChain(queue: SplitQueue, chain: DescriptorChain): boolean {
    if (chain.readableBytes < NET_HEADER_SIZE) {
      queue.fail(QueueError.BAD_REQUEST);
      return false;
    }
    const length = chain.readableBytes - NET_HEADER_SIZE;
    if (!this.linkUp || length < 14) {
      this.stats.txDropped++;
      return true;
    }
    // The backend keeps the frame, so it gets its own copy, exactly the size of the guest's buffers.
    const frame = new Uint8Array(length);
    if (chain.read(NET_HEADER_SIZE, frame) !== length) {
      queue.fail(QueueError.BUFFER_FAULT);
      return false;
    }
    this.stats.txFrames++;
    this.stats.txBytes += length;
    this.backend.send(frame);
    return true;
  }

  private flushBacklog(): void {
    const context = this.context;
    if (context === null || !context.active || this.backlog.length === 0) return;
    const queue = context.queue(NetQueue.RX);
    if (!queue.usable) return;
    let delivered = 0;
    while (this.backlog.length > 0) {
      const outcome = this.deliver(queue, this.backlog[0] as EthernetFrame);
      if (outcome === Delivery.NO_BUFFERS || outcome === Delivery.BROKEN) break;
      this.backlog.shift();
      if (outcome === Delivery.DROPPED) this.stats.rxDropped++;
      else delivered++;
    }
    if (delivered > 0) context.notifyUsed(NetQueue.RX);
  }

  private deliver(queue: SplitQueue, frame: EthernetFrame): number {
    const features = (this.context as VirtioDeviceContext).features;
    const total = NET_HEADER_SIZE + frame.length;
    this.header.fill(0);
    if (!features.has(NetFeature.MRG_RXBUF)) {
      const chain = queue.pop();
      if (chain === null) return queue.broken ? Delivery.BROKEN : Delivery.NO_BUFFERS;
      if (chain.writableBytes < total) {
        queue.unpop(1);
        return Delivery.DROPPED;
      }
      this.headerView.setUint16(NET_HEADER_NUM_BUFFERS, 1, true);
      if (!this.writeStream(chain, frame, 0, total)) return this.fault(queue);
      if (!queue.addUsed(chain.head, total)) return Delivery.BROKEN;
      this.stats.rxFrames++;
      this.stats.rxBytes += frame.length;
      return Delivery.DONE;
    }
    // Merged buffers: spread header + frame over as many chains as needed, then publish them together.
    let used = 0;
    let position = 0;
    let numBuffersLow = -1;
    let numBuffersHigh = -1;
    while (position < total) {
      const chain = queue.pop();
      if (chain === null) {
        if (queue.broken) return Delivery.BROKEN;
        queue.unpop(used);
        return used >= queue.size ? Delivery.DROPPED : Delivery.NO_BUFFERS;
      }
      if (chain.writableBytes < NET_HEADER_SIZE) {
        // Spec 5.1.6.3.1: with MRG_RXBUF every buffer must hold at least the header.
        queue.fail(QueueError.BAD_REQUEST);
        return Delivery.BROKEN;
      }
      if (used === 0) {
        numBuffersLow = chain.writableAddress(NET_HEADER_NUM_BUFFERS);
        numBuffersHigh = chain.writableAddress(NET_HEADER_NUM_BUFFERS + 1);
      }
      const count = Math.min(chain.writableBytes, total - position);
      if (!this.writeStream(chain, frame, position, count)) return this.fault(queue);
      this.rxHeads[used] = chain.head;
      this.rxLengths[used] = count;
      used++;
      position += count;
    }
    const memory = (this.context as VirtioDeviceContext).memory;
    this.numBuffersBytes[0] = used & 0xff;
    const lowOk = memory.writeBytes(numBuffersLow as GuestPhys, this.numBuffersBytes) === 1;
    this.numBuffersBytes[0] = used >>> 8;
    const highOk = memory.writeBytes(numBuffersHigh as GuestPhys, this.numBuffersBytes) === 1;
    if (!lowOk || !highOk) return this.fault(queue);
    for (let i = 0; i < used; i++) {
      if (!queue.pushUsed(this.rxHeads[i] as number, this.rxLengths[i] as number)) return Delivery.BROKEN;
    }
    if (!queue.publishUsed()) return Delivery.BROKEN;
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    return Delivery.DONE;
  }

  /** Writes bytes [start, start + count) of header ‖ frame to the start of the chain's writable part. */
  private writeStream(chain: DescriptorChain, frame: EthernetFrame, start: number, count: number): boolean {
    let written = 0;
    if (start < NET_HEADER_SIZE) {
      const headerPart = this.header.subarray(start, Math.min(NET_HEADER_SIZE, start + count));
      if (chain.write(0, headerPart) !== headerPart.length) return false;
      written = headerPart.length;
    }
    if (written < count) {
      const frameStart = start + written - NET_HEADER_SIZE;
      const framePart = frame.subarray(frameStart, frameStart + count - written);
      if (chain.write(written, framePart) !== framePart.length) return false;
    }
    return true;
  }

  private fault(queue: SplitQueue): number {
    queue.fail(QueueError.BUFFER_FAULT);
    return Delivery.BROKEN;
  }
}
