import { BootImageError } from '../errors.js';
import { LOW_MEMORY } from '../layout.js';
import type { BootPlan, RamSegment } from './boot-plan.js';
import { hex } from './boot-plan.js';
import type { E820Entry } from './e820.js';
import { buildBootRom } from './entry-stub.js';

/** The multiboot v1 header magic a kernel carries in its first 8 KiB. */
export const MULTIBOOT_HEADER_MAGIC = 0x1bad_b002;
/** EAX at the kernel entry: tells the kernel a multiboot loader started it. */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2bad_b002;
/** How far into the file the header may start. */
export const MULTIBOOT_SEARCH_LIMIT = 8192;

/** Header `flags` bits. */
export const MultibootHeaderFlags = { pageAlignModules: 1 << 0, memoryInfo: 1 << 1, videoMode: 1 << 2, addressFields: 1 << 16 } as const;
/** Info struct `flags` bits. */
export const MultibootInfoFlags = { memory: 1 << 0, cmdline: 1 << 2, modules: 1 << 3, mmap: 1 << 6, loaderName: 1 << 9 } as const;

/** Where the info struct and the data it points to are built (below 1 MiB, in conventional RAM). */
const INFO = LOW_MEMORY.bootParams;
const MMAP = INFO + 0x100;
const MODULES = INFO + 0x400;
const STRINGS = INFO + 0x800;
const LOADER_NAME = 'typevisor';
const SUPPORTED_HEADER_FLAGS = 0x0000_0007; // every bit of the low 16 we understand
/** Low-memory areas the loader and the machine fill; a kernel segment may not overlap them. */
const LOADER_AREAS = [
  { start: LOW_MEMORY.gdt, end: STRINGS + 0x1000, name: 'boot stack and multiboot info' },
  { start: LOW_MEMORY.cmdline, end: LOW_MEMORY.cmdline + 0x1000, name: 'command line' },
  { start: LOW_MEMORY.acpiTables, end: LOW_MEMORY.acpiTables + LOW_MEMORY.acpiTablesSize, name: 'ACPI tables' },
] as const;

/** A found multiboot header. */
export interface MultibootHeader {
  /** File offset of the magic. */
  readonly offset: number;
  readonly flags: number;
  /** a.out kludge fields, when flag 16 is set. */
  readonly addresses: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number } | null;
}

/** Finds and checks the multiboot v1 header, or returns null if the file has none. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader | null {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const limit = Math.min(MULTIBOOT_SEARCH_LIMIT, image.length) - 12;
  for (let offset = 0; offset <= limit; offset += 4) {
    if (view.getUint32(offset, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(offset + 4, true);
    const checksum = view.getUint32(offset + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) continue;
    if ((flags & 0xffff & ~SUPPORTED_HEADER_FLAGS) !== 0) {
      throw new BootImageError('unsupported', `multiboot header requires features ${hex(flags & 0xffff)} this loader does not know`);
    }
    let addresses: MultibootHeader['addresses'] = null;
    if ((flags & MultibootHeaderFlags.addressFields) !== 0) {
      if (offset + 32 > image.length) throw new BootImageError('truncated', 'multiboot header address fields run past the end of the file');
      addresses = {
        headerAddr: view.getUint32(offset + 12, true),
        loadAddr: view.getUint32(offset + 16, true),
        loadEndAddr: view.getUint32(offset + 20, true),
        bssEndAddr: view.getUint32(offset + 24, true),
        entryAddr: view.getUint32(offset + 28, true),
      };
    }
    return { offset, flags, addresses };
  }
  return null;
}

/** A piece of the kernel to place in RAM: `fileBytes` then `zeroBytes` zeros. */
interface LoadPiece { address: number; bytes: Uint8Array; zeroBytes: number }

interface LoadedKernel { pieces: LoadPiece[]; entry: number; end: number }

