import type { GuestPhys } from '@typevisor/mmu';
import type { EntropySource } from '../types.js';
import { BufferCharBackend } from '../virtio/backends/buffer-char-backend.js';
import { LoopbackNetBackend } from '../virtio/backends/loopback-net-backend.js';
import { MemoryBlockBackend } from '../virtio/backends/memory-block-backend.js';
import { VirtioBlock } from '../virtio/blk/virtio-block.js';
import { VirtioConsole } from '../virtio/console/virtio-console.js';
import { DescriptorFlag, DeviceStatus, MmioRegister } from '../virtio/constants.js';
import type { VirtioDevice } from '../virtio/device.js';
import { FeatureSet } from '../virtio/features.js';
import { VirtioMmioTransport } from '../virtio/mmio-transport.js';
import { VirtioNet } from '../virtio/net/virtio-net.js';
import { VirtioRng } from '../virtio/rng/virtio-rng.js';
import { FakeGuestMemory } from './fake-guest-memory.js';
import { RecordingIrqLine } from './recording-irq-line.js';
import { VirtioTestDriver, VirtioTestDriverError, type TestBuffer } from './virtio-test-driver.js';

/** Guest RAM of a fuzz case, with an MMIO-like hole and a ROM-like range inside it. */
const FUZZ_RAM = 256 * 1024;
const HOLE_BASE = 0x30000;
const ROM_BASE = 0x32000;
const HEAP_BASE = 0x1000;
const HEAP_SIZE = 0x2e000;
const MAX_OPS = 200;

/** A device under fuzz plus an optional way for input bytes to drive host-side events. */
export interface VirtioFuzzTarget {
  /** Name used in results. */
  readonly name: string;
  /** Builds a fresh device. `hostEvent(bytes)` is called for the fuzzer's "host event" operation. */
  create(): { readonly device: VirtioDevice; readonly hostEvent?: (input: VirtioFuzzInput) => void };
}

/** What one fuzz input did (for statistics; failures throw instead). */
export interface VirtioFuzzResult {
  /** Target name. */
  readonly target: string;
  /** Operations executed. */
  readonly operations: number;
  /** Whether the case ended with DEVICE_NEEDS_RESET set at least once. */
  readonly sawNeedsReset: boolean;
  /** Whether the device reached DRIVER_OK at some point. */
  readonly reachedDriverOk: boolean;
  /** Queue notifications the device accepted and processed. */
  readonly notifications: number;
}

/** Raised when a device breaks an invariant under fuzzing (a real bug, unlike a guest error). */
export class VirtioFuzzInvariantError extends Error {
  override readonly name = 'VirtioFuzzInvariantError';
}

/** Reads fuzz input bytes; past the end it yields zeros and sets `exhausted`. */
export class VirtioFuzzInput {
  private position = 0;
  private readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** True once a read went past the end. */
  exhausted = false;

  /** Next byte. */
  u8(): number {
    if (this.position >= this.bytes.length) {
      this.exhausted = true;
      return 0;
    }
    return this.bytes[this.position++] as number;
  }

  /** Next little-endian 16-bit value. */
  u16(): number {
    return this.u8() | (this.u8() << 8);
  }

  /** Next little-endian 32-bit value. */
  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }

  /** A value in 0..n-1. */
  below(n: number): number {
    return n <= 256 ? this.u8() % n : this.u32() % n;
  }

  /** Up to `max` bytes. */
  bytesUpTo(max: number): Uint8Array {
    const length = this.below(max + 1);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.u8();
    return out;
  }
}

class CountingEntropy implements EntropySource {
  private next = 0;
  fill(dst: Uint8Array): void {
    for (let i = 0; i < dst.length; i++) dst[i] = this.next++ & 0xff;
  }
}

