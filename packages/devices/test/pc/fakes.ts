/**
 * Fakes for the PC device tests: the shared test kit's clock and IRQ line, plus a character backend.
 */
import type { CharBackend } from '../../src/types.js';

export { ManualClock, RecordingIrqLine } from '@typevisor/devices/testing';

/** A CharBackend that collects output and lets a test type input. */
export class LoopbackCharBackend implements CharBackend {
  readonly output: number[] = [];
  private receiver: ((bytes: Uint8Array) => void) | null = null;

  write(bytes: Uint8Array): void {
    for (const b of bytes) this.output.push(b);
  }

  setReceiver(receiver: ((bytes: Uint8Array) => void) | null): void {
    this.receiver = receiver;
  }

  type(text: string | number[]): void {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : Uint8Array.from(text);
    this.receiver?.(bytes);
  }

  get outputText(): string {
    return String.fromCharCode(...this.output);
  }
}
