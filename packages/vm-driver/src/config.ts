import type { BlockBackend, CharBackend, EntropySource, NetBackend, WallClock } from '@typevisor/devices';
import { MachineConfigError } from './errors.js';
import { MAX_RAM, MIN_RAM, VIRTIO_IRQS } from './layout.js';

/** One virtio-blk disk. */
export interface DiskConfig {
  /** Where the sectors live. */
  readonly backend: BlockBackend;
  /** Refuse guest writes even if the backend could take them. Defaults to `backend.readOnly`. */
  readonly readOnly?: boolean;
}

/** One virtio-net interface. */
export interface NetConfig {
  /** Where the frames go. */
  readonly backend: NetBackend;
  /** MAC address as six bytes; a locally administered address is derived from the index if absent. */
  readonly mac?: Uint8Array;
}

/** How virtual time advances. */
export type ClockMode = 'realtime' | 'deterministic';

/**
 * Everything needed to build one machine: plain data and host backends, no classes of ours. Pass it
 * to {@link validateMachineConfig} (the {@link Machine} constructor does) to get typed errors naming
 * the bad field.
 */
export interface MachineConfig {
  /** Guest RAM in bytes; a multiple of 4 KiB between 2 MiB and 3 GiB. */
  readonly memorySize: number;
  /** A Linux bzImage or a multiboot v1 kernel. Exclusive with `firmware`. */
  readonly kernel?: Uint8Array;
  /** Initial RAM disk (Linux initrd, or the first multiboot module). Needs `kernel`. */
  readonly initrd?: Uint8Array;
  /** Kernel command line. Needs `kernel`. */
  readonly cmdline?: string;
  /** A raw firmware ROM started at the reset vector (like QEMU `-bios`). Exclusive with `kernel`. */
  readonly firmware?: Uint8Array;
  /** virtio-blk disks, in the order the guest sees them (vda, vdb, ...). */
  readonly disks?: readonly DiskConfig[];
  /** virtio-net interfaces. */
  readonly nets?: readonly NetConfig[];
  /** Backend of the 16550 UART at 0x3F8 (ttyS0); `null` or absent leaves the port unconnected. */
  readonly serial?: CharBackend | null;
  /** Backend of a virtio-console (hvc0); absent means no virtio-console device. */
  readonly console?: CharBackend | null;
  /** Backend of the debug console at port 0xE9; absent means writes are dropped. */
  readonly debugcon?: CharBackend | null;
  /** Source of a virtio-rng device; absent means no virtio-rng. */
  readonly entropy?: EntropySource | null;
  /** Wall-clock time the RTC starts from; defaults to the host's time in real-time mode, and to
   *  2000-01-01T00:00:00Z in deterministic mode (so runs are reproducible). */
  readonly wallClock?: WallClock;
  /** `realtime` (host monotonic time) or `deterministic` (time follows the instruction count). */
  readonly clock?: ClockMode;
  /** Deterministic mode: guest instructions per virtual nanosecond (default 0.1, i.e. 100 MIPS). */
  readonly instructionsPerNs?: number;
  /** Generate ACPI tables (default true). Without them the kernel uses the PIC/PIT only. */
  readonly acpi?: boolean;
  /** Also list virtio-mmio devices on the kernel command line (`virtio_mmio.device=`). Defaults to
   *  true exactly when ACPI is off, as QEMU's `microvm` does, so no device is probed twice. */
  readonly virtioOnCmdline?: boolean;
}

/** A {@link MachineConfig} after validation, with every default filled in. */
export interface ResolvedMachineConfig {
  readonly memorySize: number;
  readonly kernel: Uint8Array | null;
  readonly initrd: Uint8Array | null;
  readonly cmdline: string;
  readonly firmware: Uint8Array | null;
  readonly disks: readonly { readonly backend: BlockBackend; readonly readOnly: boolean }[];
  readonly nets: readonly { readonly backend: NetBackend; readonly mac: Uint8Array }[];
  readonly serial: CharBackend | null;
  readonly console: CharBackend | null;
  readonly debugcon: CharBackend | null;
  readonly entropy: EntropySource | null;
  readonly wallClock: WallClock | null;
  readonly clock: ClockMode;
  readonly instructionsPerNs: number;
  readonly acpi: boolean;
  readonly virtioOnCmdline: boolean;
}

