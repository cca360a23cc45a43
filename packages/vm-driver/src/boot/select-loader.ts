import { BootImageError } from '../errors.js';
import type { BootPlan } from './boot-plan.js';
import type { E820Entry } from './e820.js';
import { planFirmwareBoot } from './firmware.js';
import { isLinuxKernel } from './linux-header.js';
import { planLinuxBoot } from './linux.js';
import { findMultibootHeader, planMultibootBoot } from './multiboot.js';

/** Inputs of {@link planBoot}. */
export interface BootInput {
  readonly kernel: Uint8Array | null;
  readonly firmware: Uint8Array | null;
  readonly initrd: Uint8Array | null;
  readonly cmdline: string;
  readonly memorySize: number;
  readonly e820: readonly E820Entry[];
  readonly acpiRsdp: number;
}

/** Picks the loader by looking at the image: Linux bzImage, then multiboot v1, else a typed error. */
export function planBoot(input: BootInput): BootPlan {
  if (input.firmware !== null) return planFirmwareBoot(input.firmware);
  const kernel = input.kernel;
  if (kernel === null) throw new BootImageError('not-a-kernel', 'nothing to boot: give a kernel or a firmware ROM');
  if (isLinuxKernel(kernel)) return planLinuxBoot({ ...input, kernel });
  if (findMultibootHeader(kernel) !== null) return planMultibootBoot({ ...input, kernel });
  throw new BootImageError(
    'not-a-kernel',
    'the kernel is neither a Linux bzImage ("HdrS" setup header) nor a multiboot v1 kernel (0x1BADB002 header in the first 8 KiB); ' +
      'for a vmlinux ELF build the bzImage (arch/x86/boot/bzImage)',
  );
}
