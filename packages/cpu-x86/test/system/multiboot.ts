import type { PhysicalMemory } from '@typevisor/mmu';

const MAGIC = 0x1badb002;
const FLAG_AOUT_KLUDGE = 1 << 16;
/** Value a multiboot v1 loader leaves in EAX for the kernel. */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

export interface MultibootImage {
  entry: number;
  loadAddress: number;
  loadEnd: number;
  bssEnd: number;
}

/** Thrown for a kernel image this minimal loader cannot load. */
export class MultibootError extends Error {
  constructor(message: string) {
    super(`multiboot: ${message}`);
    this.name = 'MultibootError';
  }
}

/**
 * Loads a multiboot v1 kernel that uses the a.out kludge (header fields give the load addresses),
 * which is how our nasm test kernels are built. Copies the image and zeroes its bss.
 */
export function loadMultiboot(memory: PhysicalMemory, image: Uint8Array): MultibootImage {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  for (let off = 0; off + 32 <= Math.min(image.length, 8192); off += 4) {
    if (view.getUint32(off, true) !== MAGIC) continue;
    const flags = view.getUint32(off + 4, true);
    if (((MAGIC + flags + view.getUint32(off + 8, true)) >>> 0) !== 0) continue;
    if ((flags & FLAG_AOUT_KLUDGE) === 0) throw new MultibootError('only a.out-kludge kernels are supported (header flag 16)');
    const headerAddr = view.getUint32(off + 12, true);
    const loadAddress = view.getUint32(off + 16, true);
    const loadEndField = view.getUint32(off + 20, true);
    const bssEndField = view.getUint32(off + 24, true);
    const entry = view.getUint32(off + 28, true);
    const fileStart = off - (headerAddr - loadAddress);
    if (fileStart < 0) throw new MultibootError('header_addr/load_addr put the image before the file start');
    const loadEnd = loadEndField === 0 ? loadAddress + image.length - fileStart : loadEndField;
    const bssEnd = bssEndField === 0 ? loadEnd : bssEndField;
    if (bssEnd > memory.ramSize) throw new MultibootError(`image ends at ${bssEnd.toString(16)}, beyond RAM`);
    memory.ram.set(image.subarray(fileStart, fileStart + (loadEnd - loadAddress)), loadAddress);
    memory.ram.fill(0, loadEnd, bssEnd);
    return { entry, loadAddress, loadEnd, bssEnd };
  }
  throw new MultibootError('no multiboot header in the first 8 KiB');
}

/** Writes a minimal multiboot info structure (memory sizes only) at `address`. */
export function writeMultibootInfo(memory: PhysicalMemory, address: number): void {
  const info = new DataView(memory.ram.buffer, memory.ram.byteOffset + address, 16);
  info.setUint32(0, 1, true); // flags: mem_lower/mem_upper valid
  info.setUint32(4, 640, true);
  info.setUint32(8, (memory.ramSize - 0x100000) / 1024, true);
}
