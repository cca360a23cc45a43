import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CharBackend } from '@typevisor/devices';
import { Machine } from '../src/index.js';

function hasNasm(): boolean {
  try {
    execFileSync('which', ['nasm'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function assemble(source: string): Uint8Array {
  const out = join(mkdtempSync(join(tmpdir(), 'mbk-')), 'kernel.bin');
  execFileSync('nasm', ['-f', 'bin', '-o', out, fileURLToPath(new URL(source, import.meta.url))]);
  return new Uint8Array(readFileSync(out));
}

function collect(): CharBackend & { text(): string } {
  const bytes: number[] = [];
  return { write: (b) => bytes.push(...b), setReceiver() {}, text: () => String.fromCharCode(...bytes) };
}

describe.skipIf(!hasNasm())('boot with the real CPU: tiny multiboot kernel', () => {
  for (const clock of ['deterministic', 'realtime'] as const) {
    it(`goes reset vector -> boot ROM -> 32-bit entry, prints via 0xE9 and exits via 0xF4 (${clock})`, async () => {
      const debugcon = collect();
      const machine = new Machine({
        memorySize: 16 * 1024 * 1024, kernel: assemble('./fixtures/hello-multiboot.asm'), cmdline: 'quiet answer=42', debugcon, clock,
      });
      machine.start();
      const exit = await machine.exited;
      expect(debugcon.text()).toBe('hello from multiboot: quiet answer=42\n');
      expect(exit).toEqual({ reason: 'debug-exit', exitCode: 0x21 });
    });
  }
});

const IMAGES = fileURLToPath(new URL('../../../guest/images/', import.meta.url));
const haveGuest = existsSync(join(IMAGES, 'bzImage')) && existsSync(join(IMAGES, 'initramfs.cpio.gz'));
/**
 * Booting the default guest to its shell needs the whole chipset (the i8042, port 0x92, LAPIC and
 * I/O APIC are not in @typevisor/devices yet) and a CPU that runs all of Linux; set
 * TYPEVISOR_LINUX_BOOT_TEST=1 to try it anyway.
 */
const linuxReady = process.env.TYPEVISOR_LINUX_BOOT_TEST === '1';

describe('boot the default Linux guest to a shell', () => {
  it.skipIf(!haveGuest || !linuxReady)('reaches the shell prompt and powers off (set TYPEVISOR_LINUX_BOOT_TEST=1; needs guest/images)', async () => {
    const serialBytes: number[] = [];
    let receiver: ((bytes: Uint8Array) => void) | null = null;
    let typed = false;
    const serial: CharBackend = {
      write(bytes) {
        serialBytes.push(...bytes);
        const text = String.fromCharCode(...serialBytes.slice(-200));
        if (!typed && text.includes('/ # ')) {
          typed = true;
          receiver?.(new TextEncoder().encode('poweroff -f\r'));
        }
      },
      setReceiver(r) { receiver = r; },
    };
    const machine = new Machine({
      memorySize: 128 * 1024 * 1024,
      kernel: new Uint8Array(readFileSync(join(IMAGES, 'bzImage'))),
      initrd: new Uint8Array(readFileSync(join(IMAGES, 'initramfs.cpio.gz'))),
      cmdline: 'console=ttyS0 panic=-1',
      serial,
    });
    machine.start();
    const exit = await machine.exited;
    const log = String.fromCharCode(...serialBytes);
    expect(log).toContain('typevisor guest ready');
    expect(exit).toEqual({ reason: 'poweroff' });
  }, 600_000);
});
