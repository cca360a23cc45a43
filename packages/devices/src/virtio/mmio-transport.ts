import { DeviceStateError, type AccessSize, type DeviceState, type IoRegion, type IrqLine, type Snapshottable } from '../types.js';
import {
  DeviceStatus,
  InterruptBit,
  MmioRegister,
  TYPEVISOR_VENDOR_ID,
  VIRTIO_MMIO_MAGIC,
  VIRTIO_MMIO_VERSION,
  VirtioFeature,
} from './constants.js';
import type { VirtioDevice, VirtioDeviceContext } from './device.js';
import type { MemoryBus } from './dma.js';
import { FeatureSet } from './features.js';
import { describeQueueError, type QueueErrorCode } from './queue/queue-error.js';
import { SplitQueue, type SplitQueueState } from './queue/split-queue.js';
import { arrayField, booleanField, expectState, numberField, objectField, stringField } from './state-io.js';
import { createTransportStats, type VirtioTransportStats } from './stats.js';

const TWO_POW_32 = 0x1_0000_0000;
const STATE_KIND = 'virtio-mmio';
const STATE_VERSION = 1;
/** Status bits the driver owns; DEVICE_NEEDS_RESET is the device's. */
const DRIVER_STATUS_BITS =
  DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK | DeviceStatus.FAILED;

/** Construction options of a {@link VirtioMmioTransport}. */
export interface VirtioMmioTransportOptions {
  /** The device behind the transport. */
  readonly device: VirtioDevice;
  /** Guest memory the device DMAs into. */
  readonly memory: MemoryBus;
  /** The interrupt line; held high while InterruptStatus is non-zero (level-triggered). */
  readonly irq: IrqLine;
}

/**
 * A virtio-mmio (version 2, virtio 1.x only) register window in front of one {@link VirtioDevice}.
 * Map it at an MMIO address with size {@link VIRTIO_MMIO_WINDOW_SIZE}.
 *
 * The transport enforces the device-status state machine (spec 2.1, 3.1, 4.2.3): accesses at a width
 * other than 32 bits, to unknown registers, or that are illegal in the current status are ignored
 * (reads return 0) and counted in {@link VirtioMmioTransport.stats}. A malformed queue sets
 * DEVICE_NEEDS_RESET and raises a configuration-change interrupt; nothing the guest does throws.
 *
 * @example
 * ```ts
 * declare const memory: PhysicalMemory, irq: IrqLine;
 * const blk = new VirtioBlock({ backend: new MemoryBlockBackend({ size: 1 << 20 }) });
 * const transport = new VirtioMmioTransport({ device: blk, memory, irq });
 * memory.addMmio(guestPhys(0xd000_0000), VIRTIO_MMIO_WINDOW_SIZE, transport, 'virtio-blk');
 * ```
 */
export class VirtioMmioTransport implements IoRegion, Snapshottable {
  /** The device behind this transport. */
  readonly device: VirtioDevice;
  /** Counters of ignored guest mistakes and of notifications. */
  readonly stats: VirtioTransportStats = createTransportStats();

  /** Requests (chains) the device completed on all its queues, and the bytes it wrote into them. */
  queueTotals(): { requests: number; bytes: number } {
    let requests = 0;
    let bytes = 0;
    for (const queue of this.queues) {
      requests += queue.completedChains;
      bytes += queue.usedBytes;
    }
    return { requests, bytes };
  }
  /** Why the device last entered DEVICE_NEEDS_RESET, or null. */
  lastError: string | null = null;

  private readonly memory: MemoryBus;
  private readonly irq: IrqLine;
  private readonly queues: SplitQueue[];
  private readonly driverFeatures = new FeatureSet();
  private readonly negotiated = new FeatureSet();
  private driverSetUnknownFeatureWord = false;
  private deviceStatus = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private queueSel = 0;
  private interrupts = 0;
  private generation = 0;
  private irqLevel = false;

