import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryBlockBackend } from '@typevisor/devices';
import { Machine } from '../src/index.js';
import { scriptedConsole } from './helpers/scripted-console.js';

/**
 * Debian's stock i386 kernel (linux-image-686) boots in typevisor to a busybox shell and finds its
 * virtio-mmio devices through the ACPI DSDT (Debian builds no VIRTIO_MMIO_CMDLINE_DEVICES, so the
 * command line cannot announce them). guest/debian/build-initramfs.sh downloads the kernel and
 * busybox from the Debian archive into a cache outside the repository and builds the initramfs.
 *
 * The boot runs about 6.7 billion guest instructions (xz decompression of the kernel, the deferred
 * crypto self-tests in crypto_algapi_init, X.509 and module signature checks): about 5 minutes of
 * host time. That is too much for every test run, so it is opt-in: TYPEVISOR_DEBIAN_BOOT_TEST=1.
 */
const SCRIPT = fileURLToPath(new URL('../../../guest/debian/build-initramfs.sh', import.meta.url));
const CACHE = process.env.TYPEVISOR_DEBIAN_CACHE ?? '/tmp/typevisor-debian';
const optedIn = process.env.TYPEVISOR_DEBIAN_BOOT_TEST === '1';

/** Why the Debian archive cannot be used here, or null when it can (resolves and answers in 20 s). */
async function archiveUnreachable(): Promise<string | null> {
  let uris: string;
  try {
    uris = execFileSync('timeout', ['20', 'apt-get', 'download', '--print-uris', 'linux-image-686:i386'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    return `apt-get cannot resolve linux-image-686:i386 (enable i386: dpkg --add-architecture i386 && apt-get update): ${String(error)}`;
  }
  const url = /'(https?:\/\/[^']+)'/.exec(uris)?.[1];
  if (url === undefined) return `apt-get download --print-uris gave no URL: ${uris.trim()}`;
  try {
    const response = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(20_000) });
    return response.ok ? null : `the Debian archive answered ${response.status} for ${url}`;
  } catch (error) {
    return `the Debian archive is not reachable (${url}): ${String(error)}`;
  }
}

const unreachable = optedIn ? await archiveUnreachable() : null;
const skipReason = !optedIn
  ? 'the Debian kernel boot takes ~5 minutes; set TYPEVISOR_DEBIAN_BOOT_TEST=1 to run it'
  : unreachable;
if (skipReason !== null) console.info(`[debian-kernel.test] skipped: ${skipReason}`);

/** Host randomness for virtio-rng (getRandomValues takes at most 64 KiB at a time). */
function fillRandom(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
}


describe('boot Debian\'s stock linux-image-686 kernel', () => {
  it.skipIf(skipReason !== null)('reaches the shell with virtio-blk, -net, -console and -rng found through ACPI (TYPEVISOR_DEBIAN_BOOT_TEST=1)', async () => {
    const built = execFileSync('bash', [SCRIPT], {
      encoding: 'utf8', env: { ...process.env, TYPEVISOR_DEBIAN_CACHE: CACHE }, timeout: 600_000, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const release = built.trim().split('\n').pop() ?? '';
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
    const exit = await machine.exited;
    const log = serial.log();
    console.info(`[debian-kernel.test] Linux ${release}: booted and powered off in ${((Date.now() - started) / 1000).toFixed(0)} s of host time`);

    expect(log).toContain(`Linux version ${release}`);
    expect(log).toContain('typevisor debian guest ready');
    expect(log).not.toContain('insmod');
    // The deferred crypto self-tests (RSA, DH, hashes, ciphers) ran on our CPU and none failed.
    expect(log).not.toMatch(/alg: .*fail/i);
    // Four virtio-mmio devices, each a child of an ACPI LNRO0005 platform device: net 1, blk 2, console 3, rng 4.
    const devices = [...log.matchAll(/\/sys\/devices\/platform\/LNRO0005:\d+\/virtio\d+ id=(0x\d{4})/g)].map((m) => m[1]).sort();
    expect(devices).toEqual(['0x0001', '0x0002', '0x0003', '0x0004']);
    // An 8 MiB disk is 16384 sectors; nothing was announced on the command line.
    expect(log).toMatch(/\r?\n16384\r?\nconsole=ttyS0 panic=-1\r?\n/);
    expect(log).toContain('reboot: Power down');
    expect(exit).toEqual({ reason: 'poweroff' });
  }, 2_400_000); // ~5 min alone; a busy 2-core machine can make it three times that
});
