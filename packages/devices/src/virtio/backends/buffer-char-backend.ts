import type { CharBackend } from '../../types.js';

/**
 * A {@link CharBackend} that records guest output and lets a test type input. Output is kept up to
 * `limit` bytes (oldest dropped first) so a chatty guest cannot grow it without bound.
 */
export class BufferCharBackend implements CharBackend {
  private chunks: Uint8Array[] = [];
  private stored = 0;
  private receiver: ((bytes: Uint8Array) => void) | null = null;
  private readonly limit: number;

  constructor(options: { readonly limit?: number } = {}) {
    this.limit = options.limit ?? 1 << 20;
  }

  /** @inheritDoc */
  write(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
    this.stored += bytes.length;
    while (this.stored > this.limit && this.chunks.length > 0) {
      const first = this.chunks[0] as Uint8Array;
      const excess = this.stored - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.stored -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.stored -= excess;
      }
    }
  }

  /** @inheritDoc */
  setReceiver(receiver: ((bytes: Uint8Array) => void) | null): void {
    this.receiver = receiver;
  }

  /** True while a device listens for input. */
  get connected(): boolean {
    return this.receiver !== null;
  }

  /** Sends host input (bytes or a UTF-8 string) to the device. Returns false when nobody listens. */
  type(input: Uint8Array | string): boolean {
    if (this.receiver === null) return false;
    this.receiver(typeof input === 'string' ? new TextEncoder().encode(input) : input);
    return true;
  }

  /** Everything the guest wrote (up to the limit), as bytes. */
  output(): Uint8Array {
    const out = new Uint8Array(this.stored);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  /** Everything the guest wrote, decoded as UTF-8. */
  text(): string {
    return new TextDecoder().decode(this.output());
  }

  /** Forgets recorded output. */
  clear(): void {
    this.chunks = [];
    this.stored = 0;
  }
}