  constructor(options: VirtioMmioTransportOptions) {
    this.device = options.device;
    this.memory = options.memory;
    this.irq = options.irq;
    this.queues = options.device.queueMaxSizes.map((max, index) => {
      const queue = new SplitQueue(max);
      queue.onError = (code) => this.fail(code, index);
      return queue;
    });
    this.device.attach(this.createContext());
  }

  /** Current device status register (driver bits plus DEVICE_NEEDS_RESET). */
  get status(): number {
    return this.deviceStatus;
  }

  /** Current InterruptStatus register. */
  get interruptStatus(): number {
    return this.interrupts;
  }

  /** Current ConfigGeneration register. */
  get configGeneration(): number {
    return this.generation;
  }

  /** Features negotiated with the driver (empty until FEATURES_OK is latched). */
  get negotiatedFeatures(): FeatureSet {
    return this.negotiated.clone();
  }

  /** Queue `index` (for inspection and tests). */
  queue(index: number): SplitQueue {
    const queue = this.queues[index];
    if (queue === undefined) throw new RangeError(`${this.device.kind} has no queue ${index}`);
    return queue;
  }

  /** True between DRIVER_OK and reset while neither FAILED nor DEVICE_NEEDS_RESET is set. */
  get active(): boolean {
    return (
      (this.deviceStatus & (DeviceStatus.DRIVER_OK | DeviceStatus.FAILED | DeviceStatus.DEVICE_NEEDS_RESET)) ===
      DeviceStatus.DRIVER_OK
    );
  }

  /** Reads a register or config-space field. Never throws; illegal reads return 0 and are counted. */
  read(offset: number, size: AccessSize): number {
    if (offset >= MmioRegister.CONFIG) return this.readConfig(offset - MmioRegister.CONFIG, size);
    if (size !== 4 || (offset & 3) !== 0) {
      this.stats.badWidthAccesses++;
      return 0;
    }
    switch (offset) {
      case MmioRegister.MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
      case MmioRegister.VERSION:
        return VIRTIO_MMIO_VERSION;
      case MmioRegister.DEVICE_ID:
        return this.device.deviceId;
      case MmioRegister.VENDOR_ID:
        return TYPEVISOR_VENDOR_ID;
      case MmioRegister.DEVICE_FEATURES:
        return this.device.offeredFeatures.word(this.deviceFeaturesSel);
      case MmioRegister.QUEUE_NUM_MAX:
        return this.queues[this.queueSel]?.maxSize ?? 0;
      case MmioRegister.QUEUE_READY:
        return this.queues[this.queueSel]?.ready === true ? 1 : 0;
      case MmioRegister.INTERRUPT_STATUS:
        return this.interrupts;
      case MmioRegister.STATUS:
        return this.deviceStatus;
      case MmioRegister.CONFIG_GENERATION:
        return this.generation;
      default:
        this.stats.unknownRegisterAccesses++;
        return 0;
    }
  }

  /** Writes a register or config-space field. Never throws; illegal writes are ignored and counted. */
  write(offset: number, size: AccessSize, value: number): void {
    value >>>= 0;
    if (offset >= MmioRegister.CONFIG) {
      this.writeConfig(offset - MmioRegister.CONFIG, size, value);
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) {
      this.stats.badWidthAccesses++;
      return;
    }
    switch (offset) {
      case MmioRegister.DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = value;
        return;
      case MmioRegister.DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = value;
        return;
      case MmioRegister.DRIVER_FEATURES:
        this.writeDriverFeatures(value);
        return;
      case MmioRegister.QUEUE_SEL:
        this.queueSel = value;
        return;
      case MmioRegister.QUEUE_NUM:
        this.writeQueueNum(value);
        return;
      case MmioRegister.QUEUE_READY:
        this.writeQueueReady(value);
        return;
      case MmioRegister.QUEUE_DESC_LOW:
      case MmioRegister.QUEUE_DESC_HIGH:
      case MmioRegister.QUEUE_DRIVER_LOW:
      case MmioRegister.QUEUE_DRIVER_HIGH:
      case MmioRegister.QUEUE_DEVICE_LOW:
      case MmioRegister.QUEUE_DEVICE_HIGH:
        this.writeQueueAddress(offset, value);
        return;
      case MmioRegister.QUEUE_NOTIFY:
        this.handleNotify(value);
        return;
      case MmioRegister.INTERRUPT_ACK:
        this.interrupts &= ~value;
        this.updateIrq();
        return;
      case MmioRegister.STATUS:
        this.writeStatus(value);
        return;
      default:
        this.stats.unknownRegisterAccesses++;
    }
  }

