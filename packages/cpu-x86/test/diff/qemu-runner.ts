/// <reference types="node" />
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResults, encodeCases, type CaseResult, type DiffCase, type ReferenceRunner } from './case-format.js';
import { describeCase } from './compare.js';
import { stderrOf } from './process-output.js';

/** Where case-kernel.asm lives (overridable for bundled scripts run from elsewhere). */
export const DEFAULT_QEMU_DIR = fileURLToPath(new URL('./qemu/', import.meta.url));
export const QEMU_INSTALL_HINT = 'apt-get install -y qemu-system-x86 nasm';
const QEMU = 'qemu-system-i386';

/** Cases per QEMU run by default: their records (320 bytes each) are the multiboot module in 64 MiB of RAM. */
const CASES_PER_RUN = 50_000;
/** Exit statuses of QEMU's isa-debug-exit ((value << 1) | 1) for the kernel's two exit values. */
const EXIT_ALL_CASES_RUN = 1;
const EXIT_KERNEL_FAILED = 3;
/** What the kernel writes before its message when it fails (case-kernel.asm `failure_mark`). */
const FAILURE_MARK = '\0case-kernel: ';
const RESULT_HEADER_BYTES = 13 * 4;

/** Thrown when this host cannot build or start the QEMU runner (nasm or qemu-system-i386 missing). */
export class QemuRunnerUnavailableError extends Error {
  constructor(step: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      `differential tester: cannot ${step}: ${detail.trim()}\n` +
        `The QEMU side needs 'nasm' and '${QEMU}'. Install them with: ${QEMU_INSTALL_HINT}`,
    );
    this.name = 'QemuRunnerUnavailableError';
  }
}

/** Thrown when QEMU or the case kernel stopped before reporting every case. */
export class QemuRunError extends Error {
  constructor(readonly completed: number, readonly total: number, readonly detail: string) {
    super(`differential tester: QEMU stopped after ${completed} of ${total} cases: ${detail}`);
    this.name = 'QemuRunError';
  }
}

/** Why the QEMU runner cannot work here (a missing program), or null when it can. */
export function qemuRunnerUnavailable(): string | null {
  for (const [program, args] of [[QEMU, ['--version']], ['nasm', ['-v']]] as const) {
    const probe = spawnSync(program, args, { stdio: 'pipe' });
    if (probe.error || probe.status !== 0) {
      return `'${program}' does not run (${probe.error?.message ?? `status ${probe.status}`}); install it with: ${QEMU_INSTALL_HINT}`;
    }
  }
  return null;
}

/**
 * Runs cases in QEMU's TCG (qemu-system-i386, no hardware acceleration): test/diff/qemu/case-kernel.asm
 * boots as a multiboot kernel, takes the case records as its module and writes the result records
 * to the debug console. The oracle for hosts whose kernel runs no 32-bit programs: an independent
 * x86 implementation, though not hardware (see qemu-deviations.ts for where TCG is wrong).
 */
export class QemuRunner implements ReferenceRunner {
  private constructor(private readonly kernel: string, private readonly workDir: string, private readonly casesPerRun: number) {}

  /**
   * Assembles the kernel into a temp directory. Throws QemuRunnerUnavailableError with the install
   * command. `casesPerRun` (at most 50,000) splits larger batches into several QEMU runs.
   */
  static build(kernelDir: string = DEFAULT_QEMU_DIR, options: { readonly casesPerRun?: number } = {}): QemuRunner {
    const missing = qemuRunnerUnavailable();
    if (missing !== null) throw new QemuRunnerUnavailableError('find the QEMU runner\'s tools', missing);
    const dir = mkdtempSync(join(tmpdir(), 'typevisor-diff-qemu-'));
    const kernel = join(dir, 'case-kernel.bin');
    try {
      assembleTestKernel(join(kernelDir, 'case-kernel.asm'), kernel, kernelDir);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw new QemuRunnerUnavailableError('assemble qemu/case-kernel.asm with nasm', stderrOf(error));
    }
    return new QemuRunner(kernel, dir, Math.max(1, Math.min(CASES_PER_RUN, options.casesPerRun ?? CASES_PER_RUN)));
  }

