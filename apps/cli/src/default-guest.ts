import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliUsageError } from './errors.js';

/** The default guest's files. */
export interface DefaultGuest {
  readonly directory: string;
  readonly kernel: string;
  readonly initrd: string;
  /** Command line used when --append is not given. */
  readonly cmdline: string;
}

/** Command line of the default guest. */
export const DEFAULT_GUEST_CMDLINE = 'console=ttyS0 panic=-1';

/**
 * Finds guest/images/ (bzImage + initramfs.cpio.gz): `$TYPEVISOR_GUEST_DIR` if set, else the nearest
 * `guest/images` above this file (the repository checkout: apps/cli/dist or apps/cli/src). The
 * images are built by guest/build.sh and ship with the repository, not with the npm package; an
 * installed CLI needs --kernel/--initrd or TYPEVISOR_GUEST_DIR.
 */
export function findDefaultGuest(env: Readonly<Record<string, string | undefined>> = process.env, from: string = fileURLToPath(import.meta.url)): DefaultGuest {
  const candidates: string[] = [];
  if (env.TYPEVISOR_GUEST_DIR !== undefined && env.TYPEVISOR_GUEST_DIR !== '') candidates.push(env.TYPEVISOR_GUEST_DIR);
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    candidates.push(join(dir, 'guest', 'images'));
    if (dirname(dir) === dir) break;
  }
  for (const directory of candidates) {
    const kernel = join(directory, 'bzImage');
    const initrd = join(directory, 'initramfs.cpio.gz');
    if (existsSync(kernel) && existsSync(initrd)) return { directory, kernel, initrd, cmdline: DEFAULT_GUEST_CMDLINE };
  }
  throw new CliUsageError(
    '--kernel',
    'not given, and the default guest (guest/images/bzImage + initramfs.cpio.gz) was not found. The default guest ships ' +
      'with the typevisor repository (build it with guest/build.sh), not with the npm package: pass --kernel FILE ' +
      '[--initrd FILE], or set TYPEVISOR_GUEST_DIR to a directory holding bzImage and initramfs.cpio.gz',
  );
}