/** The four devices of this package, each with small queues so that fuzzing covers wrap-around. */
export const defaultVirtioFuzzTargets: readonly VirtioFuzzTarget[] = [
  {
    name: 'virtio-blk',
    create: () => ({ device: new VirtioBlock({ backend: new MemoryBlockBackend({ size: 64 * 1024 }), queueSize: 16 }) }),
  },
  {
    name: 'virtio-blk-ro',
    create: () => ({ device: new VirtioBlock({ backend: new MemoryBlockBackend({ size: 8 * 1024, readOnly: true }), queueSize: 8 }) }),
  },
  {
    name: 'virtio-net',
    create: () => {
      const backend = new LoopbackNetBackend();
      const device = new VirtioNet({ backend, queueSize: 16, rxBacklogFrames: 4 });
      return {
        device,
        hostEvent: (input) => {
          const choice = input.u8() % 4;
          if (choice === 0) device.setLinkUp(!device.isLinkUp);
          else backend.send(input.bytesUpTo(choice === 3 ? 4000 : 200));
        },
      };
    },
  },
  {
    name: 'virtio-console',
    create: () => {
      const backend = new BufferCharBackend({ limit: 4096 });
      const device = new VirtioConsole({ backend, queueSize: 16, inputBufferSize: 256 });
      return {
        device,
        hostEvent: (input) => {
          if (input.u8() % 3 === 0) device.resize(input.u16(), input.u16());
          else backend.type(input.bytesUpTo(300));
        },
      };
    },
  },
  {
    name: 'virtio-rng',
    create: () => ({ device: new VirtioRng({ source: new CountingEntropy(), queueSize: 8, maxBytesPerRequest: 4096 }) }),
  },
];

const REGISTERS: readonly number[] = Object.values(MmioRegister);

/** An address chosen to hit interesting places: RAM, ring area, hole, ROM, end of RAM, beyond 4 GiB. */
function pickAddress(input: VirtioFuzzInput): number {
  switch (input.u8() % 8) {
    case 0:
      return HOLE_BASE + input.below(0x1000) - 8;
    case 1:
      return ROM_BASE + input.below(0x100);
    case 2:
      return FUZZ_RAM - input.below(64);
    case 3:
      return input.u32();
    case 4:
      return 0xffff_ffff - input.below(0x2000);
    default:
      return HEAP_BASE + input.below(HEAP_SIZE);
  }
}

function pickLength(input: VirtioFuzzInput): number {
  switch (input.u8() % 6) {
    case 0:
      return input.u32();
    case 1:
      return 16 * input.below(8);
    case 2:
      return 0;
    default:
      return input.below(2048);
  }
}

/**
 * Interprets `bytes` as a program of guest actions (register accesses, ring scribbles, well-formed
 * and malformed chains, notifications, snapshots) and host events against one fresh device, checking
 * after every step that no exception escaped, that no internal error was recorded and that the IRQ
 * line matches InterruptStatus. Throws on a violated invariant; returns statistics otherwise.
 */