  /** Saves transport registers, queue layouts/indices and the device's state. */
  saveState(): DeviceState {
    return {
      kind: STATE_KIND,
      version: STATE_VERSION,
      data: {
        deviceKind: this.device.kind,
        status: this.deviceStatus,
        deviceFeaturesSel: this.deviceFeaturesSel,
        driverFeaturesSel: this.driverFeaturesSel,
        driverFeaturesLow: this.driverFeatures.low,
        driverFeaturesHigh: this.driverFeatures.high,
        driverSetUnknownFeatureWord: this.driverSetUnknownFeatureWord,
        negotiatedLow: this.negotiated.low,
        negotiatedHigh: this.negotiated.high,
        queueSel: this.queueSel,
        interruptStatus: this.interrupts,
        configGeneration: this.generation,
        lastError: this.lastError ?? '',
        queues: this.queues.map((queue) => ({ ...queue.saveState() })),
        device: this.device.saveState(),
      },
    };
  }

  /** Restores {@link VirtioMmioTransport.saveState} output; host backends stay as constructed. */
  restoreState(state: DeviceState): void {
    const data = expectState(state, STATE_KIND, STATE_VERSION);
    const deviceKind = stringField(data, 'deviceKind', STATE_KIND);
    if (deviceKind !== this.device.kind) {
      throw new DeviceStateError(`snapshot is of a ${deviceKind} transport, this one drives ${this.device.kind}`);
    }
    const queueStates = arrayField(data, 'queues', STATE_KIND).map((entry) => parseQueueState(entry));
    if (queueStates.length !== this.queues.length) {
      throw new DeviceStateError(`snapshot has ${queueStates.length} queues, ${this.device.kind} has ${this.queues.length}`);
    }
    queueStates.forEach((queueState, index) => {
      const queue = this.queues[index] as SplitQueue;
      if (!queue.isValidSize(queueState.size)) throw new DeviceStateError(`queue ${index} size ${queueState.size} is invalid`);
      if (queueState.ready) {
        const probe = new SplitQueue(queue.maxSize);
        probe.restoreState(queueState);
        const problem = probe.validateLayout();
        if (problem !== null) throw new DeviceStateError(`queue ${index} in the snapshot is unusable: ${problem}`);
      }
    });
    const deviceState = objectField(data, 'device', STATE_KIND) as unknown as DeviceState;
    const status = numberField(data, 'status', STATE_KIND);
    const lastError = stringField(data, 'lastError', STATE_KIND);

    this.reset();
    this.device.restoreState(deviceState);
    this.deviceFeaturesSel = numberField(data, 'deviceFeaturesSel', STATE_KIND) >>> 0;
    this.driverFeaturesSel = numberField(data, 'driverFeaturesSel', STATE_KIND) >>> 0;
    this.driverFeatures.low = numberField(data, 'driverFeaturesLow', STATE_KIND) >>> 0;
    this.driverFeatures.high = numberField(data, 'driverFeaturesHigh', STATE_KIND) >>> 0;
    this.driverSetUnknownFeatureWord = booleanField(data, 'driverSetUnknownFeatureWord', STATE_KIND);
    this.negotiated.low = numberField(data, 'negotiatedLow', STATE_KIND) >>> 0;
    this.negotiated.high = numberField(data, 'negotiatedHigh', STATE_KIND) >>> 0;
    this.queueSel = numberField(data, 'queueSel', STATE_KIND) >>> 0;
    this.generation = numberField(data, 'configGeneration', STATE_KIND) >>> 0;
    this.lastError = lastError === '' ? null : lastError;
    queueStates.forEach((queueState, index) => (this.queues[index] as SplitQueue).restoreState(queueState));
    this.deviceStatus = status & 0xff;
    if ((this.deviceStatus & DeviceStatus.DRIVER_OK) !== 0) this.activateQueues();
    this.interrupts = numberField(data, 'interruptStatus', STATE_KIND) & (InterruptBit.USED_BUFFER | InterruptBit.CONFIG_CHANGE);
    this.updateIrq();
    if (this.active) this.guard(() => this.device.activate());
  }

