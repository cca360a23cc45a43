import type { EntropySource } from '../../types.js';

/** `crypto.getRandomValues` refuses more than this many bytes per call (Web Crypto limit). */
const MAX_BYTES_PER_CALL = 65536;

interface RandomValues {
  getRandomValues(array: Uint8Array): Uint8Array;
}

/**
 * Entropy from the host's Web Crypto API (`globalThis.crypto.getRandomValues`), available in
 * browsers, Node 20+ and workers. Large requests are split into 64 KiB calls.
 */
export class CryptoEntropySource implements EntropySource {
  private readonly crypto: RandomValues;

  constructor() {
    const crypto = (globalThis as { crypto?: RandomValues }).crypto;
    if (crypto === undefined || typeof crypto.getRandomValues !== 'function') {
      throw new Error('globalThis.crypto.getRandomValues is not available; pass another EntropySource');
    }
    this.crypto = crypto;
  }

  /** @inheritDoc */
  fill(dst: Uint8Array): void {
    for (let offset = 0; offset < dst.length; offset += MAX_BYTES_PER_CALL) {
      this.crypto.getRandomValues(dst.subarray(offset, Math.min(dst.length, offset + MAX_BYTES_PER_CALL)));
    }
  }
}
