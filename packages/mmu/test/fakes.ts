import type { AccessSize, MmioHandler } from '../src/index.js';

/** One access seen by a {@link RecordingDevice}. */
export interface MmioAccess {
  op: 'read' | 'write';
  offset: number;
  size: AccessSize;
  value: number;
}

/** An MMIO handler that records every access and answers reads with `base + offset`. */
export class RecordingDevice implements MmioHandler {
  readonly log: MmioAccess[] = [];
  constructor(private readonly readBase = 0x11223300) {}

  read(offset: number, size: AccessSize): number {
    const value = (this.readBase + offset) >>> 0;
    this.log.push({ op: 'read', offset, size, value });
    return value;
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.log.push({ op: 'write', offset, size, value });
  }
}
