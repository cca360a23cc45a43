/// <reference types="node" />
/**
 * Long-run differential test: millions of generated cases, hardware vs interpreter, mismatches
 * grouped by opcode. Usage (from the repo root; see packages/cpu-x86/test/diff/README.md):
 *
 *   node_modules/.bin/esbuild packages/cpu-x86/scripts/diff.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/typevisor-diff.mjs --log-level=warning && node /tmp/typevisor-diff.mjs --seed 1 --cases 1000000
 *
 * Options: --seed N (default 1), --cases N (default 100000), --batch N cases per batch (default
 * 20000), --examples N examples per opcode (default 2), --opcode KEY (only cases of that opcode key),
 * --native-dir DIR (where runner.c lives; defaults to packages/cpu-x86/test/diff/native under cwd),
 * --compiled (run each case whole with every block compiled on its first run, as the CI test's
 * compiled-block batches do, so the block compiler's generated code is what is compared),
 * --warm (like --compiled, but every block runs as a warm WebAssembly block from its first run:
 * CpuOptions.warmBlocks, src/wasm/warm-blocks.ts), --hot (like --warm, but every block that can be
 * is translated into WebAssembly on its first run: CpuOptions.wasmHotBlocks, src/wasm/hot-blocks.ts), --block-loop (with --compiled or --warm: compare
 * with the block loop instead of hardware, for a host whose kernel runs no 32-bit programs; the block loop is what the hardware comparisons check),
 * --qemu (compare with QEMU's TCG instead of hardware: qemu-system-i386 runs test/diff/qemu/case-kernel.asm;
 * mismatches listed in test/diff/qemu-deviations.ts are tolerated and counted), --qemu-dir DIR
 * (where case-kernel.asm lives; defaults to packages/cpu-x86/test/diff/qemu under cwd),
 * --long-mode (compare with this host's CPU in a 64-bit process, for a host whose kernel runs no
 * 32-bit programs: only the cases whose instructions mean the same in 64-bit mode run, see
 * test/diff/long-mode-subset.ts), --long-mode-dir DIR (where native64/runner.c lives; defaults to
 * packages/cpu-x86/test/diff/native64 under cwd).
 * Exit status 1 when there are unexpected mismatches, 2 when there is no hardware to compare with.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Cpu, CPU_HOST_AREA_BYTES } from '../src/index.js';
import { compareBatch, emptyReport, runnableCases, summarize } from '../test/diff/differential.js';
import { generateBatch } from '../test/diff/generator.js';
import { InterpreterRunner } from '../test/diff/interpreter-runner.js';
import { DEFAULT_NATIVE_DIR, hostRefuses32BitPrograms, NativeRunner } from '../test/diff/native-runner.js';
import { QEMU_DEVIATIONS } from '../test/diff/qemu-deviations.js';
import { DEFAULT_QEMU_DIR, QemuRunner } from '../test/diff/qemu-runner.js';
import { DEFAULT_LONG_MODE_DIR, LongModeRunner } from '../test/diff/long-mode-runner.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? (process.argv[i + 1] as string) : fallback;
}

const seed = Number(option('seed', '1')) >>> 0;
const total = Number(option('cases', '100000'));
const batchSize = Number(option('batch', '20000'));
const examples = Number(option('examples', '2'));
const only = option('opcode', '');
const fromCwd = resolve('packages/cpu-x86/test/diff/native');
const nativeDir = option('native-dir', existsSync(fromCwd) ? fromCwd : DEFAULT_NATIVE_DIR);

const qemuFromCwd = resolve('packages/cpu-x86/test/diff/qemu');
const qemuDir = option('qemu-dir', existsSync(qemuFromCwd) ? qemuFromCwd : DEFAULT_QEMU_DIR);

const longModeFromCwd = resolve('packages/cpu-x86/test/diff/native64');
const longModeDir = option('long-mode-dir', existsSync(longModeFromCwd) ? longModeFromCwd : DEFAULT_LONG_MODE_DIR);

const hot = process.argv.includes('--hot');
const warm = hot || process.argv.includes('--warm');
const compiled = warm || process.argv.includes('--compiled');
const againstBlockLoop = compiled && process.argv.includes('--block-loop');
const againstQemu = !againstBlockLoop && process.argv.includes('--qemu');
const longMode = !againstBlockLoop && !againstQemu && process.argv.includes('--long-mode') ? LongModeRunner.build(longModeDir) : null;
const refusal = againstBlockLoop || againstQemu || longMode !== null ? null : hostRefuses32BitPrograms();
if (refusal !== null) {
  console.error(`${refusal}\nWith --long-mode the cases that mean the same in 64-bit mode are compared with this CPU in a 64-bit process; with --qemu all are compared with QEMU's TCG; with --compiled --block-loop the compiled blocks are compared with the block loop.`);
  process.exit(2);
}
const blockLoop = againstBlockLoop
  ? new InterpreterRunner((memory) => new Cpu({ memory, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true, compileBlocks: false }), { wholeRuns: true })
  : null;
const qemu = againstQemu ? QemuRunner.build(qemuDir) : null;
const native = blockLoop === null && qemu === null && longMode === null ? NativeRunner.build(nativeDir) : null;
const deviations = qemu !== null ? QEMU_DEVIATIONS : [];
const referenceName = native !== null || longMode !== null ? 'hardware' : qemu !== null ? 'QEMU TCG' : 'the block loop';
const leftOut = new Map<string, number>();
const interpreter = new InterpreterRunner(
  (memory) => new Cpu({
    memory, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true,
    ...(hot ? { warmBlocks: true, warmThreshold: 1, compileThreshold: 1, wasmHotBlocks: true }
      : warm ? { warmBlocks: true, warmThreshold: 1, compileThreshold: 65535 } : compiled ? { compileThreshold: 1 } : {}),
  }),
  { wholeRuns: compiled, hostAreaBytes: warm ? CPU_HOST_AREA_BYTES : 0 },
);
const report = emptyReport();
const started = Date.now();
for (let batch = 0, done = 0; done < total; batch++) {
  const count = Math.min(batchSize, total - done);
  let cases = generateBatch(seed, batch, count);
  if (only) cases = cases.filter((c) => c.opcode === only || c.form.includes(` ${only} `));
  cases = runnableCases(cases, deviations, report);
  if (longMode !== null) cases = longMode.subset(cases, leftOut);
  const reference = native !== null ? native.run(cases) : longMode !== null ? longMode.run(cases)
    : qemu !== null ? qemu.run(cases) : cases.map((c) => blockLoop!.run(c));
  compareBatch(cases, reference, interpreter, report, blockLoop !== null ? [] : undefined, deviations);
  done += count;
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`\r${done}/${total} generated, ${report.cases} compared, ${report.failures.length} mismatches, ${(report.cases / seconds).toFixed(0)} cases/s   `);
}
process.stderr.write('\n');
console.log(`seed ${seed}`);
qemu?.dispose();
console.log(summarize(report, examples, referenceName));
if (longMode !== null) console.log(`not comparable in 64-bit mode: ${[...leftOut].sort((a, b) => b[1] - a[1]).map(([why, n]) => `${why} ${n}`).join(', ')}`);
process.exitCode = report.failures.length > 0 ? 1 : 0;