  private createContext(): VirtioDeviceContext {
    // Closures rather than public methods: only the device gets these capabilities.
    const isActive = (): boolean => this.active;
    const context: VirtioDeviceContext = {
      memory: this.memory,
      features: this.negotiated,
      get active(): boolean {
        return isActive();
      },
      queue: (index) => this.queue(index),
      notifyUsed: (index) => {
        const queue = this.queues[index];
        if (queue !== undefined && queue.needsInterrupt()) {
          this.stats.usedInterrupts++;
          this.raise(InterruptBit.USED_BUFFER);
        }
      },
      configChanged: () => {
        this.generation = (this.generation + 1) >>> 0;
        if ((this.deviceStatus & DeviceStatus.DRIVER_OK) !== 0) {
          this.stats.configInterrupts++;
          this.raise(InterruptBit.CONFIG_CHANGE);
        }
      },
      fail: (code, queueIndex) => this.fail(code, queueIndex),
      guard: (action) => this.guard(action),
    };
    return context;
  }

  private readConfig(offset: number, size: AccessSize): number {
    if (!this.configAccessAllowed(offset, size)) return 0;
    return this.guardValue(() => this.device.readConfig(offset, size), 0) >>> 0;
  }

  private writeConfig(offset: number, size: AccessSize, value: number): void {
    if (!this.configAccessAllowed(offset, size)) return;
    if (!this.guardValue(() => this.device.writeConfig(offset, size, value), false)) this.stats.illegalStateWrites++;
  }

  /** A config-space access must be naturally aligned and inside the device's config space; counts why not. */
  private configAccessAllowed(offset: number, size: AccessSize): boolean {
    if (offset % size !== 0) {
      this.stats.badWidthAccesses++;
      return false;
    }
    if (offset + size > this.device.configSize) {
      this.stats.unknownRegisterAccesses++;
      return false;
    }
    return true;
  }

  private writeDriverFeatures(value: number): void {
    const status = this.deviceStatus;
    const negotiating =
      (status & DeviceStatus.DRIVER) !== 0 &&
      (status & (DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK | DeviceStatus.FAILED)) === 0;
    if (!negotiating) {
      this.stats.illegalStateWrites++;
      return;
    }
    if (this.driverFeaturesSel === 0) this.driverFeatures.low = value;
    else if (this.driverFeaturesSel === 1) this.driverFeatures.high = value;
    else if (value !== 0) this.driverSetUnknownFeatureWord = true;
  }

  /** The selected queue when queue registers may be written now; counts and returns null otherwise. */
  private configurableQueue(): SplitQueue | null {
    const status = this.deviceStatus;
    const settingUp =
      (status & DeviceStatus.FEATURES_OK) !== 0 &&
      (status & (DeviceStatus.DRIVER_OK | DeviceStatus.FAILED | DeviceStatus.DEVICE_NEEDS_RESET)) === 0;
    const queue = this.queues[this.queueSel];
    if (!settingUp || queue === undefined || queue.ready) {
      this.stats.illegalStateWrites++;
      return null;
    }
    return queue;
  }

