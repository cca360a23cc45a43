import { DefaultGuestNotFoundError, findDefaultGuest as findSharedDefaultGuest } from '@typevisor/vm-driver/node';
import type { DefaultGuest } from '@typevisor/vm-driver/node';
import { CliUsageError } from './errors.js';

export type { DefaultGuest } from '@typevisor/vm-driver/node';
export { DEFAULT_GUEST_CMDLINE } from '@typevisor/vm-driver/node';

/**
 * The default guest for `typevisor run` without --kernel: `$TYPEVISOR_GUEST_DIR`, else the nearest
 * `guest/images/` above `from` (the repository checkout). The images ship with the repository, not
 * with the npm packages; when they are missing this is a usage error naming --kernel.
 */
export function findDefaultGuest(env: Readonly<Record<string, string | undefined>> = process.env, from?: string): DefaultGuest {
  try {
    return from === undefined ? findSharedDefaultGuest(env) : findSharedDefaultGuest(env, from);
  } catch (error) {
    if (error instanceof DefaultGuestNotFoundError) {
      throw new CliUsageError('--kernel', `not given, and ${error.message} (--kernel FILE [--initrd FILE])`);
    }
    throw error;
  }
}