export function runVirtioFuzzInput(bytes: Uint8Array, targets: readonly VirtioFuzzTarget[] = defaultVirtioFuzzTargets): VirtioFuzzResult {
  const input = new VirtioFuzzInput(bytes);
  const target = targets[input.u8() % targets.length] as VirtioFuzzTarget;
  const { device, hostEvent } = target.create();
  const memory = new FakeGuestMemory({ size: FUZZ_RAM });
  memory.addHole(HOLE_BASE, 0x1000);
  memory.addReadOnly(ROM_BASE, 0x1000);
  const irq = new RecordingIrqLine();
  const transport = new VirtioMmioTransport({ device, memory, irq });
  const driver = new VirtioTestDriver({ transport, memory, heapBase: HEAP_BASE, heapSize: HEAP_SIZE });
  const queueCount = device.queueMaxSizes.length;
  let operations = 0;
  let sawNeedsReset = false;
  let reachedDriverOk = false;

  const check = (): void => {
    if (transport.stats.internalErrors !== 0) {
      throw new VirtioFuzzInvariantError(`${target.name}: internal error after operation ${operations}: ${transport.lastError ?? ''}`);
    }
    if (irq.level !== (transport.interruptStatus !== 0)) {
      throw new VirtioFuzzInvariantError(`${target.name}: IRQ level ${irq.level} disagrees with InterruptStatus ${transport.interruptStatus}`);
    }
    if ((transport.status & DeviceStatus.DEVICE_NEEDS_RESET) !== 0) sawNeedsReset = true;
    if ((transport.status & DeviceStatus.DRIVER_OK) !== 0) reachedDriverOk = true;
  };

  // Driver-side helpers may run out of descriptors or heap; that is the fuzzer's problem, not a device bug.
  const driverStep = (action: () => void): void => {
    try {
      action();
    } catch (error) {
      if (!(error instanceof VirtioTestDriverError)) throw error;
    }
  };

  while (!input.exhausted && operations < MAX_OPS) {
    operations++;
    const op = input.u8() % 16;
    switch (op) {
      case 0: {
        const offset = input.u8() % 4 === 0 ? input.below(0x200) : (REGISTERS[input.below(REGISTERS.length)] as number);
        const size = ([1, 2, 4, 4] as const)[input.u8() % 4] as 1 | 2 | 4;
        transport.write(offset, size, input.u8() % 2 === 0 ? input.u32() : input.u8());
        break;
      }
      case 1: {
        const offset = input.below(0x200);
        const value = transport.read(offset, ([1, 2, 4] as const)[input.u8() % 3] as 1 | 2 | 4);
        if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
          throw new VirtioFuzzInvariantError(`${target.name}: register read at ${offset} returned ${value}`);
        }
        break;
      }
      case 2:
      case 3: {
        const mask = new FeatureSet(input.u32(), input.u8() % 4 === 0 ? input.u32() : 0xffff_ffff);
        driverStep(() => {
          driver.init({
            features: (offered) => new FeatureSet(offered.low & mask.low, offered.high & mask.high),
            queueSizes: Array.from({ length: queueCount }, () => 1 << input.below(5)),
          });
        });
        break;
      }
      case 4: {
        const queue = driver.queues[input.below(queueCount)];
        if (queue === undefined) break;
        const flags = input.u8() & (DescriptorFlag.NEXT | DescriptorFlag.WRITE | DescriptorFlag.INDIRECT);
        queue.writeDescriptor(input.below(queue.size + 2), pickAddress(input), pickLength(input), flags, input.u16() % (queue.size + 2));
        break;
      }
      case 5: {
        const queue = driver.queues[input.below(queueCount)];
        if (queue !== undefined) queue.pushAvail(input.u16() % (queue.size + 2));
        break;
      }
      case 6: {
        const queue = driver.queues[input.below(queueCount)];
        if (queue !== undefined) queue.setAvailIdx(input.u8() % 2 === 0 ? queue.availIdx + input.below(3) : input.u16());
        break;
      }
      case 7:
      case 8:
        transport.write(MmioRegister.QUEUE_NOTIFY, 4, input.u8() % 8 === 0 ? input.u32() : input.below(queueCount));
        break;
      case 9:
      case 10: {
        const index = input.below(queueCount);
        const buffers: TestBuffer[] = [];
        const readable = input.below(3);
        const writable = input.below(3);
        for (let i = 0; i < readable; i++) buffers.push({ readable: i === 0 && input.u8() % 2 === 0 ? header(input) : input.bytesUpTo(600) });
        for (let i = 0; i < writable; i++) buffers.push({ writable: input.below(2) === 0 ? 1 : input.below(4096) });
        if (buffers.length === 0) break;
        driverStep(() => {
          driver.submit(index, buffers, { indirect: input.u8() % 4 === 0 });
          if (input.u8() % 2 === 0) driver.kick(index);
          driver.takeUsed(index);
        });
        break;
      }
      case 11:
        hostEvent?.(input);
        break;
      case 12: {
        const data = input.bytesUpTo(64);
        memory.writeBytes(pickAddress(input) as GuestPhys, data);
        break;
      }
      case 13: {
        const queue = driver.queues[input.below(queueCount)];
        if (queue === undefined) break;
        if (input.u8() % 2 === 0) queue.setAvailFlags(input.u16());
        else queue.setUsedEvent(input.u16());
        break;
      }
      case 14:
        driver.acknowledgeInterrupts();
        break;
      default: {
        const state = JSON.parse(JSON.stringify(transport.saveState())) as ReturnType<VirtioMmioTransport['saveState']>;
        transport.restoreState(state);
        break;
      }
    }
    check();
  }
  return { target: target.name, operations, sawNeedsReset, reachedDriverOk, notifications: transport.stats.notifications };
}

/** A plausible virtio-blk request header (type, reserved, sector) so requests get past parsing. */
function header(input: VirtioFuzzInput): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint32(0, [0, 1, 4, 8, 11, 13, input.u8()][input.u8() % 7] as number, true);
  view.setUint32(8, input.u8() % 2 === 0 ? input.below(200) : input.u32(), true);
  view.setUint32(12, input.u8() % 8 === 0 ? input.u32() : 0, true);
  return out;
}
