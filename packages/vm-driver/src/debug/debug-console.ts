import type { AccessSize, CharBackend, IoRegion } from '@typevisor/devices';

/** What a read of port 0xE9 returns, so a guest can detect the debug console (as with QEMU). */
export const DEBUGCON_READBACK = 0xe9;

/**
 * QEMU-style debug console on one port: each byte written goes to the backend at once (no FIFO, no
 * interrupts), which makes it the simplest way for a test kernel to print.
 */
export class DebugConsole implements IoRegion {
  private readonly one = new Uint8Array(1);

  constructor(private readonly backend: CharBackend | null) {}

  read(_offset: number, _size: AccessSize): number {
    return DEBUGCON_READBACK;
  }

  write(_offset: number, size: AccessSize, value: number): void {
    if (this.backend === null) return;
    // A wider write is a sequence of bytes, lowest first, as on the ISA bus.
    for (let i = 0; i < size; i++) {
      this.one[0] = (value >>> (8 * i)) & 0xff;
      this.backend.write(this.one.slice());
    }
  }
}
