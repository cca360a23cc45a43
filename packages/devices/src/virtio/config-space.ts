/**
 * A device's configuration space as bytes, with little-endian field access (virtio 1.x config
 * fields are little-endian). Reads of any aligned 1/2/4-byte window work the same way for every
 * device, so devices only describe their layout.
 */
export class ConfigSpace {
  /** The raw bytes. */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Size in bytes. */
  get size(): number {
    return this.bytes.length;
  }

  /** Reads `size` bytes at `offset` (the transport has checked bounds and alignment). */
  read(offset: number, size: 1 | 2 | 4): number {
    if (size === 1) return this.view.getUint8(offset);
    if (size === 2) return this.view.getUint16(offset, true);
    return this.view.getUint32(offset, true);
  }

  /** Stores an 8-bit field. */
  set8(offset: number, value: number): void {
    this.view.setUint8(offset, value);
  }

  /** Stores a 16-bit field. */
  set16(offset: number, value: number): void {
    this.view.setUint16(offset, value, true);
  }

  /** Stores a 32-bit field. */
  set32(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0, true);
  }

  /** Stores a 64-bit field from a non-negative integer below 2^53. */
  set64(offset: number, value: number): void {
    this.view.setUint32(offset, value % 0x1_0000_0000, true);
    this.view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
  }

  /** Reads a 16-bit field. */
  get16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  /** Reads a 32-bit field. */
  get32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
}