function loadAout(image: Uint8Array, header: MultibootHeader): LoadedKernel {
  const a = header.addresses!;
  if (a.headerAddr < a.loadAddr) throw new BootImageError('malformed', 'multiboot header_addr is below load_addr');
  const fileStart = header.offset - (a.headerAddr - a.loadAddr);
  if (fileStart < 0) throw new BootImageError('malformed', 'multiboot header_addr - load_addr points before the start of the file');
  const loadEnd = a.loadEndAddr === 0 ? a.loadAddr + (image.length - fileStart) : a.loadEndAddr;
  if (loadEnd < a.loadAddr) throw new BootImageError('malformed', 'multiboot load_end_addr is below load_addr');
  const length = loadEnd - a.loadAddr;
  if (fileStart + length > image.length) {
    throw new BootImageError('truncated', `multiboot kernel is truncated: needs ${fileStart + length} bytes, file has ${image.length}`);
  }
  const bssEnd = a.bssEndAddr === 0 ? loadEnd : a.bssEndAddr;
  if (bssEnd < loadEnd) throw new BootImageError('malformed', 'multiboot bss_end_addr is below load_end_addr');
  return {
    pieces: [{ address: a.loadAddr, bytes: image.subarray(fileStart, fileStart + length), zeroBytes: bssEnd - loadEnd }],
    entry: a.entryAddr,
    end: bssEnd,
  };
}

function loadElf32(image: Uint8Array): LoadedKernel {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length < 52 || view.getUint32(0, false) !== 0x7f45_4c46) {
    throw new BootImageError('unsupported', 'multiboot kernel is not ELF and does not set the a.out address fields (flag 16)');
  }
  if (image[4] !== 1 || image[5] !== 1 || view.getUint16(18, true) !== 3) {
    throw new BootImageError('unsupported', 'multiboot ELF kernel must be 32-bit little-endian i386 (ELFCLASS32, EM_386)');
  }
  if (view.getUint16(16, true) !== 2) throw new BootImageError('unsupported', 'multiboot ELF kernel is not an executable (ET_EXEC)');
  const phoff = view.getUint32(28, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  if (phentsize < 32 || phoff + phnum * phentsize > image.length) throw new BootImageError('truncated', 'ELF program headers run past the end of the file');
  const pieces: LoadPiece[] = [];
  let end = 0;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (view.getUint32(at, true) !== 1) continue; // PT_LOAD only
    const offset = view.getUint32(at + 4, true);
    const paddr = view.getUint32(at + 12, true);
    const filesz = view.getUint32(at + 16, true);
    const memsz = view.getUint32(at + 20, true);
    if (memsz < filesz) throw new BootImageError('malformed', `ELF segment ${i} has p_memsz < p_filesz`);
    if (offset + filesz > image.length) throw new BootImageError('truncated', `ELF segment ${i} runs past the end of the file`);
    pieces.push({ address: paddr, bytes: image.subarray(offset, offset + filesz), zeroBytes: memsz - filesz });
    end = Math.max(end, paddr + memsz);
  }
  if (pieces.length === 0) throw new BootImageError('malformed', 'ELF kernel has no loadable segment');
  return { pieces, entry: view.getUint32(24, true), end };
}

/** Inputs of {@link planMultibootBoot}. */
export interface MultibootInput {
  readonly kernel: Uint8Array;
  readonly initrd: Uint8Array | null;
  readonly cmdline: string;
  readonly memorySize: number;
  readonly e820: readonly E820Entry[];
}

/**
 * Loads a multiboot v1 kernel (a.out kludge or ELF32), passes the initrd as the only module, and
 * builds the info struct (memory sizes, e820-style map, command line, modules, loader name).
 */
