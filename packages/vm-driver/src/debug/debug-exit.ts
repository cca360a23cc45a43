import type { AccessSize, IoRegion } from '@typevisor/devices';

/**
 * QEMU-style `isa-debug-exit`: a write of `value` stops the machine with exit code
 * `(value << 1) | 1`, so a test kernel can report success or failure to the host. The code is always
 * odd, which keeps it distinct from a normal poweroff (exit code 0).
 */
export class DebugExitDevice implements IoRegion {
  constructor(private readonly onExit: (exitCode: number) => void) {}

  read(_offset: number, size: AccessSize): number {
    return size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
  }

  write(_offset: number, size: AccessSize, value: number): void {
    const masked = size === 4 ? value >>> 0 : value & ((1 << (8 * size)) - 1);
    // (value << 1) | 1 without 32-bit wrap-around; a host process keeps only the low byte.
    this.onExit(masked * 2 + 1);
  }
}
