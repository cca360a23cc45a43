/**
 * The stock-distribution-kernel guest of the opt-in `boot-debian` benchmark: Debian's
 * `linux-image-686` with the busybox initramfs that guest/debian/build-initramfs.sh builds into its
 * cache. Nothing of it is in the repository, so its absence is a missing prerequisite.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MissingPrerequisiteError } from './errors.js';
import type { GuestImages } from './typevisor-platform.js';

/** Where guest/debian/build-initramfs.sh puts its output unless `$TYPEVISOR_DEBIAN_CACHE` says otherwise. */
export const DEBIAN_CACHE_DEFAULT = '/tmp/typevisor-debian';

/** Guest RAM of the Debian guest in MiB (what its boot test in vm-driver uses). */
export const DEBIAN_MEMORY_MIB = 256;

/** The Debian guest's images plus the kernel release the build script recorded. */
export interface DebianGuest extends GuestImages {
  /** e.g. `6.1.0-50-686`, or `unknown` when the build left no KERNEL_VERSION file. */
  readonly release: string;
}

/**
 * Finds the Debian guest in `$TYPEVISOR_DEBIAN_CACHE` (default {@link DEBIAN_CACHE_DEFAULT}), or
 * throws a {@link MissingPrerequisiteError} that says how to build it.
 */
export function debianGuest(env: Readonly<Record<string, string | undefined>> = process.env): DebianGuest {
  const cache = env.TYPEVISOR_DEBIAN_CACHE !== undefined && env.TYPEVISOR_DEBIAN_CACHE !== '' ? env.TYPEVISOR_DEBIAN_CACHE : DEBIAN_CACHE_DEFAULT;
  const kernel = path.join(cache, 'vmlinuz');
  const initrd = path.join(cache, 'initramfs.cpio.gz');
  for (const file of [kernel, initrd]) {
    if (!existsSync(file)) {
      throw new MissingPrerequisiteError(file, 'build the Debian guest with `bash guest/debian/build-initramfs.sh` (see guest/debian/README.md)');
    }
  }
  const versionFile = path.join(cache, 'KERNEL_VERSION');
  const release = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : 'unknown';
  return { kernel, initrd, cmdline: 'console=ttyS0 panic=-1', memoryMiB: DEBIAN_MEMORY_MIB, release };
}
