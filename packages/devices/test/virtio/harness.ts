import { FakeGuestMemory, RecordingIrqLine, VirtioTestDriver } from '@typevisor/devices/testing';
import { VirtioMmioTransport, type VirtioDevice } from '@typevisor/devices';

/** A device behind a transport, a fake guest memory, a recording IRQ line and a test driver. */
export interface Rig<D extends VirtioDevice> {
  readonly device: D;
  readonly memory: FakeGuestMemory;
  readonly irq: RecordingIrqLine;
  readonly transport: VirtioMmioTransport;
  readonly driver: VirtioTestDriver;
}

export const RAM_SIZE = 8 << 20;

export function rig<D extends VirtioDevice>(device: D, memorySize = RAM_SIZE): Rig<D> {
  const memory = new FakeGuestMemory({ size: memorySize });
  const irq = new RecordingIrqLine();
  const transport = new VirtioMmioTransport({ device, memory, irq });
  const driver = new VirtioTestDriver({ transport, memory, heapBase: 0x1000, heapSize: memorySize - 0x2000 });
  return { device, memory, irq, transport, driver };
}

export function u32le(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/** Byte-wise equality without the cost of a deep-equality diff on large arrays. */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The last byte of the last writable buffer of a used chain (virtio-blk's status byte). */
export function lastByte(used: { readonly buffers: readonly Uint8Array[] } | undefined): number | undefined {
  const last = used?.buffers[used.buffers.length - 1];
  return last?.[last.length - 1];
}
