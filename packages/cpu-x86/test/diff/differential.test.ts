/// <reference types="node" />
import { Cpu, CPU_HOST_AREA_BYTES, CpuStat } from '@typevisor/cpu-x86';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compareBatch, emptyReport, runBatch, summarize } from './differential.js';
import { generateBatch } from './generator.js';
import { InterpreterRunner } from './interpreter-runner.js';
import { KNOWN_FAILURES } from './known-failures.js';
import { hostRefuses32BitPrograms, NativeRunner } from './native-runner.js';
import { QEMU_DEVIATIONS } from './qemu-deviations.js';
import { QemuRunner, qemuRunnerUnavailable } from './qemu-runner.js';
import { LongModeRunner, longModeRunnerUnavailable } from './long-mode-runner.js';

// Fixed-seed sample: 10 batches x 10,000 cases, each case run on this host's CPU and in the
// interpreter. Mismatches fail the test unless they match a KNOWN_FAILURES entry (printed below).
const SEED = 20240601;
const BATCHES = 10;
const BATCH_SIZE = 10_000;

let native: NativeRunner;
let interpreter: InterpreterRunner;
const report = emptyReport();

// A host whose kernel runs no 32-bit programs has no hardware to compare with: the comparisons with
// it are skipped, saying why. The same sample then runs against QEMU's TCG (qemu-runner.ts) when
// qemu-system-i386 is installed, and the compiled blocks are also compared with the block loop.
const refusal = hostRefuses32BitPrograms();
const qemuMissing = refusal === null ? null : qemuRunnerUnavailable();
if (refusal !== null) {
  console.warn(`differential tester: the comparisons with hardware are SKIPPED: ${refusal}`);
  console.warn(qemuMissing === null
    ? 'differential tester: the oracle is QEMU TCG instead (qemu-system-i386, software emulation, NOT hardware); ' +
      `where TCG itself is wrong is listed in qemu-deviations.ts (${QEMU_DEVIATIONS.length} entries)`
    : `differential tester: the comparisons with QEMU TCG are SKIPPED too: ${qemuMissing}`);
}
const againstQemu = refusal !== null && qemuMissing === null;
// Such a host still runs 64-bit programs: the cases whose instructions mean the same in 64-bit mode
// (long-mode-subset.ts; about 60% of them) run on its CPU in a 64-bit process.
const longModeMissing = refusal === null ? null : longModeRunnerUnavailable();
if (refusal !== null) {
  console.warn(longModeMissing === null
    ? 'differential tester: the cases that mean the same in 64-bit mode are compared with this host\'s CPU in a 64-bit process'
    : `differential tester: the comparisons with this host's CPU in 64-bit mode are SKIPPED too: ${longModeMissing}`);
}
const inLongMode = refusal !== null && longModeMissing === null;
let longMode: LongModeRunner;
const longModeReport = emptyReport();
const leftOutOfLongMode = new Map<string, number>();
let qemu: QemuRunner;
const qemuReport = emptyReport();

beforeAll(() => {
  if (refusal === null) native = NativeRunner.build(); // fails loudly (with the apt-get command) without gcc -m32 / nasm
  if (againstQemu) qemu = QemuRunner.build();
  if (inLongMode) longMode = LongModeRunner.build();
  interpreter = new InterpreterRunner((memory) => new Cpu({ memory, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true }));
});

afterAll(() => {
  if (againstQemu) {
    qemu.dispose();
    console.log(`differential tester (oracle: QEMU TCG, not hardware, because ${refusal}): ${summarize(qemuReport, 1, 'QEMU TCG')}`);
  }
  if (inLongMode) {
    const leftOut = [...leftOutOfLongMode].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([why, n]) => `${why} ${n}`).join(', ');
    console.log(`differential tester (hardware: this host's CPU in 64-bit mode, the cases that mean the same there): ${summarize(longModeReport, 1)}`);
    console.log(`differential tester: not comparable in 64-bit mode, most often: ${leftOut}`);
  }
  if (refusal !== null) return;
  console.log(`differential tester: ${summarize(report, 1)}`);
  console.log(`differential tester: ${report.known.length} known failures skipped (${KNOWN_FAILURES.length} entries in known-failures.ts)`);
});