  private writeQueueNum(value: number): void {
    const queue = this.configurableQueue();
    if (queue === null) return;
    if (!queue.isValidSize(value)) {
      this.stats.invalidQueueConfigs++;
      return;
    }
    queue.size = value;
  }

  private writeQueueReady(value: number): void {
    if ((value & 1) === 0) {
      // Disabling is how a driver tears queues down; legal whenever the device is not running.
      const queue = this.queues[this.queueSel];
      if (queue === undefined || (this.deviceStatus & DeviceStatus.DRIVER_OK) !== 0) {
        this.stats.illegalStateWrites++;
        return;
      }
      queue.ready = false;
      return;
    }
    const queue = this.configurableQueue();
    if (queue === null) return;
    if (queue.validateLayout() !== null) {
      this.stats.invalidQueueConfigs++;
      return;
    }
    queue.ready = true;
  }

  private writeQueueAddress(offset: number, value: number): void {
    const queue = this.configurableQueue();
    if (queue === null) return;
    switch (offset) {
      case MmioRegister.QUEUE_DESC_LOW:
        queue.descriptorTable = withLow(queue.descriptorTable, value);
        return;
      case MmioRegister.QUEUE_DESC_HIGH:
        queue.descriptorTable = withHigh(queue.descriptorTable, value);
        return;
      case MmioRegister.QUEUE_DRIVER_LOW:
        queue.availRing = withLow(queue.availRing, value);
        return;
      case MmioRegister.QUEUE_DRIVER_HIGH:
        queue.availRing = withHigh(queue.availRing, value);
        return;
      case MmioRegister.QUEUE_DEVICE_LOW:
        queue.usedRing = withLow(queue.usedRing, value);
        return;
      default:
        queue.usedRing = withHigh(queue.usedRing, value);
    }
  }

  private handleNotify(index: number): void {
    const queue = this.queues[index];
    if (!this.active || queue === undefined || !queue.ready) {
      this.stats.ignoredNotifications++;
      return;
    }
    this.stats.notifications++;
    this.guard(() => this.device.queueNotify(index));
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const current = this.deviceStatus & DRIVER_STATUS_BITS;
    const requested = value & DRIVER_STATUS_BITS;
    if ((current & ~requested) !== 0) {
      // The driver may only add bits (or write 0 to reset).
      this.stats.illegalStateWrites++;
      return;
    }
    let next = current;
    const added = requested & ~current;
    if ((added & DeviceStatus.FAILED) !== 0) next |= DeviceStatus.FAILED;
    if ((added & DeviceStatus.ACKNOWLEDGE) !== 0) next |= DeviceStatus.ACKNOWLEDGE;
    if ((added & DeviceStatus.DRIVER) !== 0) {
      if ((next & DeviceStatus.ACKNOWLEDGE) !== 0) next |= DeviceStatus.DRIVER;
      else this.stats.illegalStateWrites++;
    }
    if ((added & DeviceStatus.FEATURES_OK) !== 0) {
      if ((next & DeviceStatus.DRIVER) === 0) this.stats.illegalStateWrites++;
      else if (this.negotiate()) next |= DeviceStatus.FEATURES_OK;
      else this.stats.featureNegotiationFailures++;
    }
    let activate = false;
    if ((added & DeviceStatus.DRIVER_OK) !== 0) {
      if ((next & DeviceStatus.FEATURES_OK) !== 0) {
        next |= DeviceStatus.DRIVER_OK;
        activate = true;
      } else {
        this.stats.illegalStateWrites++;
      }
    }
    this.deviceStatus = next | (this.deviceStatus & DeviceStatus.DEVICE_NEEDS_RESET);
    if (activate) {
      this.activateQueues();
      if (this.active) this.guard(() => this.device.activate());
    }
  }