/** Default guest instruction rate in deterministic mode: 0.1 instructions per ns = 100 MIPS. */
export const DEFAULT_INSTRUCTIONS_PER_NS = 0.1;
/** Longest accepted command line (the Linux i386 COMMAND_LINE_SIZE). */
export const MAX_CMDLINE_BYTES = 2047;

const KIB = 1024;
const MIB = 1024 * KIB;

function fail(field: string, problem: string, fix: string): never {
  throw new MachineConfigError(field, problem, fix);
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return names.every((name) => typeof record[name] === 'function');
}

function checkOptionalBytes(config: MachineConfig, field: 'kernel' | 'initrd' | 'firmware'): Uint8Array | null {
  const value = config[field];
  if (value === undefined) return null;
  if (!isBytes(value)) fail(field, 'is not a Uint8Array', 'pass the file contents as bytes');
  if (value.length === 0) fail(field, 'is empty', `pass a non-empty ${field} image`);
  return value;
}

function checkCharBackend(config: MachineConfig, field: 'serial' | 'console' | 'debugcon'): CharBackend | null {
  const value = config[field];
  if (value === undefined || value === null) return null;
  if (!hasMethods(value, ['write', 'setReceiver'])) {
    fail(field, 'is not a CharBackend', 'pass an object with write(bytes) and setReceiver(fn), or null');
  }
  return value;
}

function checkMemorySize(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    fail('memorySize', `must be an integer number of bytes, got ${String(value)}`, 'e.g. 128 * 1024 * 1024');
  }
  if (value < MIN_RAM) fail('memorySize', `${value} bytes is below the minimum of 2 MiB`, 'give the guest at least 2 MiB');
  if (value > MAX_RAM) {
    fail('memorySize', `${Math.round(value / MIB)} MiB is above 3 GiB`, 'use at most 3072 MiB (the rest of 4 GiB is MMIO)');
  }
  if (value % (4 * KIB) !== 0) fail('memorySize', `${value} is not a multiple of 4 KiB`, 'round it to whole pages');
  return value;
}

function checkDisks(config: MachineConfig): ResolvedMachineConfig['disks'] {
  const disks = config.disks ?? [];
  if (!Array.isArray(disks)) fail('disks', 'is not an array', 'pass a list of { backend, readOnly? }');
  return disks.map((disk: DiskConfig, index: number) => {
    const field = `disks[${index}]`;
    if (!hasMethods(disk?.backend, ['read', 'write', 'flush', 'discard'])) {
      fail(`${field}.backend`, 'is not a BlockBackend', 'pass an object with read, write, flush and discard');
    }
    const { size } = disk.backend;
    if (!Number.isInteger(size) || size < 0 || size % 512 !== 0) {
      fail(`${field}.backend`, `size ${String(size)} is not a whole number of 512-byte sectors`, 'pad the image to a multiple of 512 bytes');
    }
    if (disk.readOnly === false && disk.backend.readOnly) {
      fail(`${field}.readOnly`, 'is false but the backend is read-only', 'open the file writable or mark the disk read-only');
    }
    return { backend: disk.backend, readOnly: disk.readOnly ?? disk.backend.readOnly };
  });
}

function checkNets(config: MachineConfig): ResolvedMachineConfig['nets'] {
  const nets = config.nets ?? [];
  if (!Array.isArray(nets)) fail('nets', 'is not an array', 'pass a list of { backend, mac? }');
  return nets.map((net: NetConfig, index: number) => {
    const field = `nets[${index}]`;
    if (!hasMethods(net?.backend, ['send', 'setReceiver'])) {
      fail(`${field}.backend`, 'is not a NetBackend', 'pass an object with send(frame) and setReceiver(fn)');
    }
    let mac = net.mac;
    if (mac === undefined) {
      // 52:54:00 is the locally administered prefix QEMU made familiar; the last byte is the index.
      mac = new Uint8Array([0x52, 0x54, 0x00, 0x12, 0x34, 0x56 + index]);
    } else if (!isBytes(mac) || mac.length !== 6) {
      fail(`${field}.mac`, 'is not six bytes', 'pass a Uint8Array of length 6');
    } else if ((mac[0]! & 1) !== 0) {
      fail(`${field}.mac`, 'is a multicast address', 'clear bit 0 of the first byte');
    }
    return { backend: net.backend, mac };
  });
}