  run(cases: readonly DiffCase[]): CaseResult[] {
    const results: CaseResult[] = [];
    for (let first = 0; first < cases.length; first += this.casesPerRun) {
      const chunk = cases.slice(first, first + this.casesPerRun);
      try {
        results.push(...this.runOnce(chunk));
      } catch (error) {
        if (error instanceof QemuRunError && first > 0) throw new QemuRunError(first + error.completed, cases.length, error.detail);
        throw error;
      }
    }
    return results;
  }

  /** Removes the temp directory with the kernel. */
  dispose(): void {
    rmSync(this.workDir, { recursive: true, force: true });
  }

  private runOnce(cases: readonly DiffCase[]): CaseResult[] {
    const dir = mkdtempSync(join(this.workDir, 'run-'));
    try {
      const input = join(dir, 'cases.bin');
      const output = join(dir, 'results.bin');
      const child = runTestKernel(this.kernel, encodeCases(cases), input, output, 64, 60_000 + cases.length * 5);
      const bytes = new Uint8Array(readFileSync(output));
      const { complete, end } = completeResults(bytes, cases.length);
      if (child.status === EXIT_ALL_CASES_RUN && complete === cases.length) return decodeResults(bytes, cases.length);
      const kernelSays = new TextDecoder().decode(bytes.subarray(end)).split(FAILURE_MARK)[1]?.trim();
      const how = child.error
        ? `${child.error.message}${child.signal ? ` (${child.signal})` : ''}`
        : child.status === EXIT_KERNEL_FAILED ? 'the case kernel failed'
        : child.status === 0 ? 'QEMU shut down (a triple fault ends it with -no-reboot)'
        : `QEMU exited with ${child.status ?? child.signal}`;
      const running = cases[complete] ? `; the case running then: ${describeCase(cases[complete])}` : '';
      const stderr = child.stderr?.toString().trim();
      throw new QemuRunError(complete, cases.length, `${how}${kernelSays ? `: ${kernelSays}` : ''}${running}${stderr ? `\nQEMU's stderr: ${stderr}` : ''}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * Assembles a QEMU test kernel (`nasm -f bin`), with this directory's include files (multiboot.inc)
 * on the include path besides `includeDir`.
 */
export function assembleTestKernel(source: string, output: string, includeDir: string = DEFAULT_QEMU_DIR): void {
  execFileSync('nasm', ['-f', 'bin', '-i', `${includeDir.replace(/\/?$/, '/')}`, '-i', DEFAULT_QEMU_DIR, '-o', output, source], { stdio: 'pipe' });
}

/**
 * Boots a multiboot test kernel in QEMU's TCG with `module` (written to `modulePath`) as its module
 * and the debug console (port 0xE9) going into `outputPath`; isa-debug-exit at port 0xF4 ends it.
 */
export function runTestKernel(kernel: string, module: Uint8Array, modulePath: string, outputPath: string, memoryMiB: number, timeoutMs: number): SpawnSyncReturns<Buffer> {
  // -initrd separates multiboot modules with commas.
  if (modulePath.includes(',')) throw new QemuRunnerUnavailableError('pass the cases to QEMU', `the temp path ${modulePath} has a comma (set TMPDIR)`);
  writeFileSync(modulePath, module);
  writeFileSync(outputPath, new Uint8Array(0));
  const child = spawnSync(QEMU, [
    '-accel', 'tcg', '-cpu', 'qemu32', '-display', 'none', '-nodefaults', '-no-user-config', '-no-reboot', '-m', String(memoryMiB),
    '-kernel', kernel, '-initrd', modulePath,
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-debugcon', `file:${outputPath}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, maxBuffer: 1 << 24 });
  if (child.error && (child.error as NodeJS.ErrnoException).code === 'ENOENT') throw new QemuRunnerUnavailableError(`run ${QEMU}`, child.error);
  return child;
}

/** How many whole result records `bytes` starts with (at most `limit`), and where they end. */
function completeResults(bytes: Uint8Array, limit: number): { complete: number; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let complete = 0;
  while (complete < limit && at + RESULT_HEADER_BYTES <= bytes.length) {
    const next = at + RESULT_HEADER_BYTES + view.getUint32(at + 48, true) * 4;
    if (next > bytes.length) break;
    at = next;
    complete++;
  }
  return { complete, end: at };
}
