import type { DeviceState, EntropySource } from '../../types.js';
import { VirtioDeviceId, VirtioFeature } from '../constants.js';
import type { VirtioDevice, VirtioDeviceContext } from '../device.js';
import { FeatureSet } from '../features.js';
import type { DescriptorChain } from '../queue/descriptor-chain.js';
import { QueueError } from '../queue/queue-error.js';
import { serveQueue, type ChainHandler } from '../queue/serve-queue.js';
import type { SplitQueue } from '../queue/split-queue.js';
import { expectState } from '../state-io.js';

const STATE_KIND = 'virtio-rng';
const STATE_VERSION = 1;
/** Entropy is generated in chunks of this size through one reused buffer. */
const CHUNK = 4096;

/** Counters of one {@link VirtioRng}. */
export interface VirtioRngStats {
  /** Requests answered. */
  requests: number;
  /** Random bytes handed to the guest. */
  bytes: number;
}

/** Options of a {@link VirtioRng}. */
export interface VirtioRngOptions {
  /** Where the randomness comes from (e.g. {@link CryptoEntropySource}). */
  readonly source: EntropySource;
  /** Most bytes given for one request, whatever the buffer size (default 64 KiB). */
  readonly maxBytesPerRequest?: number;
  /** QueueNumMax of the request queue (power of two, default 64). */
  readonly queueSize?: number;
}

/**
 * virtio-rng / entropy device (spec 5.4): one request queue whose device-writable buffers are
 * filled with random bytes, at most `maxBytesPerRequest` per request (the used length says how many).
 */
export class VirtioRng implements VirtioDevice {
  /** @inheritDoc */
  readonly deviceId = VirtioDeviceId.ENTROPY;
  /** @inheritDoc */
  readonly kind = STATE_KIND;
  /** @inheritDoc */
  readonly offeredFeatures = FeatureSet.of(VirtioFeature.VERSION_1, VirtioFeature.RING_INDIRECT_DESC, VirtioFeature.RING_EVENT_IDX);
  /** @inheritDoc */
  readonly queueMaxSizes: readonly number[];
  /** virtio-rng has no configuration space. */
  readonly configSize = 0;
  /** Request counters. */
  readonly stats: VirtioRngStats = { requests: 0, bytes: 0 };

  private readonly source: EntropySource;
  private readonly maxBytes: number;
  private readonly buffer = new Uint8Array(CHUNK);
  private context: VirtioDeviceContext | null = null;
  private readonly serveRequest: ChainHandler = (queue, chain) => this.fill(queue, chain);

  constructor(options: VirtioRngOptions) {
    this.source = options.source;
    this.maxBytes = options.maxBytesPerRequest ?? 64 * 1024;
    this.queueMaxSizes = [options.queueSize ?? 64];
  }

  /** @inheritDoc */
  attach(context: VirtioDeviceContext): void {
    this.context = context;
  }

  /** No config space: never called by the transport. */
  readConfig(): number {
    return 0;
  }

  /** No config space. */
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
    // Stateless.
  }

  /** @inheritDoc */
  saveState(): DeviceState {
    return { kind: STATE_KIND, version: STATE_VERSION, data: {} };
  }

  /** @inheritDoc */
  restoreState(state: DeviceState): void {
    expectState(state, STATE_KIND, STATE_VERSION);
  }

  /** Fills one request's writable buffers with random bytes; false when the queue broke. */
  private fill(queue: SplitQueue, chain: DescriptorChain): boolean {
    const total = Math.min(chain.writableBytes, this.maxBytes);
    let done = 0;
    while (done < total) {
      const count = Math.min(CHUNK, total - done);
      const part = count === CHUNK ? this.buffer : this.buffer.subarray(0, count);
      this.source.fill(part);
      if (chain.write(done, part) !== count) {
        queue.fail(QueueError.BUFFER_FAULT);
        break;
      }
      done += count;
    }
    if (!queue.usable || !queue.addUsed(chain.head, total)) return false;
    this.stats.requests++;
    this.stats.bytes += total;
    return true;
  }
}
