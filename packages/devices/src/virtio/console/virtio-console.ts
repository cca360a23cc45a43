import type { CharBackend, DeviceState } from '../../types.js';
import { ConfigSpace } from '../config-space.js';
import { VirtioDeviceId, VirtioFeature } from '../constants.js';
import type { VirtioDevice, VirtioDeviceContext } from '../device.js';
import { FeatureSet } from '../features.js';
import type { DescriptorChain } from '../queue/descriptor-chain.js';
import { QueueError } from '../queue/queue-error.js';
import { serveQueue, type ChainHandler } from '../queue/serve-queue.js';
import type { SplitQueue } from '../queue/split-queue.js';
import { base64ToBytes, bytesToBase64, expectState, numberField, stringField } from '../state-io.js';
import { CONSOLE_CONFIG_SIZE, ConsoleConfigOffset, ConsoleFeature, ConsoleQueue } from './console-constants.js';

const STATE_KIND = 'virtio-console';
const STATE_VERSION = 1;
/** Largest single transmit chain accepted; a bigger one is malformed. */
const MAX_OUTPUT_CHAIN = 1024 * 1024;

/** Counters of one {@link VirtioConsole}. */
export interface VirtioConsoleStats {
  /** Bytes the guest wrote (including emergency writes). */
  outputBytes: number;
  /** Host bytes delivered into guest receive buffers. */
  inputBytes: number;
  /** Host bytes dropped because the input buffer was full. */
  inputDropped: number;
}

/** Options of a {@link VirtioConsole}. */
export interface VirtioConsoleOptions {
  /** The terminal (or file, socket) behind port 0. */
  readonly backend: CharBackend;
  /** Initial console size; offers VIRTIO_CONSOLE_F_SIZE (default 80 x 25). */
  readonly cols?: number;
  /** Initial console height in rows. */
  readonly rows?: number;
  /** QueueNumMax of both queues (power of two, default 64). */
  readonly queueSize?: number;
  /** Host input held until the guest posts buffers; more is dropped (default 64 KiB). */
  readonly inputBufferSize?: number;
}

/**
 * virtio-console (spec 5.3), single port: port 0's receiveq and transmitq, the console size in
 * config space (VIRTIO_CONSOLE_F_SIZE) and emergency write (VIRTIO_CONSOLE_F_EMERG_WRITE). Host
 * input waits in a bounded ring buffer until the guest posts receive buffers.
 */
export class VirtioConsole implements VirtioDevice {
  /** @inheritDoc */
  readonly deviceId = VirtioDeviceId.CONSOLE;
  /** @inheritDoc */
  readonly kind = STATE_KIND;
  /** @inheritDoc */
  readonly offeredFeatures = FeatureSet.of(
    VirtioFeature.VERSION_1,
    VirtioFeature.RING_INDIRECT_DESC,
    VirtioFeature.RING_EVENT_IDX,
    ConsoleFeature.SIZE,
    ConsoleFeature.EMERG_WRITE,
  );
  /** @inheritDoc */
  readonly queueMaxSizes: readonly number[];
  /** @inheritDoc */
  readonly configSize = CONSOLE_CONFIG_SIZE;
  /** Byte counters. */
  readonly stats: VirtioConsoleStats = { outputBytes: 0, inputBytes: 0, inputDropped: 0 };

  private readonly backend: CharBackend;
  private readonly config = new ConfigSpace(CONSOLE_CONFIG_SIZE);
  private readonly input: Uint8Array;
  private inputStart = 0;
  private inputCount = 0;
  private context: VirtioDeviceContext | null = null;
  private readonly serveTransmit: ChainHandler = (queue, chain) => this.transmitChain(queue, chain);

  constructor(options: VirtioConsoleOptions) {
    this.backend = options.backend;
    const queueSize = options.queueSize ?? 64;
    this.queueMaxSizes = [queueSize, queueSize];
    this.input = new Uint8Array(options.inputBufferSize ?? 64 * 1024);
    this.config.set16(ConsoleConfigOffset.COLS, options.cols ?? 80);
    this.config.set16(ConsoleConfigOffset.ROWS, options.rows ?? 25);
    this.config.set32(ConsoleConfigOffset.MAX_NR_PORTS, 1);
    this.backend.setReceiver((bytes) => this.onInput(bytes));
  }

  /** Console width in columns. */
  get cols(): number {
    return this.config.get16(ConsoleConfigOffset.COLS);
  }

  /** Console height in rows. */
  get rows(): number {
    return this.config.get16(ConsoleConfigOffset.ROWS);
  }

  /** Host input bytes not yet delivered to the guest. */
  get pendingInput(): number {
    return this.inputCount;
  }

  /** Changes the console size and sends a configuration-change interrupt (the guest re-reads it). */
  resize(cols: number, rows: number): void {
    this.config.set16(ConsoleConfigOffset.COLS, cols & 0xffff);
    this.config.set16(ConsoleConfigOffset.ROWS, rows & 0xffff);
    this.context?.configChanged();
  }

