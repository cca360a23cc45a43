import type { E820Entry } from './e820.js';
import { LoadFlags, SetupHeader } from './linux-header.js';

/** Offsets in `struct boot_params` (arch/x86/include/uapi/asm/bootparam.h) outside the setup header. */
export const BootParams = {
  size: 4096,
  acpiRsdpAddr: 0x070,
  extCmdLinePtr: 0x0c8,
  altMemK: 0x1e0,
  e820Entries: 0x1e8,
  e820Table: 0x2d0,
  /** The zero page holds at most this many e820 entries. */
  e820Max: 128,
} as const;

/** `vid_mode` value meaning "normal VGA text mode, do not ask". */
export const VID_MODE_NORMAL = 0xffff;
/** `type_of_loader` of a loader without an assigned ID. */
export const LOADER_TYPE_UNDEFINED = 0xff;
/** `heap_end_ptr` for protocol 2.02+ loaders: the real-mode heap ends at 0xE000 - 0x200. */
export const HEAP_END_PTR = 0xde00;

/** Inputs of {@link buildZeroPage}. */
export interface ZeroPageInput {
  readonly kernel: Uint8Array;
  readonly headerEnd: number;
  readonly e820: readonly E820Entry[];
  readonly cmdlineAddress: number;
  readonly initrdAddress: number;
  readonly initrdSize: number;
  readonly acpiRsdp: number;
  readonly memorySize: number;
}

/**
 * Builds the 4 KiB zero page: the kernel's own setup header copied in, then the fields a boot loader
 * fills (loader type, heap, command line, initrd, e820 map, RSDP address).
 */
export function buildZeroPage(input: ZeroPageInput): Uint8Array {
  const page = new Uint8Array(BootParams.size);
  const view = new DataView(page.buffer);
  page.set(input.kernel.subarray(SetupHeader.setupSects, input.headerEnd), SetupHeader.setupSects);
  view.setUint16(SetupHeader.vidMode, VID_MODE_NORMAL, true);
  page[SetupHeader.typeOfLoader] = LOADER_TYPE_UNDEFINED;
  page[SetupHeader.loadflags] = (page[SetupHeader.loadflags]! | LoadFlags.canUseHeap) & ~LoadFlags.keepSegments;
  view.setUint16(SetupHeader.heapEndPtr, HEAP_END_PTR, true);
  view.setUint32(SetupHeader.cmdLinePtr, input.cmdlineAddress, true);
  view.setUint32(BootParams.extCmdLinePtr, 0, true);
  view.setUint32(SetupHeader.ramdiskImage, input.initrdAddress, true);
  view.setUint32(SetupHeader.ramdiskSize, input.initrdSize, true);
  view.setBigUint64(BootParams.acpiRsdpAddr, BigInt(input.acpiRsdp), true);
  view.setUint32(BootParams.altMemK, Math.max(0, input.memorySize - 0x100000) / 1024, true);
  const entries = input.e820.slice(0, BootParams.e820Max);
  page[BootParams.e820Entries] = entries.length;
  entries.forEach((entry, index) => {
    const at = BootParams.e820Table + index * 20;
    view.setBigUint64(at, BigInt(entry.address), true);
    view.setBigUint64(at + 8, BigInt(entry.size), true);
    view.setUint32(at + 16, entry.type, true);
  });
  return page;
}
