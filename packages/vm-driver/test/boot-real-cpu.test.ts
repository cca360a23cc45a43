import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryBlockBackend } from '@typevisor/devices';
import type { CharBackend } from '@typevisor/devices';
import { CpuStat } from '@typevisor/cpu-x86';
import { Machine } from '../src/index.js';
import { scriptedConsole } from './helpers/scripted-console.js';

function hasTool(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hasNasm(): boolean {
  return hasTool('nasm');
}

function assemble(source: string): Uint8Array {
  const out = join(mkdtempSync(join(tmpdir(), 'mbk-')), 'kernel.bin');
  // -i: the fixtures' shared %include files sit beside them.
  execFileSync('nasm', ['-f', 'bin', '-i', fileURLToPath(new URL('./fixtures/', import.meta.url)), '-o', out, fileURLToPath(new URL(source, import.meta.url))]);
  return new Uint8Array(readFileSync(out));
}

function collect(): CharBackend & { text(): string } {
  const bytes: number[] = [];
  return { write: (b) => bytes.push(...b), setReceiver() {}, text: () => String.fromCharCode(...bytes) };
}

describe.skipIf(!hasNasm())('performance-counter overflow interrupt', () => {
  it('reaches the guest through the local APIC LVT performance-counter entry', async () => {
    const debugcon = collect();
    const machine = new Machine({ memorySize: 16 * 1024 * 1024, kernel: assemble('./fixtures/pmi-multiboot.asm'), debugcon, clock: 'deterministic' });
    machine.start();
    // Only the PMI handler leaves the spin loop (exit 0x22 -> status 0x45).
    expect(await machine.exited).toEqual({ reason: 'debug-exit', exitCode: 0x45 });
    expect(debugcon.text()).toBe('PMI');
  });
});

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

describe.skipIf(!hasNasm() || !hasTool('ld'))('boot with the real CPU: ELF multiboot kernel', () => {
  it('loads the ELF program headers, passes the initrd as a module and the loader name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mbelf-'));
    execFileSync('nasm', ['-f', 'elf32', '-o', join(dir, 'k.o'), fileURLToPath(new URL('./fixtures/hello-elf.asm', import.meta.url))]);
    execFileSync('ld', ['-m', 'elf_i386', '-Ttext', '0x100000', '-o', join(dir, 'k.elf'), join(dir, 'k.o')]);
    const debugcon = collect();
    const machine = new Machine({
      memorySize: 16 * 1024 * 1024, kernel: new Uint8Array(readFileSync(join(dir, 'k.elf'))), initrd: new Uint8Array(7), debugcon,
    });
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'debug-exit', exitCode: 0x21 });
    expect(debugcon.text()).toBe('typevisor 7\n');
  });
});

describe.skipIf(!hasNasm())('boot with the real CPU: raw firmware ROM', () => {
  it('starts at the reset vector in real mode, sees the ROM below 1 MiB too, and exits', async () => {
    const debugcon = collect();
    const machine = new Machine({ memorySize: 4 * 1024 * 1024, firmware: assemble('./fixtures/hello-rom.asm'), debugcon, clock: 'deterministic' });
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'debug-exit', exitCode: 11 });
    expect(debugcon.text()).toBe('rom ok\n');
  });
});

describe.skipIf(!hasNasm())('boot with the real CPU: the deterministic clock', () => {
  async function measure(): Promise<{ tscDelta: number; pmTimer: number }> {
    const debugcon = collect();
    const machine = new Machine({ memorySize: 16 * 1024 * 1024, kernel: assemble('./fixtures/tsc-multiboot.asm'), debugcon, clock: 'deterministic' });
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'debug-exit', exitCode: 1 });
    const [tscDelta, pmTimer] = debugcon.text().trim().split('\n').map((hexText) => Number.parseInt(hexText, 16));
    return { tscDelta: tscDelta!, pmTimer: pmTimer! };
  }

  it('gives the same TSC and PM timer readings on every run, following the instruction count', async () => {
    const first = await measure();
    const second = await measure();
    expect(second).toEqual(first);
    // 1 GHz TSC at the default 0.1 instructions/ns: 10 ticks per instruction; the loop is ~2002.
    expect(first.tscDelta).toBeGreaterThanOrEqual(2000 * 10);
    expect(first.tscDelta).toBeLessThanOrEqual(2010 * 10);
  });
});

const IMAGES = fileURLToPath(new URL('../../../guest/images/', import.meta.url));
const haveGuest = existsSync(join(IMAGES, 'bzImage')) && existsSync(join(IMAGES, 'initramfs.cpio.gz'));
/** The Linux boot takes 15-40 s of host time; TYPEVISOR_SKIP_LINUX_BOOT=1 skips it on a slow machine. */
const skipLinux = !haveGuest || process.env.TYPEVISOR_SKIP_LINUX_BOOT === '1';
/** A second Linux boot (ACPI off) doubles the time; TYPEVISOR_LINUX_BOOT_FULL=1 runs it. */
const runFullLinux = haveGuest && process.env.TYPEVISOR_LINUX_BOOT_FULL === '1';


/** The default guest's images and command line, as the CLI boots it. */
function defaultGuest(): { memorySize: number; kernel: Uint8Array; initrd: Uint8Array; cmdline: string } {
  return {
    memorySize: 128 * 1024 * 1024,
    kernel: new Uint8Array(readFileSync(join(IMAGES, 'bzImage'))),
    initrd: new Uint8Array(readFileSync(join(IMAGES, 'initramfs.cpio.gz'))),
    cmdline: 'console=ttyS0 panic=-1',
  };
}

