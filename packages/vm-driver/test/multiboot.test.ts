import { describe, expect, it } from 'vitest';
import {
  BootImageError, LOW_MEMORY, MULTIBOOT_BOOTLOADER_MAGIC, MultibootInfoFlags, findMultibootHeader, microvmE820, planMultibootBoot,
} from '../src/index.js';
import type { BootPlan } from '../src/index.js';
import { fakeMultibootAout, fakeMultibootElf } from './helpers/images.js';

const MiB = 1024 * 1024;
const code = Uint8Array.of(0xf4, 0xeb, 0xfd); // hlt; jmp $-1

function plan(kernel: Uint8Array, initrd: Uint8Array | null = null, memorySize = 32 * MiB): BootPlan {
  return planMultibootBoot({ kernel, initrd, cmdline: 'hello world', memorySize, e820: microvmE820(memorySize) });
}

function cString(info: Uint8Array, address: number): string {
  const start = address - LOW_MEMORY.bootParams;
  return new TextDecoder().decode(info.subarray(start, info.indexOf(0, start)));
}

describe('multiboot v1', () => {
  it('finds the header only with a valid checksum', () => {
    const image = fakeMultibootAout(code);
    expect(findMultibootHeader(image)).toMatchObject({ offset: 0, flags: 0x10003 });
    image[8] ^= 1;
    expect(findMultibootHeader(image)).toBeNull();
  });

  it('loads an a.out-kludge kernel with bss and enters with EAX = 0x2BADB002, EBX = info', () => {
    const image = fakeMultibootAout(code, 0x100000, 0x1000);
    const bootPlan = plan(image);
    const kernel = bootPlan.segments.find((s) => s.name === 'multiboot kernel')!;
    expect(kernel.address).toBe(0x100000);
    expect(kernel.bytes).toEqual(image);
    const bss = bootPlan.segments.find((s) => s.name === 'multiboot kernel bss')!;
    expect(bss).toMatchObject({ address: 0x100000 + image.length });
    expect(bss.bytes.length).toBe(0x1000);
    expect(bootPlan.entry).toMatchObject({ entry: 0x100020, eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: LOW_MEMORY.bootParams });
  });

  it('loads an ELF32 kernel by its program headers', () => {
    const image = fakeMultibootElf(code, 0x200000, 0x800);
    const bootPlan = plan(image);
    expect(bootPlan.segments[0]).toMatchObject({ address: 0x200000 });
    expect(bootPlan.segments[1]!.bytes.length).toBe(0x800);
    expect(bootPlan.entry!.entry).toBe(0x200000 + 52 + 32 + 12);
  });

  it('builds the info struct: memory, mmap, command line, module, loader name', () => {
    const initrd = new Uint8Array(3000).fill(7);
    const bootPlan = plan(fakeMultibootAout(code), initrd);
    const info = bootPlan.segments.find((s) => s.name === 'multiboot info')!;
    expect(info.address).toBe(LOW_MEMORY.bootParams);
    const view = new DataView(info.bytes.buffer, info.bytes.byteOffset);
    const flags = view.getUint32(0, true);
    expect(flags).toBe(MultibootInfoFlags.memory | MultibootInfoFlags.cmdline | MultibootInfoFlags.modules | MultibootInfoFlags.mmap | MultibootInfoFlags.loaderName);
    expect(view.getUint32(4, true)).toBe(639);
    expect(view.getUint32(8, true)).toBe(31 * 1024);
    expect(cString(info.bytes, view.getUint32(16, true))).toBe('hello world');
    expect(cString(info.bytes, view.getUint32(64, true))).toBe('typevisor');
    expect(view.getUint32(20, true)).toBe(1);
    const mod = view.getUint32(24, true) - LOW_MEMORY.bootParams;
    const modStart = view.getUint32(mod, true);
    expect(view.getUint32(mod + 4, true) - modStart).toBe(3000);
    expect(bootPlan.segments.find((s) => s.address === modStart)!.bytes).toBe(initrd);
    const mmapLength = view.getUint32(44, true);
    const mmap = view.getUint32(48, true) - LOW_MEMORY.bootParams;
    expect(mmapLength).toBe(5 * 24);
    const last = mmap + 4 * 24;
    expect(view.getUint32(last, true)).toBe(20);
    expect(Number(view.getBigUint64(last + 4, true))).toBe(0x100000);
    expect(Number(view.getBigUint64(last + 12, true))).toBe(31 * MiB);
    expect(view.getUint32(last + 20, true)).toBe(1);
  });

  it('rejects images without a header, below 1 MiB, too big, or truncated', () => {
    expect(() => plan(new Uint8Array(9000))).toThrow(BootImageError);
    expect(() => plan(new Uint8Array(9000))).toThrow(/no multiboot header/);
    expect(() => plan(fakeMultibootAout(code, 0x8000))).toThrow(/over the boot stack and multiboot info at 0x6000\.\.0x8800/);
    expect(() => plan(fakeMultibootAout(code, 0xe8000))).toThrow(/over the ACPI tables/);
    expect(plan(fakeMultibootAout(code, 0xff000)).entry!.entry).toBe(0xff020); // below 1 MiB but clear of the loader's data
    expect(() => plan(fakeMultibootAout(code, 0x1f00000, 0x200000))).toThrow(/needs RAM up to/);
    const truncated = fakeMultibootElf(code);
    new DataView(truncated.buffer).setUint16(44, 50, true); // 50 program headers in a 99-byte file
    expect(() => plan(truncated)).toThrow(/program headers run past/);
  });
});
