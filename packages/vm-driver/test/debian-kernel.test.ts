import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine, MachineExit } from '../src/index.js';
import { importBundled } from './helpers/bundle.js';
import type * as DebianMachine from './helpers/debian-machine.js';
import { prepareDebianGuest } from './helpers/debian-guest.js';
import type { DebianGuest } from './helpers/debian-guest.js';
import { scriptedConsole } from './helpers/scripted-console.js';

/**
 * Debian's stock i386 kernel (linux-image-686) boots in typevisor to a busybox shell and finds its
 * virtio-mmio devices through the ACPI DSDT (Debian builds no VIRTIO_MMIO_CMDLINE_DEVICES, so the
 * command line cannot announce them). guest/debian/build-initramfs.sh downloads the kernel and
 * busybox from the Debian archive into a cache outside the repository (TYPEVISOR_DEBIAN_CACHE,
 * default /tmp/typevisor-debian; as root it enables the i386 architecture and runs apt-get update
 * when needed) and builds the initramfs. When the machine cannot get them — the archive does not
 * answer, or i386 or a host tool is missing and we are not root — the test is skipped and says why.
 *
 * It runs in every `npx pnpm@12.4.2 test`, as its own vitest project (vm-driver-debian) in a later
 * group than every other project (root vitest.config.ts): the boot is about 6.7 G guest instructions
 * (the kernel's xz decompression ~2.4 G, the crypto self-tests of crypto_algapi_init ~3.2 G, X.509 and
 * module signature checks), half a minute to a minute of one core (30 s on a quiet machine at
 * 8166405), which must not compete with the other projects on a 2-core machine.
 *
 * Speed: the machine comes from an esbuild bundle of the packages (helpers/bundle.ts). Through
 * vitest's module runner the same boot ran 2.5 times slower (507 s against 206 s, one snapshot of the
 * tree, similar host load), which is what made this test take 7 to 15 minutes before.
 *
 * Clock: deterministic at the default 100 MIPS. It was suspected of the slowness, but the boot's
 * instruction count hardly depends on the clock (6.680 G deterministic against 6.698 G real-time,
 * same tree: 122 s and 133 s of host time): almost nothing in it waits for time, so busy-waits
 * (udelay, TSC/PIT calibration), which cost 100 instructions per virtual microsecond here against
 * the guest's measured ~50 under the real-time clock, add little, and idle time is skipped rather
 * than slept. Deterministic time gives every run the same timeline however loaded the host is, where
 * the real-time clock shows the kernel a jittery TSC (failed PIT calibration, the clocksource
 * watchdog dropping the TSC) that changes its paths from run to run.
 */
const CACHE = process.env.TYPEVISOR_DEBIAN_CACHE ?? '/tmp/typevisor-debian';
/** Download and build: an apt-get update of the i386 index and ~40 MB of packages on a clean machine
 *  (about a minute); from the cache, seconds. */
const BUILD_TIMEOUT_MS = 300_000;
/** The boot: ~30 s alone on a quiet machine; twenty times that still passes on a busy one. With the
 *  build, a hung run costs CI at most 15 minutes on top of the other projects' ~5. */
const BOOT_TIMEOUT_MS = 600_000;
const log = (message: string): void => console.info(`[debian-kernel.test] ${message}`);

declare module 'vitest' {
  interface TaskMeta {
    /** One line on the Debian boot (its host time, or why it was skipped) for scripts/test.mjs's summary. */
    debianBoot?: string;
  }
}

/** Host randomness for virtio-rng (getRandomValues takes at most 64 KiB at a time). */
function fillRandom(bytes: Uint8Array<ArrayBuffer>): void {
  for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
}

/** The machine's exit, or — after `ms` — stops it (so it does not keep a core busy) and rejects. */
function exitWithin(machine: Machine, ms: number, serialLog: () => string): Promise<MachineExit> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      machine.stop();
      reject(new Error(`the Debian guest did not power off within ${ms / 1000} s of host time; last serial output:\n${serialLog().slice(-2000)}`));
    }, ms);
  });
  return Promise.race([machine.exited, timeout]).finally(() => clearTimeout(timer));
}