describe.skipIf(refusal !== null)('interpreter vs hardware (integer instructions, flat 32-bit, CPL 3)', () => {
  for (let group = 0; group < BATCHES / 2; group++) {
    test(`batches ${group * 2} and ${group * 2 + 1} (${2 * BATCH_SIZE} cases)`, () => {
      const before = report.failures.length;
      for (const batch of [group * 2, group * 2 + 1]) runBatch(SEED, batch, BATCH_SIZE, native, interpreter, report);
      const mine = { ...report, failures: report.failures.slice(before) };
      expect(mine.failures.length, summarize(mine, 1)).toBe(0);
    }, 60_000);
  }

  test('ran the whole sample', () => {
    expect(report.cases).toBeGreaterThanOrEqual(BATCHES * BATCH_SIZE);
  });
});

// The same kind of cases run whole (one run() per case) with every block compiled on its first run,
// so the compiled-block path (src/block-compiler.ts) is checked against hardware too.
const COMPILED_BATCHES = 4;
/** The same again with every block a warm WebAssembly block from its first run (src/wasm/warm-blocks.ts). */
const WARM_BATCHES = 2;
function warmRunner(): { runner: InterpreterRunner; cpu: () => Cpu | null } {
  let cpu: Cpu | null = null;
  const runner = new InterpreterRunner(
    (memory) => (cpu = new Cpu({
      memory, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true, warmBlocks: true, warmThreshold: 1, compileThreshold: 65535,
    })),
    { wholeRuns: true, hostAreaBytes: CPU_HOST_AREA_BYTES },
  );
  return { runner, cpu: () => cpu };
}
/** And with every block that can be translated into WebAssembly on its first run (src/wasm/hot-blocks.ts). */
const HOT_BATCHES = 1;
function hotRunner(): { runner: InterpreterRunner; cpu: () => Cpu | null } {
  let cpu: Cpu | null = null;
  const runner = new InterpreterRunner(
    (memory) => (cpu = new Cpu({
      memory, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true, warmBlocks: true, warmThreshold: 1, compileThreshold: 1, wasmHotBlocks: true,
    })),
    { wholeRuns: true, hostAreaBytes: CPU_HOST_AREA_BYTES },
  );
  return { runner, cpu: () => cpu };
}
describe.skipIf(refusal !== null)('interpreter vs hardware, compiled blocks', () => {
  const compiledReport = emptyReport();
  test(`${COMPILED_BATCHES} batches of ${BATCH_SIZE} cases, run whole with compileThreshold 1`, () => {
    let cpu: Cpu | null = null;
    const compiled = new InterpreterRunner(
      (memory) => (cpu = new Cpu({ memory, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true, compileThreshold: 1 })),
      { wholeRuns: true },
    );
    for (let batch = 0; batch < COMPILED_BATCHES; batch++) runBatch(SEED + 1, batch, BATCH_SIZE, native, compiled, compiledReport);
    console.log(`differential tester (compiled blocks): ${summarize(compiledReport, 1)}`);
    expect(compiledReport.failures.length, summarize(compiledReport, 1)).toBe(0);
    expect(compiledReport.cases).toBe(COMPILED_BATCHES * BATCH_SIZE);
    // Nearly every case's code became a compiled block (the rest fault before a block completes).
    expect((cpu as Cpu | null)?.stats[CpuStat.BlocksCompiled]).toBeGreaterThan(COMPILED_BATCHES * BATCH_SIZE / 2);
  }, 120_000);

  test(`warm blocks: ${WARM_BATCHES} batches of ${BATCH_SIZE} cases, run whole with warmThreshold 1`, () => {
    const warmReport = emptyReport();
    const { runner, cpu } = warmRunner();
    for (let batch = 0; batch < WARM_BATCHES; batch++) runBatch(SEED + 2, batch, BATCH_SIZE, native, runner, warmReport);
    console.log(`differential tester (warm blocks): ${summarize(warmReport, 1)}`);
    expect(warmReport.failures.length, summarize(warmReport, 1)).toBe(0);
    expect(cpu()?.stats[CpuStat.BlocksWarmed]).toBeGreaterThan(WARM_BATCHES * BATCH_SIZE / 4);
  }, 120_000);

  test(`hot blocks in WebAssembly: ${HOT_BATCHES} batch of ${BATCH_SIZE} cases, run whole with every block translated on its first run`, () => {
    const hotReport = emptyReport();
    const { runner, cpu } = hotRunner();
    for (let batch = 0; batch < HOT_BATCHES; batch++) runBatch(SEED + 3, batch, BATCH_SIZE, native, runner, hotReport);
    console.log(`differential tester (hot blocks in WebAssembly): ${summarize(hotReport, 1)}`);
    expect(hotReport.failures.length, summarize(hotReport, 1)).toBe(0);
    expect(cpu()?.stats[CpuStat.BlocksTranslated]).toBeGreaterThan(HOT_BATCHES * BATCH_SIZE / 4);
  }, 120_000);
});

