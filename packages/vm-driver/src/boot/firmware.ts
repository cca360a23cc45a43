import { BootImageError } from '../errors.js';
import type { BootPlan, RomMapping } from './boot-plan.js';
import { hex } from './boot-plan.js';

/** Largest firmware image accepted. */
export const MAX_FIRMWARE_SIZE = 16 * 1024 * 1024;
/** How much of the firmware's end is also visible below 1 MiB (the legacy BIOS segments E000/F000). */
export const LOW_FIRMWARE_WINDOW = 128 * 1024;

/**
 * Maps a raw firmware ROM (like QEMU `-bios`) at the top of 4 GiB, where the reset vector is, and its
 * last 128 KiB also at the top of the first MiB, where real-mode code expects the BIOS. The CPU
 * starts at the reset vector (F000:FFF0) in real mode.
 */
export function planFirmwareBoot(rom: Uint8Array): BootPlan {
  if (rom.length < 16) throw new BootImageError('truncated', `firmware ROM is ${rom.length} bytes; it needs at least the 16-byte reset vector`);
  if (rom.length > MAX_FIRMWARE_SIZE) throw new BootImageError('too-big', `firmware ROM is ${rom.length} bytes; at most 16 MiB fits below 4 GiB`);
  if (rom.length % 16 !== 0) throw new BootImageError('malformed', `firmware ROM size ${rom.length} is not a multiple of 16 bytes`);
  const high = 0x1_0000_0000 - rom.length;
  const lowLength = Math.min(rom.length, LOW_FIRMWARE_WINDOW);
  const low = 0x10_0000 - lowLength;
  const roms: RomMapping[] = [
    { address: high, bytes: rom, name: 'firmware (top of 4 GiB)' },
    { address: low, bytes: rom.subarray(rom.length - lowLength), name: 'firmware (below 1 MiB)' },
  ];
  return {
    kind: 'firmware',
    segments: [],
    roms,
    entry: null,
    summary: [`firmware ROM ${rom.length} bytes at ${hex(high)} and ${hex(low)}, start at the reset vector`],
  };
}
