import type { GuestPhys, MemoryBus } from '@typevisor/mmu';

interface Range {
  readonly base: number;
  readonly end: number;
}

/**
 * Guest RAM for device tests: a `Uint8Array` at physical 0 implementing the mmu's `MemoryBus`, with
 * optional holes (like MMIO windows: reads all ones, writes ignored, block transfers stop there) and
 * read-only ranges (like ROM: readable, writes stop there). Everything above `size` is unbacked.
 */
export class FakeGuestMemory implements MemoryBus {
  /** The RAM bytes; `bytes[a]` is the byte at guest-physical `a`. */
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly holes: Range[] = [];
  private readonly readOnly: Range[] = [];

  constructor(options: { readonly size: number }) {
    this.bytes = new Uint8Array(options.size);
    this.view = new DataView(this.bytes.buffer);
  }

  /** RAM size in bytes. */
  get size(): number {
    return this.bytes.length;
  }

  /** Makes [base, base + size) unbacked, like an MMIO window. */
  addHole(base: number, size: number): void {
    this.holes.push({ base, end: base + size });
  }

  /** Makes [base, base + size) read-only, like ROM. */
  addReadOnly(base: number, size: number): void {
    this.readOnly.push({ base, end: base + size });
  }

  /** @inheritDoc */
  read8(addr: GuestPhys): number {
    return this.readable(addr, 1) ? this.view.getUint8(addr) : 0xff;
  }

  /** @inheritDoc */
  read16(addr: GuestPhys): number {
    return this.readable(addr, 2) ? this.view.getUint16(addr, true) : 0xffff;
  }

  /** @inheritDoc */
  read32(addr: GuestPhys): number {
    return this.readable(addr, 4) ? this.view.getUint32(addr, true) : 0xffff_ffff;
  }

  /** @inheritDoc */
  write8(addr: GuestPhys, value: number): void {
    if (this.writable(addr, 1)) this.view.setUint8(addr, value);
  }

  /** @inheritDoc */
  write16(addr: GuestPhys, value: number): void {
    if (this.writable(addr, 2)) this.view.setUint16(addr, value, true);
  }

  /** @inheritDoc */
  write32(addr: GuestPhys, value: number): void {
    if (this.writable(addr, 4)) this.view.setUint32(addr, value >>> 0, true);
  }

  /** @inheritDoc */
  readBytes(addr: GuestPhys, dst: Uint8Array): number {
    const count = this.backedRun(addr, dst.length, this.holes);
    if (count > 0) dst.set(this.bytes.subarray(addr, addr + count));
    return count;
  }

  /** @inheritDoc */
  writeBytes(addr: GuestPhys, src: Uint8Array): number {
    const count = this.backedRun(addr, src.length, this.holes, this.readOnly);
    if (count > 0) this.bytes.set(count === src.length ? src : src.subarray(0, count), addr);
    return count;
  }

  private readable(addr: number, length: number): boolean {
    return this.backedRun(addr, length, this.holes) === length;
  }

  private writable(addr: number, length: number): boolean {
    return this.backedRun(addr, length, this.holes, this.readOnly) === length;
  }

  /** How many bytes from `addr` are backed before the first hole / blocked range / end of RAM. */
  private backedRun(addr: number, length: number, blocked: readonly Range[], alsoBlocked: readonly Range[] = []): number {
    if (!Number.isInteger(addr) || addr < 0 || addr >= this.bytes.length) return 0;
    let end = Math.min(addr + length, this.bytes.length);
    for (const list of [blocked, alsoBlocked]) {
      for (const range of list) {
        if (range.end <= addr || range.base >= end) continue;
        if (range.base <= addr) return 0;
        end = range.base;
      }
    }
    return end - addr;
  }
}