// A host that runs no 32-bit programs still has its CPU: the same sample's cases whose instructions
// mean the same in 64-bit mode (long-mode-subset.ts) run on it in a 64-bit process, strictly compared.
// About 80 % of the cases run in 64-bit mode, so three batches more than the sample's ten give at
// least 100,000 cases compared with hardware.
const LONG_MODE_BATCHES = BATCHES + 3;
describe.runIf(inLongMode)('interpreter vs hardware in 64-bit mode, on a host without 32-bit programs (the cases that mean the same there)', () => {
  for (let group = 0; group * 3 < LONG_MODE_BATCHES; group++) {
    const batches = [group * 3, group * 3 + 1, group * 3 + 2].filter((b) => b < LONG_MODE_BATCHES);
    test(`batches ${batches.join(', ')} (those of ${batches.length * BATCH_SIZE} cases that run in 64-bit mode)`, () => {
      const before = longModeReport.failures.length;
      for (const batch of batches) {
        const cases = longMode.subset(generateBatch(SEED, batch, BATCH_SIZE), leftOutOfLongMode);
        compareBatch(cases, longMode.run(cases), interpreter, longModeReport);
      }
      const mine = { ...longModeReport, failures: longModeReport.failures.slice(before) };
      expect(mine.failures.length, summarize(mine, 1)).toBe(0);
    }, 60_000);
  }

  test('compared at least 100,000 cases with hardware', () => {
    expect(longModeReport.cases).toBeGreaterThanOrEqual(100_000);
  });

  /** Batches of `seed` run whole by `runner`, the cases that run in 64-bit mode compared with hardware. */
  const wholeRunsInLongMode = (name: string, seed: number, batches: number, runner: InterpreterRunner, made: () => number | undefined): void => {
    const wholeReport = emptyReport();
    for (let batch = 0; batch < batches; batch++) {
      const cases = longMode.subset(generateBatch(seed, batch, BATCH_SIZE), new Map());
      compareBatch(cases, longMode.run(cases), runner, wholeReport);
    }
    const summary = summarize(wholeReport, 1);
    console.log(`differential tester (${name}, hardware in 64-bit mode): ${summary}`);
    expect(wholeReport.failures.length, summary).toBe(0);
    expect(wholeReport.cases).toBeGreaterThan(batches * BATCH_SIZE / 2);
    // Most cases' code became a compiled (or warm) block.
    expect(made()).toBeGreaterThan(batches * BATCH_SIZE / 4);
  };

  test(`compiled blocks: the cases of ${COMPILED_BATCHES} batches of ${BATCH_SIZE} that run in 64-bit mode, run whole with compileThreshold 1`, () => {
    let cpu: Cpu | null = null;
    const compiled = new InterpreterRunner(
      (memory) => (cpu = new Cpu({ memory, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true, compileThreshold: 1 })),
      { wholeRuns: true },
    );
    wholeRunsInLongMode('compiled blocks', SEED + 1, COMPILED_BATCHES, compiled, () => (cpu as Cpu | null)?.stats[CpuStat.BlocksCompiled]);
  }, 120_000);

  test(`warm blocks: the cases of ${WARM_BATCHES} batches of ${BATCH_SIZE} that run in 64-bit mode, run whole with warmThreshold 1`, () => {
    const { runner, cpu } = warmRunner();
    wholeRunsInLongMode('warm blocks', SEED + 2, WARM_BATCHES, runner, () => cpu()?.stats[CpuStat.BlocksWarmed]);
  }, 120_000);

  test(`hot blocks in WebAssembly: the cases of ${HOT_BATCHES} batch of ${BATCH_SIZE} that run in 64-bit mode, every block translated on its first run`, () => {
    const { runner, cpu } = hotRunner();
    wholeRunsInLongMode('hot blocks in WebAssembly', SEED + 3, HOT_BATCHES, runner, () => cpu()?.stats[CpuStat.BlocksTranslated]);
  }, 120_000);
});

