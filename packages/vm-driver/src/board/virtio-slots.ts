import { guestPhys } from '@typevisor/mmu';
import type { PhysicalMemory } from '@typevisor/mmu';
import { BlockIoError, VIRTIO_MMIO_WINDOW_SIZE, VirtioBlock, VirtioConsole, VirtioMmioTransport, VirtioNet, VirtioRng } from '@typevisor/devices';
import type { VirtioDevice } from '@typevisor/devices';
import type { AcpiVirtioDevice } from '../acpi/acpi-tables.js';
import type { Counters } from '@typevisor/perf-model';
import { countedMmio } from '../bus/counted-mmio.js';
import type { IrqRouter } from '../bus/irq-router.js';
import type { ResolvedMachineConfig } from '../config.js';
import { MMIO, VIRTIO_IRQS } from '../layout.js';

/** One virtio-mmio device as placed in the machine. */
export interface VirtioSlot {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly irq: number;
  readonly transport: VirtioMmioTransport;
}

/**
 * Creates the virtio devices the config asks for (disks, then nets, console, rng), each behind a
 * virtio-mmio transport at `virtioBase + n * stride` with the n-th free IRQ, and maps the windows
 * (their accesses counted in `counters` per device when given).
 */
export function attachVirtioDevices(config: ResolvedMachineConfig, memory: PhysicalMemory, irqs: IrqRouter, counters: Counters | null = null): VirtioSlot[] {
  const devices: { name: string; device: VirtioDevice }[] = [];
  config.disks.forEach((disk, i) => {
    const backend = disk.readOnly && !disk.backend.readOnly ? readOnlyView(disk.backend) : disk.backend;
    devices.push({ name: `virtio-blk${i}`, device: new VirtioBlock({ backend }) });
  });
  config.nets.forEach((net, i) => devices.push({ name: `virtio-net${i}`, device: new VirtioNet({ backend: net.backend, mac: net.mac }) }));
  if (config.console !== null) devices.push({ name: 'virtio-console', device: new VirtioConsole({ backend: config.console }) });
  if (config.entropy !== null) devices.push({ name: 'virtio-rng', device: new VirtioRng({ source: config.entropy }) });

  return devices.map(({ name, device }, index) => {
    const base = MMIO.virtioBase + index * MMIO.virtioStride;
    const irq = VIRTIO_IRQS[index]!;
    const transport = new VirtioMmioTransport({ device, memory, irq: irqs.line(irq) });
    memory.addMmio(guestPhys(base), VIRTIO_MMIO_WINDOW_SIZE, countedMmio(transport, counters, name), name);
    return { name, base, size: VIRTIO_MMIO_WINDOW_SIZE, irq, transport };
  });
}

/** A disk the user marked read-only over a writable backend. */
function readOnlyView(backend: ResolvedMachineConfig['disks'][number]['backend']): ResolvedMachineConfig['disks'][number]['backend'] {
  return {
    size: backend.size,
    readOnly: true,
    id: backend.id,
    read: (offset, dst) => backend.read(offset, dst),
    write: () => { throw new BlockIoError(`disk ${backend.id} is read-only`); },
    flush: () => backend.flush(),
    discard: () => { throw new BlockIoError(`disk ${backend.id} is read-only`); },
  };
}

/** The slots as the DSDT describes them. */
export function acpiDevicesOf(slots: readonly VirtioSlot[]): AcpiVirtioDevice[] {
  return slots.map(({ base, size, irq }) => ({ base, size, irq }));
}

/** `virtio_mmio.device=<size>@<base>:<irq>` for each slot (Linux VIRTIO_MMIO_CMDLINE_DEVICES). */
export function virtioCmdline(slots: readonly VirtioSlot[]): string {
  return slots.map(({ base, size, irq }) => `virtio_mmio.device=0x${size.toString(16)}@0x${base.toString(16)}:${irq}`).join(' ');
}
