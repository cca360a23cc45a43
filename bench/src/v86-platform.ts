/**
 * v86 (the `v86` npm package, x86 to WebAssembly JIT) as a benchmark platform: SeaBIOS from Debian's
 * `seabios` package, the default guest booted with v86's own bzImage loader, the guest's ttyS0 on
 * v86's serial0. v86 has no virtio-blk, so the disk benchmarks do not run on it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GuestConsole, MissingPrerequisiteError, processMemoryMiB } from '@typevisor/cli/bench';
import type { GuestImages, GuestPlatform, GuestSession, StartLatencySample } from '@typevisor/cli/bench';
import type { V86, V86Options } from 'v86';

/** Debian's SeaBIOS and VGA BIOS images (apt-get install -y seabios). */
export const SEABIOS = { bios: '/usr/share/seabios/bios.bin', vgaBios: '/usr/share/seabios/vgabios-stdvga.bin' } as const;

type V86Constructor = new (options: V86Options) => V86;

/** Loads the v86 module, or says how to install it. */
export async function loadV86(): Promise<{ V86: V86Constructor; wasmPath: string; version: string }> {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve('v86'));
  } catch {
    throw new MissingPrerequisiteError('the v86 npm package', 'run `npx pnpm@12.4.2 install` in the repository (bench/package.json lists v86), or bash bench/setup.sh');
  }
  for (const file of [SEABIOS.bios, SEABIOS.vgaBios]) {
    if (!existsSync(file)) throw new MissingPrerequisiteError(file, 'apt-get install -y seabios (or bash bench/setup.sh)');
  }
  const module = (await import('v86')) as { V86: V86Constructor };
  const wasmPath = fileURLToPath(new URL('./v86.wasm', `file://${entry}`));
  const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', `file://${entry}`)), 'utf8')) as { version: string };
  return { V86: module.V86, wasmPath, version: manifest.version };
}

function image(path: string): { buffer: ArrayBuffer } {
  const bytes = readFileSync(path);
  return { buffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer };
}

/** The v86 platform. */
export async function v86Platform(guest: GuestImages): Promise<GuestPlatform> {
  const { V86: Emulator, wasmPath, version } = await loadV86();
  const images = { bios: image(SEABIOS.bios), vga_bios: image(SEABIOS.vgaBios), bzimage: image(guest.kernel), initrd: image(guest.initrd) };
  const create = (): V86 => new Emulator({
    wasm_path: wasmPath, ...images, cmdline: guest.cmdline, memory_size: guest.memoryMiB * 1048576,
    autostart: true, disable_keyboard: true, disable_mouse: true, disable_speaker: true,
  });

  async function boot(): Promise<GuestSession> {
    const baseline = await processMemoryMiB();
    const startedAtMs = performance.now();
    const emulator = create();
    const console = new GuestConsole((bytes) => emulator.serial0_send(String.fromCharCode(...bytes)));
    const one = new Uint8Array(1);
    emulator.add_listener('serial0-output-byte', (byte: number) => {
      one[0] = byte;
      console.receive(one);
    });
    return {
      console,
      startedAtMs,
      instructions: () => emulator.get_instruction_counter(),
      async memoryMiB() {
        const now = await processMemoryMiB();
        return { rss: now.rss - baseline.rss, arrayBuffers: now.arrayBuffers - baseline.arrayBuffers };
      },
      async stop() {
        console.close('v86 stopped');
        await emulator.destroy();
      },
    };
  }

  async function startLatency(): Promise<StartLatencySample> {
    const started = performance.now();
    const emulator = create();
    const firstByte = await new Promise<number>((resolve) => emulator.add_listener('serial0-output-byte', () => resolve(performance.now())));
    await emulator.destroy();
    return { firstByte: (firstByte - started) / 1000, prompt: null };
  }

  return {
    name: 'v86',
    description: `v86 ${version} (npm), SeaBIOS ${SEABIOS.bios}, bzImage loader, ${guest.memoryMiB} MiB, in-process`,
    features: { virtioBlk: false, instructionCounter: true },
    boot,
    startLatency,
  };
}
