/// <reference types="node" />
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResults, encodeCases, type CaseResult, type DiffCase } from './case-format.js';

/** Where runner.c and trampoline.asm live (overridable for bundled scripts run from elsewhere). */
export const DEFAULT_NATIVE_DIR = fileURLToPath(new URL('./native/', import.meta.url));
export const INSTALL_HINT = 'apt-get install -y gcc-multilib nasm';

/** Thrown when the host cannot build or run the native runner (missing toolchain, not x86). */
export class NativeRunnerUnavailableError extends Error {
  constructor(step: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      `differential tester: cannot ${step}: ${detail.trim()}\n` +
        `The native side needs an x86 host with 'gcc -m32' and 'nasm'. Install them with: ${INSTALL_HINT}`,
    );
    this.name = 'NativeRunnerUnavailableError';
  }
}

/** Runs cases on this host's CPU through native/runner.c, compiled once into a temp directory. */
export class NativeRunner {
  private constructor(readonly executable: string) {}

  /** Compiles the runner (nasm + gcc -m32). Throws NativeRunnerUnavailableError with the install command. */
  static build(nativeDir: string = DEFAULT_NATIVE_DIR): NativeRunner {
    const dir = mkdtempSync(join(tmpdir(), 'typevisor-diff-'));
    const object = join(dir, 'trampoline.o');
    const executable = join(dir, 'runner');
    try {
      execFileSync('nasm', ['-f', 'elf32', join(nativeDir, 'trampoline.asm'), '-o', object], { stdio: 'pipe' });
    } catch (error) {
      throw new NativeRunnerUnavailableError('assemble native/trampoline.asm with nasm', stderrOf(error));
    }
    try {
      execFileSync('gcc', ['-m32', '-O2', '-no-pie', '-o', executable, join(nativeDir, 'runner.c'), object], { stdio: 'pipe' });
    } catch (error) {
      throw new NativeRunnerUnavailableError('compile native/runner.c with gcc -m32', stderrOf(error));
    }
    return new NativeRunner(executable);
  }

  run(cases: readonly DiffCase[]): CaseResult[] {
    const input = encodeCases(cases);
    const child = spawnSync(this.executable, [], { input, maxBuffer: 1 << 30 });
    if (child.error) throw new NativeRunnerUnavailableError('run the native runner', child.error);
    if (child.status !== 0) {
      throw new Error(`native runner exited with ${child.status ?? child.signal}: ${child.stderr.toString()}`);
    }
    return decodeResults(new Uint8Array(child.stdout.buffer, child.stdout.byteOffset, child.stdout.byteLength), cases.length);
  }
}

function stderrOf(error: unknown): unknown {
  if (typeof error === 'object' && error !== null && 'stderr' in error) {
    const stderr = (error as { stderr: unknown }).stderr;
    if (stderr instanceof Uint8Array && stderr.length > 0) return new TextDecoder().decode(stderr);
  }
  return error;
}

