import type { AccessSize } from '../types.js';

/**
 * Port devices of the PC are 8-bit ISA parts: a 16- or 32-bit access is carried out as consecutive
 * byte cycles at consecutive offsets, low byte first, exactly as the bus splits it.
 */
export function readBytewise(readByte: (offset: number) => number, offset: number, size: AccessSize): number {
  if (size === 1) return readByte(offset);
  let value = 0;
  for (let i = 0; i < size; i++) value |= readByte(offset + i) << (8 * i);
  return value >>> 0;
}

/** The write counterpart of {@link readBytewise}. */
export function writeBytewise(writeByte: (offset: number, value: number) => void, offset: number, size: AccessSize, value: number): void {
  if (size === 1) {
    writeByte(offset, value & 0xff);
    return;
  }
  for (let i = 0; i < size; i++) writeByte(offset + i, (value >>> (8 * i)) & 0xff);
}