// Without hardware to compare with: the same sample against QEMU's TCG, an independent x86
// implementation but not hardware. Mismatches where TCG is wrong (qemu-deviations.ts) are tolerated,
// counted and printed; everything else fails as it would against hardware.
describe.runIf(againstQemu)('interpreter vs QEMU TCG, on a host without 32-bit programs (integer instructions, flat 32-bit, CPL 3)', () => {
  for (let group = 0; group < BATCHES / 2; group++) {
    test(`batches ${group * 2} and ${group * 2 + 1} (${2 * BATCH_SIZE} cases)`, () => {
      const before = qemuReport.failures.length;
      for (const batch of [group * 2, group * 2 + 1]) runBatch(SEED, batch, BATCH_SIZE, qemu, interpreter, qemuReport, KNOWN_FAILURES, QEMU_DEVIATIONS);
      const mine = { ...qemuReport, failures: qemuReport.failures.slice(before) };
      expect(mine.failures.length, summarize(mine, 1, 'QEMU TCG')).toBe(0);
    }, 120_000);
  }

  test('ran the whole sample', () => {
    expect(qemuReport.cases + qemuReport.notRun.length).toBe(BATCHES * BATCH_SIZE);
    // The deviations explain a small share; a surge means the oracle or the harness broke.
    expect(qemuReport.deviations.length + qemuReport.notRun.length).toBeLessThan(BATCHES * BATCH_SIZE / 50);
  });

  test(`compiled blocks: ${COMPILED_BATCHES} batches of ${BATCH_SIZE} cases, run whole with compileThreshold 1`, () => {
    const compiledReport = emptyReport();
    let cpu: Cpu | null = null;
    const compiled = new InterpreterRunner(
      (memory) => (cpu = new Cpu({ memory, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true, compileThreshold: 1 })),
      { wholeRuns: true },
    );
    for (let batch = 0; batch < COMPILED_BATCHES; batch++) runBatch(SEED + 1, batch, BATCH_SIZE, qemu, compiled, compiledReport, KNOWN_FAILURES, QEMU_DEVIATIONS);
    const summary = summarize(compiledReport, 1, 'QEMU TCG');
    console.log(`differential tester (compiled blocks, oracle: QEMU TCG, not hardware): ${summary}`);
    expect(compiledReport.failures.length, summary).toBe(0);
    expect(compiledReport.cases + compiledReport.notRun.length).toBe(COMPILED_BATCHES * BATCH_SIZE);
    expect((cpu as Cpu | null)?.stats[CpuStat.BlocksCompiled]).toBeGreaterThan(COMPILED_BATCHES * BATCH_SIZE / 2);
  }, 240_000);
});

// Without hardware to compare with: the same cases run whole with every block compiled on its first
// run and in the block loop alone (which the comparisons with hardware check where they can run).
describe.runIf(refusal !== null)('compiled blocks vs the block loop, on a host without 32-bit programs', () => {
  test(`${COMPILED_BATCHES} batches of ${BATCH_SIZE} cases, run whole, compiled and not`, () => {
    const selfReport = emptyReport();
    const io = { read: () => 0xffffffff, write: () => {} };
    let cpu: Cpu | null = null;
    const compiled = new InterpreterRunner((memory) => (cpu = new Cpu({ memory, io, stopOnException: true, compileThreshold: 1 })), { wholeRuns: true });
    const blockLoop = new InterpreterRunner((memory) => new Cpu({ memory, io, stopOnException: true, compileBlocks: false }), { wholeRuns: true });
    for (let batch = 0; batch < COMPILED_BATCHES; batch++) {
      const cases = generateBatch(SEED + 1, batch, BATCH_SIZE);
      compareBatch(cases, cases.map((c) => blockLoop.run(c)), compiled, selfReport, []);
    }
    const summary = summarize(selfReport, 1, 'the block loop');
    console.log(`differential tester (compiled blocks vs the block loop): ${summary}`);
    expect(selfReport.failures.length, summary).toBe(0);
    expect(selfReport.cases).toBe(COMPILED_BATCHES * BATCH_SIZE);
    expect((cpu as Cpu | null)?.stats[CpuStat.BlocksCompiled]).toBeGreaterThan(COMPILED_BATCHES * BATCH_SIZE / 2);
  }, 120_000);
});
