/**
 * A 64-bit virtio feature set held as two 32-bit words, so the hot path never touches `bigint`.
 * Word 0 holds bits 0..31, word 1 bits 32..63 (the halves DeviceFeaturesSel / DriverFeaturesSel pick).
 */
export class FeatureSet {
  /** Bits 0..31. */
  low: number;
  /** Bits 32..63. */
  high: number;

  constructor(low = 0, high = 0) {
    this.low = low >>> 0;
    this.high = high >>> 0;
  }

  /** A feature set with exactly the given bit numbers (0..63) set. */
  static of(...bits: number[]): FeatureSet {
    const set = new FeatureSet();
    for (const bit of bits) set.add(bit);
    return set;
  }

  /** True when bit number `bit` is set. */
  has(bit: number): boolean {
    if (bit < 0 || bit > 63) return false;
    const word = bit < 32 ? this.low : this.high;
    return ((word >>> (bit & 31)) & 1) === 1;
  }

  /** Sets bit number `bit` (0..63); returns `this` for chaining. */
  add(bit: number): this {
    if (bit < 0 || bit > 63) return this;
    if (bit < 32) this.low = (this.low | (1 << bit)) >>> 0;
    else this.high = (this.high | (1 << (bit - 32))) >>> 0;
    return this;
  }

  /** Clears bit number `bit`; returns `this`. */
  remove(bit: number): this {
    if (bit < 0 || bit > 63) return this;
    if (bit < 32) this.low = (this.low & ~(1 << bit)) >>> 0;
    else this.high = (this.high & ~(1 << (bit - 32))) >>> 0;
    return this;
  }

  /** The 32-bit word selected by a FeaturesSel register value; selectors above 1 read as 0. */
  word(select: number): number {
    if (select === 0) return this.low;
    if (select === 1) return this.high;
    return 0;
  }

  /** True when every bit set here is also set in `other`. */
  isSubsetOf(other: FeatureSet): boolean {
    return (this.low & ~other.low) === 0 && (this.high & ~other.high) === 0;
  }

  /** An independent copy. */
  clone(): FeatureSet {
    return new FeatureSet(this.low, this.high);
  }

  /** Copies `other`'s bits into this set. */
  assign(other: FeatureSet): void {
    this.low = other.low;
    this.high = other.high;
  }

  /** Clears every bit. */
  clear(): void {
    this.low = 0;
    this.high = 0;
  }
}
