/// <reference types="node" />
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResults, encodeCases, type CaseResult, type DiffCase } from './case-format.js';
import { CODE_ADDR, REGION_START } from './layout.js';
import { longModeCode, type LongModeCode } from './long-mode-subset.js';
import { stderrOf } from './process-output.js';

/** Where native64/runner.c and trampoline.asm live (overridable for bundled scripts run from elsewhere). */
export const DEFAULT_LONG_MODE_DIR = fileURLToPath(new URL('./native64/', import.meta.url));
const INSTALL_HINT = 'apt-get install -y gcc nasm';

/**
 * Why this host cannot run the long-mode runner, or null when it can: it needs x86-64 Linux, gcc,
 * nasm, and `vm.mmap_min_addr` no higher than the data page's address (Linux's default is 4096).
 */
export function longModeRunnerUnavailable(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `this host is ${process.platform}/${process.arch}, not x86-64 Linux`;
  for (const [program, args] of [['gcc', ['--version']], ['nasm', ['-v']]] as const) {
    const probe = spawnSync(program, args, { stdio: 'pipe' });
    if (probe.error || probe.status !== 0) return `'${program}' does not run (${probe.error?.message ?? `status ${probe.status}`}); install it with: ${INSTALL_HINT}`;
  }
  try {
    const minAddr = Number(readFileSync('/proc/sys/vm/mmap_min_addr', 'utf8').trim());
    if (minAddr > REGION_START) return `vm.mmap_min_addr is ${minAddr}, above the data page at 0x${REGION_START.toString(16)} (sysctl vm.mmap_min_addr=4096)`;
  } catch {
    // Unknown: the runner's own mmap says so if it fails.
  }
  return null;
}

/**
 * Runs cases on this host's CPU in a 64-bit process (native64/runner.c), after long-mode-subset.ts
 * has rewritten their code; results come back in the original code's terms (EIP mapped back).
 * Only cases for which `longModeCode` returns code may be passed to `run`.
 */
export class LongModeRunner {
  private readonly translated = new WeakMap<DiffCase, LongModeCode>();

  private constructor(readonly executable: string) {}

  /** Compiles the runner (nasm -f elf64 + gcc). Throws with the install command when that fails. */
  static build(dir: string = DEFAULT_LONG_MODE_DIR): LongModeRunner {
    const out = mkdtempSync(join(tmpdir(), 'typevisor-diff64-'));
    const object = join(out, 'trampoline.o');
    const executable = join(out, 'runner');
    try {
      execFileSync('nasm', ['-f', 'elf64', join(dir, 'trampoline.asm'), '-o', object], { stdio: 'pipe' });
      execFileSync('gcc', ['-O2', '-no-pie', '-o', executable, join(dir, 'runner.c'), object], { stdio: 'pipe' });
    } catch (error) {
      throw new Error(`differential tester: cannot build the long-mode runner: ${stderrOf(error)}\nInstall the tools with: ${INSTALL_HINT}`);
    }
    return new LongModeRunner(executable);
  }

  /** The cases of `cases` that can run in long mode (the others are counted by reason into `leftOut`). */
  subset(cases: readonly DiffCase[], leftOut: Map<string, number>): DiffCase[] {
    return cases.filter((c) => {
      const code = longModeCode(c);
      if (typeof code === 'string') {
        leftOut.set(code, (leftOut.get(code) ?? 0) + 1);
        return false;
      }
      this.translated.set(c, code);
      return true;
    });
  }

  run(cases: readonly DiffCase[]): CaseResult[] {
    const codes = cases.map((c) => {
      const code = this.translated.get(c) ?? longModeCode(c);
      if (typeof code === 'string') throw new Error(`case ${c.index} (${c.form}) cannot run in long mode: ${code}`);
      return code;
    });
    const input = encodeCases(cases.map((c, i) => ({ ...c, code: codes[i]!.code })));
    const child = spawnSync(this.executable, [], { input, maxBuffer: 1 << 30 });
    if (child.error) throw child.error;
    if (child.status !== 0) throw new Error(`long-mode runner exited with ${child.status ?? child.signal}: ${child.stderr.toString()}`);
    const results = decodeResults(new Uint8Array(child.stdout.buffer, child.stdout.byteOffset, child.stdout.byteLength), cases.length);
    return results.map((r, i) => {
      // EIP back in the original code's terms; outside the snippet it is the same address on both sides.
      const original = codes[i]!.originalOffset.get(r.eip - CODE_ADDR);
      return original === undefined ? r : { ...r, eip: CODE_ADDR + original };
    });
  }
}
