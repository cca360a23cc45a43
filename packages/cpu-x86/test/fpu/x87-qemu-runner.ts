/// <reference types="node" />
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  QemuRunError, QemuRunnerUnavailableError, assembleTestKernel, qemuRunnerUnavailable, runTestKernel,
} from '../diff/qemu-runner.js';
import { stderrOf } from '../diff/process-output.js';
import type { Case, Outcome, Value80 } from './native-cases.js';

const KERNEL_SOURCE = fileURLToPath(new URL('./qemu/x87-kernel.asm', import.meta.url));
/** Must match qemu/x87-kernel.asm. */
const RECORD_SIZE = 192;
const AREA_SIZE = 108;
const MEMORY_SIZE = 128;
const RESULT_SIZE = AREA_SIZE + MEMORY_SIZE + 4;
/** isa-debug-exit's status for the kernel's 0: ((value << 1) | 1). */
const EXIT_ALL_CASES_RUN = 1;


/**
 * Runs x87 cases in QEMU's TCG (qemu-system-i386) the way native/x87-harness.c runs them on the
 * host's FPU: the oracle of the x87 comparison on hosts that run no 32-bit programs. QEMU's x87 is
 * softfloat's 80-bit arithmetic, an implementation independent of ours, though not hardware (see
 * x87-qemu-deviations.ts for where the two differ).
 */
export class X87QemuRunner {
  private constructor(private readonly kernel: string, private readonly workDir: string) {}

  /** Assembles the kernel into a temp directory. Throws QemuRunnerUnavailableError with the install command. */
  static build(): X87QemuRunner {
    const missing = qemuRunnerUnavailable();
    if (missing !== null) throw new QemuRunnerUnavailableError('find the x87 QEMU runner\'s tools', missing);
    const dir = mkdtempSync(join(tmpdir(), 'typevisor-x87-qemu-'));
    const kernel = join(dir, 'x87-kernel.bin');
    try {
      assembleTestKernel(KERNEL_SOURCE, kernel);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw new QemuRunnerUnavailableError('assemble qemu/x87-kernel.asm with nasm', stderrOf(error));
    }
    return new X87QemuRunner(kernel, dir);
  }

  /** The outcome of each case, in order. Throws QemuRunError when QEMU stops before the last one. */
  run(cases: readonly Case[]): Outcome[] {
    const output = join(this.workDir, 'results.bin');
    const child = runTestKernel(this.kernel, encodeCases(cases), join(this.workDir, 'cases.bin'), output, 32, 60_000 + cases.length * 5);
    const bytes = new Uint8Array(readFileSync(output));
    const complete = Math.min(cases.length, Math.floor(bytes.length / RESULT_SIZE));
    if (child.status !== EXIT_ALL_CASES_RUN || complete < cases.length) {
      const how = child.error ? child.error.message
        : child.status === 0 ? 'QEMU shut down (a fault in the kernel: it has no IDT, so a triple fault)'
        : `QEMU exited with ${child.status ?? child.signal}`;
      const running = complete < cases.length ? `; the case running then: ${cases[complete]!.op.name}` : '';
      const stderr = child.stderr?.toString().trim();
      throw new QemuRunError(complete, cases.length, `${how}${running}${stderr ? `\nQEMU's stderr: ${stderr}` : ''}`);
    }
    const outcomes: Outcome[] = [];
    for (let i = 0; i < cases.length; i++) {
      const at = i * RESULT_SIZE;
      const view = new DataView(bytes.buffer, bytes.byteOffset + at + AREA_SIZE + MEMORY_SIZE, 4);
      outcomes.push({
        area: bytes.slice(at, at + AREA_SIZE),
        mem: bytes.slice(at + AREA_SIZE, at + AREA_SIZE + MEMORY_SIZE),
        eflags: view.getUint32(0, true),
      });
    }
    return outcomes;
  }

  /** Removes the temp directory with the kernel. */
  dispose(): void {
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

function put80(view: DataView, at: number, v: Value80): void {
  view.setBigUint64(at, v.sig, true);
  view.setUint16(at + 8, v.sx, true);
}

/** The case records of qemu/x87-kernel.asm. */
export function encodeCases(cases: readonly Case[]): Uint8Array {
  const bytes = new Uint8Array(cases.length * RECORD_SIZE);
  const view = new DataView(bytes.buffer);
  cases.forEach((c, i) => {
    const at = i * RECORD_SIZE;
    view.setUint16(at, c.cw, true);
    view.setUint8(at + 2, c.depth);
    view.setUint8(at + 3, c.op.esc);
    view.setUint32(at + 4, c.eflags, true);
    view.setUint8(at + 8, c.op.modrm);
    put80(view, at + 16, c.a);
    put80(view, at + 32, c.b);
    bytes.set(c.mem, at + 64);
  });
  return bytes;
}