/**
 * Checks a {@link MachineConfig} and fills in defaults. Throws {@link MachineConfigError} naming the
 * first unusable field and how to fix it. Image contents are checked later by the boot loaders.
 */
export function validateMachineConfig(config: MachineConfig): ResolvedMachineConfig {
  if (typeof config !== 'object' || config === null) fail('config', 'is not an object', 'pass a MachineConfig');
  const memorySize = checkMemorySize(config.memorySize);
  const kernel = checkOptionalBytes(config, 'kernel');
  const initrd = checkOptionalBytes(config, 'initrd');
  const firmware = checkOptionalBytes(config, 'firmware');
  if (kernel === null && firmware === null) {
    fail('kernel', 'no boot image: neither kernel nor firmware is set', 'pass a kernel (bzImage or multiboot) or a firmware ROM');
  }
  if (kernel !== null && firmware !== null) {
    fail('firmware', 'cannot be combined with kernel (there is no firmware-to-loader interface)', 'pass either kernel or firmware');
  }
  if (initrd !== null && kernel === null) fail('initrd', 'is set without a kernel', 'pass a kernel too, or drop the initrd');
  const cmdline = config.cmdline ?? '';
  if (typeof cmdline !== 'string') fail('cmdline', 'is not a string', 'pass the command line as a string');
  if (cmdline !== '' && kernel === null) fail('cmdline', 'is set without a kernel', 'pass a kernel too, or drop the command line');
  if (cmdline.includes('\0')) fail('cmdline', 'contains a NUL character', 'remove it');
  if (new TextEncoder().encode(cmdline).length > MAX_CMDLINE_BYTES) {
    fail('cmdline', `is longer than ${MAX_CMDLINE_BYTES} bytes`, 'shorten it');
  }
  const disks = checkDisks(config);
  const nets = checkNets(config);
  const serial = checkCharBackend(config, 'serial');
  const consoleBackend = checkCharBackend(config, 'console');
  const debugcon = checkCharBackend(config, 'debugcon');
  const entropy = config.entropy ?? null;
  if (entropy !== null && !hasMethods(entropy, ['fill'])) fail('entropy', 'is not an EntropySource', 'pass an object with fill(bytes)');
  const virtioCount = disks.length + nets.length + (consoleBackend ? 1 : 0) + (entropy ? 1 : 0);
  if (virtioCount > VIRTIO_IRQS.length) {
    fail('disks', `${virtioCount} virtio devices need more than the ${VIRTIO_IRQS.length} free IRQs`, `use at most ${VIRTIO_IRQS.length} disks, nets, console and rng together`);
  }
  const clock = config.clock ?? 'realtime';
  if (clock !== 'realtime' && clock !== 'deterministic') {
    fail('clock', `unknown mode ${JSON.stringify(clock)}`, "use 'realtime' or 'deterministic'");
  }
  const instructionsPerNs = config.instructionsPerNs ?? DEFAULT_INSTRUCTIONS_PER_NS;
  if (typeof instructionsPerNs !== 'number' || !Number.isFinite(instructionsPerNs) || instructionsPerNs <= 0) {
    fail('instructionsPerNs', `must be a positive number, got ${String(instructionsPerNs)}`, 'e.g. 0.1 for 100 MIPS');
  }
  if (config.instructionsPerNs !== undefined && clock !== 'deterministic') {
    fail('instructionsPerNs', 'only applies to the deterministic clock', "set clock: 'deterministic' or drop it");
  }
  const wallClock = config.wallClock ?? null;
  if (wallClock !== null && !hasMethods(wallClock, ['epochMs'])) fail('wallClock', 'is not a WallClock', 'pass an object with epochMs()');
  const acpi = config.acpi ?? true;
  if (typeof acpi !== 'boolean') fail('acpi', 'is not a boolean', 'pass true or false');
  const virtioOnCmdline = config.virtioOnCmdline ?? !acpi;
  if (typeof virtioOnCmdline !== 'boolean') fail('virtioOnCmdline', 'is not a boolean', 'pass true or false');
  return {
    memorySize, kernel, initrd, cmdline, firmware, disks, nets, serial, console: consoleBackend, debugcon, entropy,
    wallClock, clock, instructionsPerNs, acpi, virtioOnCmdline,
  };
}
