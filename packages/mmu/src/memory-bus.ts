import type { AccessSize, GuestPhys } from './addresses.js';

/**
 * A device's register window mapped into the physical address space. `offset` is relative to the
 * start of the range the handler was added with; `size` is the width of the CPU or DMA access.
 * Reads return an unsigned value of `size` bytes (extra high bits are masked off by the caller).
 */
export interface MmioHandler {
  /** Reads `size` bytes at `offset` within the range. */
  read(offset: number, size: AccessSize): number;
  /** Writes the low `size` bytes of `value` at `offset` within the range. */
  write(offset: number, size: AccessSize, value: number): void;
}

/**
 * The view of guest-physical memory that devices use for DMA. Accesses never throw: unbacked
 * addresses read all ones and ignore writes. Block transfers report how many bytes completed, so a
 * device can turn a short transfer into its own error status.
 */
export interface MemoryBus {
  /** Reads one byte. */
  read8(addr: GuestPhys): number;
  /** Reads a little-endian 16-bit value. */
  read16(addr: GuestPhys): number;
  /** Reads a little-endian 32-bit value (unsigned). */
  read32(addr: GuestPhys): number;
  /** Writes one byte. */
  write8(addr: GuestPhys, value: number): void;
  /** Writes a little-endian 16-bit value. */
  write16(addr: GuestPhys, value: number): void;
  /** Writes a little-endian 32-bit value. */
  write32(addr: GuestPhys, value: number): void;
  /**
   * Copies guest memory at `addr` into `dst`. Returns the number of bytes completed; stops at the
   * first byte not backed by RAM or ROM (MMIO and holes end the transfer).
   */
  readBytes(addr: GuestPhys, dst: Uint8Array): number;
  /**
   * Copies `src` into guest memory at `addr`. Returns the number of bytes completed; stops at the
   * first byte not backed by RAM (ROM, MMIO and holes end the transfer).
   */
  writeBytes(addr: GuestPhys, src: Uint8Array): number;
}
