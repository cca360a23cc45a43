import type { PortIoBus } from '@typevisor/cpu-x86';

/**
 * The two QEMU debug devices our test kernels use: the debug console (bytes written to 0xE9 are
 * output) and isa-debug-exit at 0xF4 (a write ends the test).
 */
export class DebugPorts implements PortIoBus {
  private readonly bytes: number[] = [];
  exited = false;
  exitValue = -1;

  read(port: number, size: 1 | 2 | 4): number {
    if (port === 0xe9) return 0xe9; // QEMU's debugcon reads back its port number
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  write(port: number, _size: 1 | 2 | 4, value: number): void {
    if (port === 0xe9) this.bytes.push(value & 0xff);
    else if (port === 0xf4) {
      this.exited = true;
      this.exitValue = value;
    }
  }

  get output(): string {
    return String.fromCharCode(...this.bytes);
  }
}
