import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The default guest's files: a kernel, an initramfs and the command line they boot with. */
export interface DefaultGuest {
  readonly directory: string;
  readonly kernel: string;
  readonly initrd: string;
  /** Command line of the default guest. */
  readonly cmdline: string;
}

/** Command line of the default guest. */
export const DEFAULT_GUEST_CMDLINE = 'console=ttyS0 panic=-1';

/** Raised when the default guest cannot be found. */
export class DefaultGuestNotFoundError extends Error {
  override readonly name = 'DefaultGuestNotFoundError';
}

/**
 * Finds the default guest (guest/images/bzImage + initramfs.cpio.gz): `$TYPEVISOR_GUEST_DIR` if set,
 * else the nearest `guest/images` above `from` (a repository checkout). The images are built by
 * guest/build.sh and ship with the repository, not with the npm packages.
 */
export function findDefaultGuest(
  env: Readonly<Record<string, string | undefined>> = process.env,
  from: string = fileURLToPath(import.meta.url),
): DefaultGuest {
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
  throw new DefaultGuestNotFoundError(
    'the default guest (guest/images/bzImage + initramfs.cpio.gz) was not found: it ships with the typevisor repository ' +
      '(build it with guest/build.sh), not with the npm packages. Give a kernel explicitly, or set TYPEVISOR_GUEST_DIR to a ' +
      'directory holding bzImage and initramfs.cpio.gz',
  );
}
