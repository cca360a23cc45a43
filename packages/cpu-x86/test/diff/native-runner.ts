/// <reference types="node" />
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResults, encodeCases, type CaseResult, type DiffCase } from './case-format.js';
import { stderrOf } from './process-output.js';

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

/**
 * The smallest 32-bit Linux program: one loadable segment whose code is `exit(42)` through INT 0x80.
 * Built here byte by byte so that asking whether the host runs 32-bit programs needs no toolchain.
 */
function exit42Program(): Uint8Array {
  const base = 0x08048000, headers = 52 + 32;
  const code = [0xb8, 1, 0, 0, 0, 0xbb, 42, 0, 0, 0, 0xcd, 0x80]; // mov eax, 1; mov ebx, 42; int 0x80
  const image = new Uint8Array(headers + code.length);
  const view = new DataView(image.buffer);
  image.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]); // ELF, 32-bit, little-endian, version 1
  view.setUint16(16, 2, true); // executable
  view.setUint16(18, 3, true); // i386
  view.setUint32(20, 1, true);
  view.setUint32(24, base + headers, true); // entry
  view.setUint32(28, 52, true); // program headers right after this header
  view.setUint16(40, 52, true);
  view.setUint16(42, 32, true);
  view.setUint16(44, 1, true);
  view.setUint32(52, 1, true); // PT_LOAD of the whole file, read + execute
  view.setUint32(60, base, true);
  view.setUint32(64, base, true);
  view.setUint32(68, image.length, true);
  view.setUint32(72, image.length, true);
  view.setUint32(76, 5, true);
  view.setUint32(80, 0x1000, true);
  image.set(code, headers);
  return image;
}

/**
 * Why this host cannot run 32-bit x86 programs at all, or null when it can. An x86-64 Linux kernel
 * can be built or booted without its 32-bit compatibility (`ia32_emulation=off`, the default of
 * IA32_EMULATION_DEFAULT_DISABLED): exec then fails with ENOEXEC, and no toolchain can help.
 */
export function hostRefuses32BitPrograms(): string | null {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'ia32')) {
    return `this host is ${process.platform}/${process.arch}, not x86 Linux`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'typevisor-i386-probe-'));
  try {
    const program = join(dir, 'exit42');
    writeFileSync(program, exit42Program());
    chmodSync(program, 0o755);
    const child = spawnSync(program, []);
    if (child.status === 42) return null;
    // A kernel without IA-32 emulation refuses the exec (ENOEXEC); execvp() then hands the file to
    // /bin/sh, which fails on it. Any other outcome than 42 means the same: no 32-bit programs here.
    const why = child.error?.message ?? (child.stderr.toString().trim().split('\n')[0]!.replace(/[^\x20-\x7e]/g, '?') || `status ${child.status}, signal ${child.signal}`);
    return `this host does not run 32-bit x86 programs: a minimal one did not exit with 42 (${why}). ` +
      'An x86-64 kernel built or booted without IA-32 emulation does this: boot it with ia32_emulation=on';
  } finally {
    rmSync(dir, { recursive: true, force: true });
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

