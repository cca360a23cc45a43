/**
 * QEMU (`qemu-system-i386`, TCG: no KVM) as a benchmark platform, the guest's ttyS0 on QEMU's stdio.
 * The default machine is `microvm` (no PCI, virtio-mmio, like typevisor's board), the only QEMU
 * machine on which the default guest (built without PCI) sees a virtio-blk disk; `pc` is available
 * for comparison with the usual QEMU setup, without the disk.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { GuestConsole, MissingPrerequisiteError } from '@typevisor/cli/bench';
import type { GuestImages, GuestPlatform, GuestSession, StartLatencySample } from '@typevisor/cli/bench';

/** QEMU machine types the suite knows how to drive. */
export type QemuMachine = 'microvm' | 'pc';

/** The QEMU binary. */
export const QEMU = 'qemu-system-i386';

/** The QEMU version line, or a prerequisite error saying how to install it. */
export function qemuVersion(): string {
  const probe = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new MissingPrerequisiteError(QEMU, 'apt-get install -y qemu-system-x86 (or bash bench/setup.sh)');
  }
  return probe.stdout.split('\n')[0]?.trim() ?? QEMU;
}

/**
 * The host TSC rate in kHz. QEMU's microvm has no HPET, PM timer or port 0x61, so the kernel cannot
 * calibrate the TSC there; under TCG the guest TSC runs at the host rate, so it is passed on the
 * command line (`tsc_early_khz=`), as guest/test-in-qemu.sh does.
 */
export function hostTscKhz(cpuinfo: string = readFileSync('/proc/cpuinfo', 'utf8')): number {
  const mhz = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(cpuinfo);
  return mhz === null ? 2_000_000 : Math.round(Number(mhz[1]) * 1000);
}

/** The qemu-system-i386 arguments for the default guest. */
export function qemuArgs(guest: GuestImages, machine: QemuMachine, disk: string | null): string[] {
  const args = ['-M', machine === 'microvm' ? 'microvm,acpi=off' : 'pc', '-m', String(guest.memoryMiB), '-nographic', '-no-reboot',
    '-kernel', guest.kernel, '-initrd', guest.initrd];
  const cmdline = machine === 'microvm' ? `${guest.cmdline} tsc_early_khz=${hostTscKhz()}` : guest.cmdline;
  if (disk !== null) args.push('-drive', `id=d0,file=${disk},format=raw,if=none,readonly=on`, '-device', 'virtio-blk-device,drive=d0');
  return [...args, '-append', cmdline];
}

function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s*(\d+) kB/m.exec(status);
  return rss === null ? Number.NaN : Number(rss[1]) / 1024;
}

/** The QEMU TCG platform. */
export function qemuPlatform(guest: GuestImages, machine: QemuMachine): GuestPlatform {
  const version = qemuVersion();

  async function boot({ disk }: { readonly disk: string | null }): Promise<GuestSession> {
    const startedAtMs = performance.now();
    const child = spawn(QEMU, qemuArgs(guest, machine, machine === 'microvm' ? disk : null), { stdio: ['pipe', 'pipe', 'inherit'] });
    const console = new GuestConsole((bytes) => child.stdin.write(bytes));
    child.stdout.on('data', (chunk: Buffer) => console.receive(chunk));
    const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
      console.close(`QEMU exited (${signal ?? `status ${code}`})`);
      resolve();
    }));
    child.once('error', (error) => console.close(`QEMU failed: ${error.message}`));
    return {
      console,
      startedAtMs,
      instructions: () => null,
      memoryMiB: async () => ({ rss: child.pid === undefined ? Number.NaN : residentMiB(child.pid), arrayBuffers: null }),
      async stop() {
        child.kill('SIGKILL');
        await exited;
      },
    };
  }

  async function startLatency(): Promise<StartLatencySample> {
    const started = performance.now();
    const child = spawn(QEMU, qemuArgs(guest, machine, null), { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const firstByte = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', () => resolve(performance.now()));
      child.once('exit', (code) => reject(new Error(`QEMU exited (status ${code}) before printing anything`)));
    });
    child.kill('SIGKILL');
    await exited;
    return { firstByte: (firstByte - started) / 1000, prompt: null };
  }

  return {
    name: 'qemu-tcg',
    description: `${version}, -M ${machine}, TCG, ${guest.memoryMiB} MiB${machine === 'pc' ? ' (no disk: -M pc has virtio-blk only as a PCI device, which the default guest cannot see)' : ', virtio-blk-device (virtio-mmio)'}`,
    features: { virtioBlk: machine === 'microvm', instructionCounter: false },
    boot,
    startLatency,
  };
}
