import { closeSync, openSync, writeSync } from 'node:fs';
import type { CharBackend } from '@typevisor/devices';

/**
 * Guest output appended to a file (like QEMU `-serial file:PATH`). There is no input. Writes are
 * synchronous so nothing is lost if the host process exits right after the guest powers off.
 */
export class FileCharBackend implements CharBackend {
  private fd: number | null;

  constructor(path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (error) {
      throw new Error(`cannot open ${path} for output: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
  }

  write(bytes: Uint8Array): void {
    if (this.fd === null) return;
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }

  setReceiver(_receiver: ((bytes: Uint8Array) => void) | null): void {
    // A file has no input.
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
