import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extractFromInitramfs, readNewc } from '../src/cpio.js';
import { hostTscKhz, qemuArgs } from '../src/qemu-platform.js';

function newcMember(name: string, data: string, mode = 0o100755): string {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const header = `070701${hex(1)}${hex(mode)}${hex(0)}${hex(0)}${hex(1)}${hex(0)}${hex(data.length)}${hex(0)}${hex(0)}${hex(0)}${hex(0)}${hex(name.length + 1)}${hex(0)}`;
  const pad = (s: string) => s + '\0'.repeat((4 - (s.length % 4)) % 4);
  return pad(pad(`${header}${name}\0`) + data);
}
const archive = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe('initramfs reader', () => {
  it('reads members of a newc archive and stops at the trailer', () => {
    const bytes = archive(newcMember('bin/busybox', 'ELF!') + newcMember('init', '#!/bin/sh') + newcMember('TRAILER!!!', ''));
    const entries = readNewc(bytes);
    expect(entries.map((e) => e.name)).toEqual(['bin/busybox', 'init']);
    expect(String.fromCharCode(...entries[0].data)).toBe('ELF!');
    expect(String.fromCharCode(...extractFromInitramfs(gzipSync(bytes), './bin/busybox'))).toBe('ELF!');
  });

  it('rejects archives that are not newc or are cut short', () => {
    expect(() => readNewc(archive('070707' + '0'.repeat(200)))).toThrow(/bad magic/);
    expect(() => readNewc(archive(newcMember('a', 'xyz')))).toThrow(/TRAILER/);
    expect(() => readNewc(archive(newcMember('a', 'xyzw').slice(0, 114)))).toThrow(/past the end/);
  });

  const initrd = new URL('../../guest/images/initramfs.cpio.gz', import.meta.url);
  it.skipIf(!existsSync(initrd))('finds the i386 busybox in the default guest', () => {
    const busybox = extractFromInitramfs(new Uint8Array(readFileSync(initrd)), 'bin/busybox');
    expect([...busybox.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(busybox[4]).toBe(1); // ELFCLASS32
  });
});

describe('QEMU command line', () => {
  const guest = { kernel: '/k', initrd: '/i', cmdline: 'console=ttyS0 panic=-1', memoryMiB: 128 };
  it('uses microvm with the TSC rate and a virtio-mmio disk, or pc without one', () => {
    const args = qemuArgs(guest, 'microvm', '/tmp/disk.img');
    expect(args.slice(0, 2)).toEqual(['-M', 'microvm,acpi=off']);
    expect(args).toContain('virtio-blk-device,drive=d0');
    expect(args[args.length - 1]).toMatch(/^console=ttyS0 panic=-1 tsc_early_khz=\d+$/);
    const pc = qemuArgs(guest, 'pc', null);
    expect(pc.slice(0, 2)).toEqual(['-M', 'pc']);
    expect(pc[pc.length - 1]).toBe('console=ttyS0 panic=-1');
  });

  it('reads the host TSC rate from /proc/cpuinfo', () => {
    expect(hostTscKhz('processor\t: 0\ncpu MHz\t\t: 2599.998\n')).toBe(2_599_998);
    expect(hostTscKhz('no rate here')).toBe(2_000_000);
  });
});