export function planMultibootBoot(input: MultibootInput): BootPlan {
  const header = findMultibootHeader(input.kernel);
  if (header === null) throw new BootImageError('not-a-kernel', 'no multiboot header (magic 0x1BADB002 with a valid checksum) in the first 8 KiB');
  const kernel = header.addresses !== null ? loadAout(input.kernel, header) : loadElf32(input.kernel);
  for (const piece of kernel.pieces) {
    const pieceEnd = piece.address + piece.bytes.length + piece.zeroBytes;
    for (const area of LOADER_AREAS) {
      if (piece.address < area.end && pieceEnd > area.start) {
        throw new BootImageError(
          'unsupported',
          `multiboot kernel loads at ${hex(piece.address)}..${hex(pieceEnd)}, over the ${area.name} at ${hex(area.start)}..${hex(area.end)}`,
        );
      }
    }
    if (pieceEnd > input.memorySize) {
      throw new BootImageError('too-big', `multiboot kernel needs RAM up to ${hex(pieceEnd)} but the guest has ${hex(input.memorySize)} bytes`);
    }
  }
  const segments: RamSegment[] = [];
  for (const piece of kernel.pieces) {
    segments.push({ address: piece.address, bytes: piece.bytes, name: 'multiboot kernel' });
    if (piece.zeroBytes > 0) {
      segments.push({ address: piece.address + piece.bytes.length, bytes: new Uint8Array(piece.zeroBytes), name: 'multiboot kernel bss' });
    }
  }

  const info = new Uint8Array(STRINGS + 0x1000 - INFO);
  const view = new DataView(info.buffer);
  const strings = new TextEncoder();
  let stringAt = STRINGS;
  const putString = (text: string): number => {
    const bytes = strings.encode(text);
    if (stringAt + bytes.length + 1 > INFO + info.length) throw new BootImageError('too-big', 'multiboot command line is too long');
    info.set(bytes, stringAt - INFO);
    const address = stringAt;
    stringAt += bytes.length + 1;
    return address;
  };
  let flags = MultibootInfoFlags.memory | MultibootInfoFlags.cmdline | MultibootInfoFlags.mmap | MultibootInfoFlags.loaderName;
  view.setUint32(4, LOW_MEMORY.ebda / 1024, true); // mem_lower in KiB
  view.setUint32(8, (input.memorySize - LOW_MEMORY.highMemory) / 1024, true); // mem_upper in KiB
  view.setUint32(16, putString(input.cmdline), true);
  input.e820.forEach((entry, index) => {
    const at = MMAP - INFO + index * 24;
    view.setUint32(at, 20, true);
    view.setBigUint64(at + 4, BigInt(entry.address), true);
    view.setBigUint64(at + 12, BigInt(entry.size), true);
    view.setUint32(at + 20, entry.type, true);
  });
  view.setUint32(44, input.e820.length * 24, true);
  view.setUint32(48, MMAP, true);
  view.setUint32(64, putString(LOADER_NAME), true);

  let moduleSummary = 'no modules';
  if (input.initrd !== null) {
    const address = Math.floor((input.memorySize - input.initrd.length) / 4096) * 4096;
    const kernelEnd = Math.ceil(kernel.end / 4096) * 4096;
    if (address < kernelEnd) {
      throw new BootImageError('too-big', `initrd of ${input.initrd.length} bytes does not fit above the kernel (ends ${hex(kernel.end)}); give the guest more memory`);
    }
    segments.push({ address, bytes: input.initrd, name: 'multiboot module (initrd)' });
    flags |= MultibootInfoFlags.modules;
    view.setUint32(20, 1, true);
    view.setUint32(24, MODULES, true);
    view.setUint32(MODULES - INFO, address, true);
    view.setUint32(MODULES - INFO + 4, address + input.initrd.length, true);
    view.setUint32(MODULES - INFO + 8, putString('initrd'), true);
    moduleSummary = `module (initrd) ${input.initrd.length} bytes at ${hex(address)}`;
  }
  view.setUint32(0, flags, true);
  segments.push({ address: INFO, bytes: info, name: 'multiboot info' });

  const entry = {
    entry: kernel.entry, eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: INFO, esp: INFO,
    ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0,
  };
  return {
    kind: 'multiboot',
    segments,
    roms: [buildBootRom(entry)],
    entry,
    summary: [
      `multiboot v1 kernel (${header.addresses !== null ? 'a.out kludge' : 'ELF32'}), ${hex(kernel.pieces[0]!.address)}..${hex(kernel.end)}, entry ${hex(kernel.entry)}`,
      moduleSummary,
      `command line: ${input.cmdline}`,
    ],
  };
}