  /** Latches the driver's feature choice when it is acceptable (spec 3.1.1 step 5-6). */
  private negotiate(): boolean {
    const chosen = this.driverFeatures;
    if (this.driverSetUnknownFeatureWord) return false;
    if (!chosen.isSubsetOf(this.device.offeredFeatures)) return false;
    if (!chosen.has(VirtioFeature.VERSION_1)) return false;
    const reason = this.guardValue(() => this.device.validateFeatures(chosen.clone()), 'device rejected the features');
    if (reason !== null) return false;
    this.negotiated.assign(chosen);
    return true;
  }

  private activateQueues(): void {
    const eventIdx = this.negotiated.has(VirtioFeature.RING_EVENT_IDX);
    const indirect = this.negotiated.has(VirtioFeature.RING_INDIRECT_DESC);
    for (const queue of this.queues) {
      if (queue.ready) queue.activate(this.memory, eventIdx, indirect);
    }
  }

  private reset(): void {
    this.deviceStatus = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures.clear();
    this.negotiated.clear();
    this.driverSetUnknownFeatureWord = false;
    this.queueSel = 0;
    for (const queue of this.queues) queue.reset();
    this.interrupts = 0;
    this.updateIrq();
    this.guard(() => this.device.reset());
  }

  private fail(code: QueueErrorCode, queueIndex: number): void {
    if ((this.deviceStatus & DeviceStatus.DEVICE_NEEDS_RESET) !== 0) return;
    this.stats.queueErrors++;
    this.lastError = `${this.device.kind} queue ${queueIndex}: ${describeQueueError(code)}`;
    this.deviceStatus |= DeviceStatus.DEVICE_NEEDS_RESET;
    if ((this.deviceStatus & DeviceStatus.DRIVER_OK) !== 0) {
      this.stats.configInterrupts++;
      this.raise(InterruptBit.CONFIG_CHANGE);
    }
  }

  private guard(action: () => void): void {
    this.guardValue(action, undefined);
  }

  /** Runs device code; an exception becomes DEVICE_NEEDS_RESET (and `fallback`), never a host crash. */
  private guardValue<T>(action: () => T, fallback: T): T {
    try {
      return action();
    } catch (error) {
      this.stats.internalErrors++;
      const message = error instanceof Error ? error.message : String(error);
      if ((this.deviceStatus & DeviceStatus.DEVICE_NEEDS_RESET) === 0) {
        this.lastError = `${this.device.kind} internal error: ${message}`;
        this.deviceStatus |= DeviceStatus.DEVICE_NEEDS_RESET;
        if ((this.deviceStatus & DeviceStatus.DRIVER_OK) !== 0) this.raise(InterruptBit.CONFIG_CHANGE);
      }
      return fallback;
    }
  }

  private raise(bit: number): void {
    this.interrupts |= bit;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interrupts !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.setLevel(level);
    }
  }
}

function withLow(address: number, low: number): number {
  return Math.floor(address / TWO_POW_32) * TWO_POW_32 + low;
}

function withHigh(address: number, high: number): number {
  return high * TWO_POW_32 + (address % TWO_POW_32);
}

function parseQueueState(entry: unknown): SplitQueueState {
  if (entry === null || typeof entry !== 'object') throw new DeviceStateError('virtio-mmio queue state must be an object');
  const data = entry as Readonly<Record<string, unknown>>;
  const kind = 'virtio-mmio queue';
  return {
    size: numberField(data, 'size', kind),
    descriptorTable: numberField(data, 'descriptorTable', kind),
    availRing: numberField(data, 'availRing', kind),
    usedRing: numberField(data, 'usedRing', kind),
    ready: booleanField(data, 'ready', kind),
    lastAvailIdx: numberField(data, 'lastAvailIdx', kind),
    usedIdx: numberField(data, 'usedIdx', kind),
    signalledUsedIdx: numberField(data, 'signalledUsedIdx', kind),
    notificationsEnabled: booleanField(data, 'notificationsEnabled', kind),
  };
}
