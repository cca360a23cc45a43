import type { Snapshottable } from '../types.js';
import type { MemoryBus } from './dma.js';
import type { FeatureSet } from './features.js';
import type { SplitQueue } from './queue/split-queue.js';
import type { QueueErrorCode } from './queue/queue-error.js';

/**
 * What a transport gives a virtio device: its queues, guest memory, the negotiated features and the
 * ways to tell the driver something happened. A device never touches registers or interrupt lines.
 */
export interface VirtioDeviceContext {
  /** Guest memory for DMA. */
  readonly memory: MemoryBus;
  /** Features the driver accepted (valid once FEATURES_OK was latched). */
  readonly features: FeatureSet;
  /** True between DRIVER_OK and the next reset, while the device is not broken or failed. */
  readonly active: boolean;
  /** The device's queue number `index`. */
  queue(index: number): SplitQueue;
  /** Sends a used-buffer interrupt for `index` unless the driver suppressed it. */
  notifyUsed(index: number): void;
  /** Bumps the config generation and sends a configuration-change interrupt (when DRIVER_OK). */
  configChanged(): void;
  /** Marks the device broken (DEVICE_NEEDS_RESET + configuration-change interrupt, spec 2.1.2). */
  fail(code: QueueErrorCode, queueIndex: number): void;
  /**
   * Runs host-initiated work (a frame arrived, input bytes arrived) so that a device bug becomes
   * DEVICE_NEEDS_RESET instead of an exception in the host's event loop.
   */
  guard(action: () => void): void;
}

/**
 * One virtio device type (blk, net, console, rng, or your own), independent of the transport. The
 * transport ({@link VirtioMmioTransport}) owns status, feature negotiation and the queues; the device
 * owns its configuration space and what requests mean.
 */
export interface VirtioDevice extends Snapshottable {
  /** Virtio device ID (spec 5), e.g. 2 for block. */
  readonly deviceId: number;
  /** Short kind used in snapshots and stats, e.g. `"virtio-blk"`. */
  readonly kind: string;
  /** Every feature the device offers, including VIRTIO_F_VERSION_1. */
  readonly offeredFeatures: FeatureSet;
  /** QueueNumMax of each queue; the array length is the number of queues. */
  readonly queueMaxSizes: readonly number[];
  /** Size of the device-specific configuration space in bytes. */
  readonly configSize: number;
  /** Connects the device to its transport; called once, by the transport's constructor. */
  attach(context: VirtioDeviceContext): void;
  /** Reads `size` bytes of config space at `offset` (already bounds- and alignment-checked). */
  readConfig(offset: number, size: 1 | 2 | 4): number;
  /** Writes config space; returns false when the field is read-only (the access is then counted). */
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): boolean;
  /** Device-specific checks of the driver's feature choice (e.g. dependencies); null when fine. */
  validateFeatures(features: FeatureSet): string | null;
  /** DRIVER_OK was set: the queues are ready and the device may start working. */
  activate(): void;
  /** The driver notified queue `index` (only while active). */
  queueNotify(index: number): void;
  /** Device reset (status 0 written): drop guest-visible per-session state. */
  reset(): void;
}