describe('boot the default Linux guest', () => {
  it.skipIf(skipLinux)('reaches the shell, finds the virtio disk through ACPI, and powers off through ACPI S5 (needs guest/images)', async () => {
    const serial = scriptedConsole([
      'cat /sys/block/vda/size /sys/bus/virtio/devices/*/device',
      'cat /proc/cmdline',
      'poweroff -f',
    ]);
    const disk = new MemoryBlockBackend({ size: 4 * 1024 * 1024 });
    const machine = new Machine({
      ...defaultGuest(),
      serial,
      disks: [{ backend: disk }],
    });
    machine.start();
    const exit = await machine.exited;
    const log = serial.log();
    expect(log).toContain('ACPI: RSDP 0x00000000000E0000');
    expect(log).toContain('typevisor guest ready');
    expect(log).toMatch(/\r?\n8192\r?\n0x0002\r?\n/); // 4 MiB = 8192 sectors; virtio device ID 2 (block)
    expect(log).toMatch(/cat \/proc\/cmdline\r?\nconsole=ttyS0 panic=-1\r?\n/); // ACPI on: no virtio_mmio.device= added
    expect(log).toContain('reboot: Power down');
    expect(exit).toEqual({ reason: 'poweroff' });
    // perf-model counters: the guest's virtio-blk requests and MMIO accesses, per device and in total.
    const perf = machine.perf.snapshot();
    expect(perf.devices['virtio-blk0']?.['mmio.reads']).toBeGreaterThan(0);
    expect(perf.devices['virtio-blk0']?.['requests']).toBeGreaterThan(0);
    expect(perf.counters['virtio.requests']).toBe(perf.devices['virtio-blk0']?.['requests']);
    expect(perf.counters['mmio.writes']).toBeGreaterThan(0);
    // The CPU's events: Linux maps its memory on demand (page faults), and decoding is the rare case.
    expect(perf.counters['pageFaults']).toBeGreaterThan(0);
    expect(perf.counters['exceptions']).toBeGreaterThanOrEqual(perf.counters['pageFaults']);
    expect(perf.counters['tlb.misses']).toBeGreaterThan(0);
    expect(perf.counters['decodeCache.misses']).toBeGreaterThan(0);
    expect(perf.counters['decodeCache.hits']).toBeGreaterThan(perf.counters['decodeCache.misses']);
    // Warm blocks ran in the CPU's WebAssembly interpreter (RAM behind its host area, by default).
    expect(machine.memory.wasmMemory).not.toBeNull();
    expect(machine.cpu.stats?.[CpuStat.BlocksWarmed]).toBeGreaterThan(100);
    // Hot blocks were translated into WebAssembly (MachineOptions.wasmHotBlocks, by default); a block
    // that starts with HLT, which a translation does not run, is still compiled into JavaScript.
    expect(machine.cpu.stats?.[CpuStat.BlocksTranslated]).toBeGreaterThan(50);
    expect(machine.cpu.stats?.[CpuStat.BlocksCompiled]).toBeLessThan(machine.cpu.stats![CpuStat.BlocksTranslated]!);
  }, 300_000);

  it.skipIf(skipLinux)('boots to the shell and runs a command with warm blocks off (MachineOptions.warmBlocks false: the JavaScript block loop only)', async () => {
    const serial = scriptedConsole(['echo $((6 * 7)) cold', 'poweroff -f']);
    const machine = new Machine({
      ...defaultGuest(),
      serial,
    }, { warmBlocks: false });
    expect(machine.memory.wasmMemory).toBeNull();
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'poweroff' });
    expect(serial.log()).toMatch(/\r?\n42 cold\r?\n/);
    expect(machine.cpu.stats?.[CpuStat.BlocksWarmed]).toBe(0);
  }, 300_000);

  it.skipIf(skipLinux)('boots to the shell and runs a command with hot blocks compiled into JavaScript (MachineOptions.wasmHotBlocks false)', async () => {
    const serial = scriptedConsole(['echo $((6 * 7)) compiled', 'poweroff -f']);
    const machine = new Machine({ ...defaultGuest(), serial }, { wasmHotBlocks: false });
    machine.start();
    expect(await machine.exited).toEqual({ reason: 'poweroff' });
    expect(serial.log()).toMatch(/\r?\n42 compiled\r?\n/);
    expect(machine.cpu.stats?.[CpuStat.BlocksTranslated]).toBe(0);
    expect(machine.cpu.stats?.[CpuStat.BlocksCompiled]).toBeGreaterThan(50);
  }, 300_000);

  it.skipIf(!runFullLinux)('without ACPI finds the virtio disk from virtio_mmio.device= on the command line (TYPEVISOR_LINUX_BOOT_FULL=1)', async () => {
    let machine: Machine | null = null;
    // No ACPI means no S5: after the answer, the host stops the machine (typing "exit" would panic init).
    const serial = scriptedConsole(['cat /sys/block/vda/size /proc/cmdline', '']);
    const stopAfterAnswer = setInterval(() => {
      if (/\/proc\/cmdline\r?\n[^]*\/ # [^]*\/ # /.test(serial.log())) machine?.stop();
    }, 200);
    machine = new Machine({
      ...defaultGuest(),
      serial,
      acpi: false,
      disks: [{ backend: new MemoryBlockBackend({ size: 2 * 1024 * 1024 }) }],
    });
    machine.start();
    const exit = await machine.exited;
    clearInterval(stopAfterAnswer);
    expect(serial.log()).toMatch(/\r?\n4096\r?\nconsole=ttyS0 panic=-1 virtio_mmio.device=0x1000@0xd0000000:5\r?\n/);
    expect(exit).toEqual({ reason: 'stopped' });
  }, 300_000);
});
