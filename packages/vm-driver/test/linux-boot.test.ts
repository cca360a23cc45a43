import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BOOT_ROM_BASE, BootImageError, BootParams, E820Type, LOW_MEMORY, SetupHeader, microvmE820, parseLinuxHeader, planLinuxBoot,
} from '../src/index.js';
import type { BootImageErrorCode, BootPlan, RamSegment } from '../src/index.js';
import { fakeBzImage } from './helpers/images.js';

const MiB = 1024 * 1024;
const REAL_BZIMAGE = fileURLToPath(new URL('../../../guest/images/bzImage', import.meta.url));

function plan(kernel: Uint8Array, memorySize = 64 * MiB, initrd: Uint8Array | null = null, cmdline = 'console=ttyS0'): BootPlan {
  return planLinuxBoot({ kernel, initrd, cmdline, memorySize, e820: microvmE820(memorySize), acpiRsdp: 0xe0000 });
}

function segment(bootPlan: BootPlan, name: string): RamSegment {
  const found = bootPlan.segments.find((s) => s.name.startsWith(name));
  if (found === undefined) throw new Error(`no segment ${name}`);
  return found;
}

function codeOf(run: () => unknown): BootImageErrorCode {
  try {
    run();
  } catch (error) {
    if (error instanceof BootImageError) return error.code;
    throw error;
  }
  throw new Error('expected a BootImageError');
}

describe('bzImage setup header', () => {
  it('parses the fields the loader needs', () => {
    const header = parseLinuxHeader(fakeBzImage({ setupSects: 0, relocatable: true, kernelBytes: 4096 }));
    expect(header).toMatchObject({
      version: 0x20f, setupSects: 4, kernelOffset: 5 * 512, kernelSize: 4096, relocatable: true,
      code32Start: 0x100000, kernelAlignment: 0x200000, cmdlineSize: 0x7ff, prefAddress: 0x1000000, initSize: 0x400000,
    });
  });

  it.each<[string, Uint8Array, BootImageErrorCode, RegExp]>([
    ['random bytes', new Uint8Array(4096).fill(0x90), 'not-a-kernel', /not a Linux bzImage/],
    ['protocol 2.04', fakeBzImage({ version: 0x204 }), 'protocol-too-old', /2\.04 is too old.*2\.06/],
    ['a zImage', fakeBzImage({ loadflags: 0 }), 'unsupported', /zImage/],
    ['a truncated kernel', fakeBzImage({ kernelBytes: 4096, declaredKernelBytes: 8192 }), 'truncated', /truncated/],
    ['a bad alignment', fakeBzImage({ kernelAlignment: 0x30000 }), 'malformed', /power of two/],
  ])('rejects %s', (_label, image, code, message) => {
    expect(codeOf(() => parseLinuxHeader(image))).toBe(code);
    expect(() => parseLinuxHeader(image)).toThrow(message);
  });
});

