import { BootImageError } from '../errors.js';
import { LOW_MEMORY } from '../layout.js';
import { hex } from './boot-plan.js';

/** Offsets of the Linux x86 setup header fields in a bzImage (Documentation/arch/x86/boot.rst). */
export const SetupHeader = {
  setupSects: 0x1f1,
  syssize: 0x1f4,
  vidMode: 0x1fa,
  bootFlag: 0x1fe,
  /** One-byte jump whose displacement gives the header's end: end = 0x202 + byte at 0x201. */
  jumpDisplacement: 0x201,
  header: 0x202,
  version: 0x206,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  heapEndPtr: 0x224,
  cmdLinePtr: 0x228,
  initrdAddrMax: 0x22c,
  kernelAlignment: 0x230,
  relocatableKernel: 0x234,
  cmdlineSize: 0x238,
  prefAddress: 0x258,
  initSize: 0x260,
} as const;

/** `loadflags` bits. */
export const LoadFlags = { loadedHigh: 0x01, keepSegments: 0x40, canUseHeap: 0x80 } as const;

const HDRS = 0x5372_6448; // "HdrS" little-endian
const BOOT_FLAG = 0xaa55;
const MIN_VERSION = 0x206;
const HIGH = LOW_MEMORY.highMemory;

/** The parsed, checked fields of a bzImage setup header. */
export interface LinuxSetupHeader {
  /** Boot protocol version, e.g. 0x20f for 2.15. */
  readonly version: number;
  readonly setupSects: number;
  readonly loadflags: number;
  readonly code32Start: number;
  readonly initrdAddrMax: number;
  readonly kernelAlignment: number;
  readonly relocatable: boolean;
  readonly cmdlineSize: number;
  /** Where the kernel will decompress itself to (protocol 2.10+; 1 MiB before). */
  readonly prefAddress: number;
  /** Bytes the kernel needs from `prefAddress` while decompressing and booting (2.10+; 0 before). */
  readonly initSize: number;
  /** File offset of the protected-mode kernel. */
  readonly kernelOffset: number;
  /** Size of the protected-mode kernel in bytes. */
  readonly kernelSize: number;
  /** File offset where the setup header ends (what the zero page copies). */
  readonly headerEnd: number;
}

/** Whether `image` starts with a Linux x86 boot sector and "HdrS" setup header. */
export function isLinuxKernel(image: Uint8Array): boolean {
  if (image.length < 0x208) return false;
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  return view.getUint16(SetupHeader.bootFlag, true) === BOOT_FLAG && view.getUint32(SetupHeader.header, true) === HDRS;
}

/** Parses and checks a bzImage setup header; throws {@link BootImageError} for anything unusable. */
export function parseLinuxHeader(image: Uint8Array): LinuxSetupHeader {
  if (!isLinuxKernel(image)) {
    throw new BootImageError('not-a-kernel', 'not a Linux bzImage: no 0xAA55 boot flag and "HdrS" setup header at offset 0x1FE/0x202');
  }
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const version = view.getUint16(SetupHeader.version, true);
  if (version < MIN_VERSION) {
    const v = `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
    throw new BootImageError('protocol-too-old', `Linux boot protocol ${v} is too old: typevisor needs 2.06 or newer (Linux 2.6.22+)`);
  }
  const headerEnd = SetupHeader.header + image[SetupHeader.jumpDisplacement]!;
  if (headerEnd < SetupHeader.cmdlineSize + 4 || image.length < headerEnd) {
    throw new BootImageError('truncated', `bzImage setup header ends at ${hex(headerEnd)}, before the fields of protocol 2.06`);
  }
  const setupSects = image[SetupHeader.setupSects] === 0 ? 4 : image[SetupHeader.setupSects]!;
  const loadflags = image[SetupHeader.loadflags]!;
  if ((loadflags & LoadFlags.loadedHigh) === 0) {
    throw new BootImageError('unsupported', 'this is a zImage (LOADED_HIGH clear): only bzImage kernels that load at 1 MiB are supported');
  }
  const kernelAlignment = view.getUint32(SetupHeader.kernelAlignment, true);
  if (kernelAlignment === 0 || (kernelAlignment & (kernelAlignment - 1)) !== 0) {
    throw new BootImageError('malformed', `kernel_alignment ${hex(kernelAlignment)} is not a power of two`);
  }
  const kernelOffset = (setupSects + 1) * 512;
  const declaredSize = view.getUint32(SetupHeader.syssize, true) * 16;
  if (image.length <= kernelOffset || image.length < kernelOffset + declaredSize) {
    throw new BootImageError(
      'truncated',
      `bzImage is truncated: ${image.length} bytes, but the header promises ${kernelOffset + declaredSize} (setup ${kernelOffset} + kernel ${declaredSize})`,
    );
  }
  const hasPref = version >= 0x20a && headerEnd >= SetupHeader.initSize + 4;
  return {
    version,
    setupSects,
    loadflags,
    code32Start: view.getUint32(SetupHeader.code32Start, true),
    initrdAddrMax: view.getUint32(SetupHeader.initrdAddrMax, true),
    kernelAlignment,
    relocatable: image[SetupHeader.relocatableKernel] !== 0,
    cmdlineSize: view.getUint32(SetupHeader.cmdlineSize, true),
    prefAddress: hasPref ? Number(view.getBigUint64(SetupHeader.prefAddress, true)) : HIGH,
    initSize: hasPref ? view.getUint32(SetupHeader.initSize, true) : 0,
    kernelOffset,
    kernelSize: image.length - kernelOffset,
    headerEnd,
  };
}