type Packages = typeof DebianMachine;

describe('boot Debian\'s stock linux-image-686 kernel', () => {
  let guest: DebianGuest;
  let bundle: { readonly module: Packages; dispose(): void } | undefined;
  beforeAll(async () => {
    guest = prepareDebianGuest(CACHE, BUILD_TIMEOUT_MS);
    if (!guest.available) return log(`skipped: ${guest.reason}`);
    log(`guest ready in ${guest.seconds.toFixed(1)} s (Linux ${guest.release}, cache ${guest.cache})`);
    // The machine from one esbuild bundle, not through vitest's module runner (see above).
    bundle = await importBundled<Packages>(fileURLToPath(new URL('./helpers/debian-machine.ts', import.meta.url)));
  }, BUILD_TIMEOUT_MS + 60_000);
  afterAll(() => bundle?.dispose());

  it('reaches the shell with virtio-blk, -net, -console and -rng found through ACPI', async ({ skip, task }) => {
    if (!guest.available) {
      task.meta.debianBoot = guest.reason;
      return skip(guest.reason);
    }
    const { release } = guest;
    const { Machine, MachineCounter, MemoryBlockBackend } = bundle!.module;
    expect(release).toMatch(/^6\.1\.0-\d+-686$/);

    const serial = scriptedConsole([
      // Each virtio device's bus path: an ACPI-enumerated LNRO0005 platform device, and its device ID.
      'for d in /sys/bus/virtio/devices/*; do echo "$(readlink -f $d) id=$(cat $d/device)"; done',
      'cat /sys/block/vda/size /proc/cmdline',
      'poweroff -f',
    ]);
    const started = Date.now();
    const machine = new Machine({
      memorySize: 256 * 1024 * 1024,
      kernel: new Uint8Array(readFileSync(`${CACHE}/vmlinuz`)),
      initrd: new Uint8Array(readFileSync(`${CACHE}/initramfs.cpio.gz`)),
      cmdline: 'console=ttyS0 panic=-1',
      serial,
      disks: [{ backend: new MemoryBlockBackend({ size: 8 * 1024 * 1024 }) }],
      nets: [{ backend: { send() {}, setReceiver() {} } }],
      console: { write() {}, setReceiver() {} },
      entropy: { fill: fillRandom },
      clock: 'deterministic',
    });
    machine.start();
    const exit = await exitWithin(machine, BOOT_TIMEOUT_MS, () => serial.log());
    const seconds = (Date.now() - started) / 1000;
    const instructions = machine.counters[MachineCounter.instructions]!;
    task.meta.debianBoot = `Linux ${release} booted and powered off in ${seconds.toFixed(1)} s of host time `
      + `(${(instructions / 1e9).toFixed(2)} G guest instructions, ${(instructions / 1e6 / seconds).toFixed(1)} MIPS)`;
    log(task.meta.debianBoot);
    const output = serial.log();

    expect(output).toContain(`Linux version ${release}`);
    expect(output).toContain('typevisor debian guest ready');
    expect(output).not.toContain('insmod');
    // The deferred crypto self-tests (RSA, DH, hashes, ciphers) ran on our CPU and none failed.
    expect(output).not.toMatch(/alg: .*fail/i);
    // Four virtio-mmio devices, each a child of an ACPI LNRO0005 platform device: net 1, blk 2, console 3, rng 4.
    const devices = [...output.matchAll(/\/sys\/devices\/platform\/LNRO0005:\d+\/virtio\d+ id=(0x\d{4})/g)].map((m) => m[1]).sort();
    expect(devices).toEqual(['0x0001', '0x0002', '0x0003', '0x0004']);
    // An 8 MiB disk is 16384 sectors; nothing was announced on the command line.
    expect(output).toMatch(/\r?\n16384\r?\nconsole=ttyS0 panic=-1\r?\n/);
    expect(output).toContain('reboot: Power down');
    expect(exit).toEqual({ reason: 'poweroff' });
  }, BOOT_TIMEOUT_MS + 30_000);
});