  /** @inheritDoc */
  attach(context: VirtioDeviceContext): void {
    this.context = context;
    context.queue(ConsoleQueue.TX).maxChainBytes = MAX_OUTPUT_CHAIN;
  }

  /** @inheritDoc */
  readConfig(offset: number, size: 1 | 2 | 4): number {
    return this.config.read(offset, size);
  }

  /** Only emerg_wr is writable, and only once VIRTIO_CONSOLE_F_EMERG_WRITE was negotiated. */
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): boolean {
    const context = this.context;
    if (offset !== ConsoleConfigOffset.EMERG_WR || size !== 4 || context === null) return false;
    if (!context.features.has(ConsoleFeature.EMERG_WRITE)) return false;
    this.stats.outputBytes++;
    this.backend.write(Uint8Array.of(value & 0xff));
    return true;
  }

  /** @inheritDoc */
  validateFeatures(): string | null {
    return null;
  }

  /** @inheritDoc */
  activate(): void {
    this.transmit();
    this.deliverInput();
  }

  /** @inheritDoc */
  queueNotify(index: number): void {
    if (index === ConsoleQueue.TX) this.transmit();
    else if (index === ConsoleQueue.RX) this.deliverInput();
  }

  /** @inheritDoc */
  reset(): void {
    // Typed-ahead input survives a driver reset, as it would in a terminal's buffer.
  }

  /** @inheritDoc */
  saveState(): DeviceState {
    return {
      kind: STATE_KIND,
      version: STATE_VERSION,
      data: { cols: this.cols, rows: this.rows, pendingInput: bytesToBase64(this.peekInput()) },
    };
  }

  /** @inheritDoc */
  restoreState(state: DeviceState): void {
    const data = expectState(state, STATE_KIND, STATE_VERSION);
    const cols = numberField(data, 'cols', STATE_KIND);
    const rows = numberField(data, 'rows', STATE_KIND);
    const pending = base64ToBytes(stringField(data, 'pendingInput', STATE_KIND));
    this.config.set16(ConsoleConfigOffset.COLS, cols & 0xffff);
    this.config.set16(ConsoleConfigOffset.ROWS, rows & 0xffff);
    this.inputStart = 0;
    this.inputCount = 0;
    this.enqueue(pending);
  }

  private onInput(bytes: Uint8Array): void {
    this.enqueue(bytes);
    const context = this.context;
    if (context !== null && context.active) context.guard(() => this.deliverInput());
  }

  private enqueue(bytes: Uint8Array): void {
    const capacity = this.input.length;
    const accepted = Math.min(bytes.length, capacity - this.inputCount);
    for (let i = 0; i < accepted; i++) {
      this.input[(this.inputStart + this.inputCount + i) % capacity] = bytes[i] as number;
    }
    this.inputCount += accepted;
    this.stats.inputDropped += bytes.length - accepted;
  }

  private peekInput(): Uint8Array {
    const out = new Uint8Array(this.inputCount);
    for (let i = 0; i < this.inputCount; i++) out[i] = this.input[(this.inputStart + i) % this.input.length] as number;
    return out;
  }

  private deliverInput(): void {
    const context = this.context;
    if (context === null || !context.active || this.inputCount === 0) return;
    const queue = context.queue(ConsoleQueue.RX);
    if (!queue.usable) return;
    let delivered = false;
    while (this.inputCount > 0) {
      const chain = queue.pop();
      if (chain === null) break;
      // Contiguous run of the ring buffer (at most two runs per chain).
      let written = 0;
      while (written < chain.writableBytes && this.inputCount > 0) {
        const run = Math.min(this.inputCount, this.input.length - this.inputStart, chain.writableBytes - written);
        if (chain.write(written, this.input.subarray(this.inputStart, this.inputStart + run)) !== run) {
          queue.fail(QueueError.BUFFER_FAULT);
          return;
        }
        written += run;
        this.inputStart = (this.inputStart + run) % this.input.length;
        this.inputCount -= run;
      }
      if (!queue.addUsed(chain.head, written)) return;
      this.stats.inputBytes += written;
      delivered = true;
    }
    if (delivered) context.notifyUsed(ConsoleQueue.RX);
  }

  private transmit(): void {
    serveQueue(this.context, ConsoleQueue.TX, this.serveTransmit);
  }

  /** Writes one transmit chain's bytes to the backend; false when the queue broke. */
  private transmitChain(queue: SplitQueue, chain: DescriptorChain): boolean {
    const bytes = new Uint8Array(chain.readableBytes);
    if (chain.read(0, bytes) !== bytes.length) {
      queue.fail(QueueError.BUFFER_FAULT);
      return false;
    }
    if (bytes.length > 0) {
      this.stats.outputBytes += bytes.length;
      this.backend.write(bytes);
    }
    return queue.addUsed(chain.head, 0);
  }
}