describe('Linux boot plan', () => {
  it('loads the kernel at 1 MiB, the command line, and the initrd as high as allowed', () => {
    const image = fakeBzImage({ kernelBytes: 8192 });
    const initrd = new Uint8Array(10000).fill(0xab);
    const bootPlan = plan(image, 64 * MiB, initrd);
    const kernel = segment(bootPlan, 'protected-mode kernel');
    expect(kernel.address).toBe(0x100000);
    expect(kernel.bytes).toEqual(image.subarray(5 * 512));
    const cmdline = segment(bootPlan, 'command line');
    expect(cmdline.address).toBe(LOW_MEMORY.cmdline);
    expect(new TextDecoder().decode(cmdline.bytes)).toBe('console=ttyS0\0');
    const rd = segment(bootPlan, 'initrd');
    expect(rd.address).toBe(64 * MiB - 12288);
    expect(rd.address % 4096).toBe(0);
    expect(bootPlan.entry).toMatchObject({ entry: 0x100000, esi: LOW_MEMORY.bootParams, eax: 0, ebx: 0, edi: 0, ebp: 0 });
    expect(bootPlan.roms[0]!.address).toBe(BOOT_ROM_BASE);
  });

  it('keeps the initrd below initrd_addr_max', () => {
    const bootPlan = plan(fakeBzImage({ initrdAddrMax: 0x37ffffff }), 2048 * MiB, new Uint8Array(5000));
    expect(segment(bootPlan, 'initrd').address).toBe(0x38000000 - 8192);
  });

  it('fills the zero page: header copy, loader fields, e820, RSDP', () => {
    const image = fakeBzImage();
    const initrd = new Uint8Array(5000);
    const bootPlan = plan(image, 128 * MiB, initrd);
    const page = segment(bootPlan, 'zero page');
    expect(page.address).toBe(LOW_MEMORY.bootParams);
    expect(page.bytes.length).toBe(4096);
    const view = new DataView(page.bytes.buffer, page.bytes.byteOffset);
    expect(view.getUint32(SetupHeader.header, true)).toBe(0x53726448);
    expect(view.getUint16(SetupHeader.version, true)).toBe(0x20f);
    expect(page.bytes[SetupHeader.typeOfLoader]).toBe(0xff);
    expect(page.bytes[SetupHeader.loadflags]! & 0x81).toBe(0x81); // LOADED_HIGH | CAN_USE_HEAP
    expect(view.getUint16(SetupHeader.heapEndPtr, true)).toBe(0xde00);
    expect(view.getUint16(SetupHeader.vidMode, true)).toBe(0xffff);
    expect(view.getUint32(SetupHeader.cmdLinePtr, true)).toBe(LOW_MEMORY.cmdline);
    expect(view.getUint32(SetupHeader.ramdiskImage, true)).toBe(segment(bootPlan, 'initrd').address);
    expect(view.getUint32(SetupHeader.ramdiskSize, true)).toBe(5000);
    expect(view.getBigUint64(BootParams.acpiRsdpAddr, true)).toBe(0xe0000n);
    const entries = page.bytes[BootParams.e820Entries]!;
    const e820 = Array.from({ length: entries }, (_, i) => {
      const at = BootParams.e820Table + i * 20;
      return [Number(view.getBigUint64(at, true)), Number(view.getBigUint64(at + 8, true)), view.getUint32(at + 16, true)];
    });
    expect(e820).toEqual([
      [0, 0x9fc00, E820Type.Ram],
      [0x9fc00, 0x400, E820Type.Reserved],
      [0xe0000, 0x10000, E820Type.Acpi],
      [0xf0000, 0x10000, E820Type.Reserved],
      [0x100000, 127 * MiB, E820Type.Ram],
    ]);
  });

  it('rejects a kernel that does not fit, a too-long command line, and an initrd that does not fit', () => {
    expect(codeOf(() => plan(fakeBzImage({ prefAddress: 0x1000000, initSize: 0x800000 }), 16 * MiB))).toBe('too-big');
    expect(() => plan(fakeBzImage(), 16 * MiB)).toThrow(/give it more memory/);
    expect(codeOf(() => plan(fakeBzImage({ cmdlineSize: 10 }), 64 * MiB, null, 'console=ttyS0 quiet'))).toBe('too-big');
    expect(codeOf(() => plan(fakeBzImage(), 24 * MiB, new Uint8Array(8 * MiB)))).toBe('too-big');
  });
});

describe.skipIf(!existsSync(REAL_BZIMAGE))('the default guest bzImage', () => {
  it('parses and plans with the real kernel', () => {
    const image = new Uint8Array(readFileSync(REAL_BZIMAGE));
    const header = parseLinuxHeader(image);
    expect(header.version).toBeGreaterThanOrEqual(0x206);
    expect(header.loadflags & 1).toBe(1);
    const bootPlan = plan(image, 128 * MiB, new Uint8Array(1024 * 1024));
    expect(segment(bootPlan, 'protected-mode kernel').bytes.length).toBe(header.kernelSize);
    expect(bootPlan.entry!.entry).toBe(header.code32Start);
  });
});
