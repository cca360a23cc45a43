import type { CaseResult, DiffCase, ReferenceRunner } from './case-format.js';
import { compareResults, describeCase } from './compare.js';
import { generateBatch } from './generator.js';
import type { InterpreterRunner } from './interpreter-runner.js';
import { findKnownFailure, KNOWN_FAILURES, type KnownFailure } from './known-failures.js';
import { findQemuDeviation, findQemuSkip, type QemuDeviation } from './qemu-deviations.js';

export interface Mismatch {
  c: DiffCase;
  detail: string;
  known: KnownFailure | undefined;
  /** Set when the reference is QEMU and the mismatch is one of its listed deviations. */
  deviation?: QemuDeviation;
}

/** Outcome of running cases on a reference (hardware, QEMU or the block loop) and in the interpreter. */
export interface DiffReport {
  cases: number;
  passed: number;
  /** Unexpected mismatches: these fail the test. */
  failures: Mismatch[];
  /** Mismatches that match a KNOWN_FAILURES entry (tolerated, counted, printed). */
  known: Mismatch[];
  /** Mismatches where the reference (QEMU) is wrong, per qemu-deviations.ts (tolerated, counted, printed). */
  deviations: Mismatch[];
  /** Cases the reference cannot run (a qemu-deviations.ts entry skips them): not compared, counted, printed. */
  notRun: { c: DiffCase; deviation: QemuDeviation }[];
}

export function emptyReport(): DiffReport {
  return { cases: 0, passed: 0, failures: [], known: [], deviations: [], notRun: [] };
}

/**
 * Generates one batch, runs it on the reference and in the interpreter, and compares. `deviations`
 * (QEMU_DEVIATIONS when the reference is QEMU, none for hardware) says where the reference is wrong.
 */
export function runBatch(
  seed: number,
  batch: number,
  count: number,
  reference: ReferenceRunner,
  interpreter: InterpreterRunner,
  report: DiffReport = emptyReport(),
  knownFailures: readonly KnownFailure[] = KNOWN_FAILURES,
  deviations: readonly QemuDeviation[] = [],
): DiffReport {
  const cases = runnableCases(generateBatch(seed, batch, count), deviations, report);
  compareBatch(cases, reference.run(cases), interpreter, report, knownFailures, deviations);
  return report;
}

/** The cases no deviation skips; the skipped ones go to `report.notRun`. */
export function runnableCases(cases: readonly DiffCase[], deviations: readonly QemuDeviation[], report: DiffReport): DiffCase[] {
  return cases.filter((c) => {
    const deviation = findQemuSkip(c, deviations);
    if (deviation) report.notRun.push({ c, deviation });
    return deviation === undefined;
  });
}

export function compareBatch(
  cases: readonly DiffCase[],
  reference: readonly CaseResult[],
  interpreter: InterpreterRunner,
  report: DiffReport,
  knownFailures: readonly KnownFailure[] = KNOWN_FAILURES,
  deviations: readonly QemuDeviation[] = [],
): void {
  cases.forEach((c, i) => {
    const expected = reference[i] as CaseResult;
    const emu = interpreter.run(c);
    let detail = compareResults(c, expected, emu);
    report.cases++;
    if (detail === '') {
      report.passed++;
      return;
    }
    if (emu.vector === 0x101) detail += ` (${interpreter.lastHostError})`;
    const known = findKnownFailure(c, knownFailures);
    const deviation = known ? undefined : findQemuDeviation(c, expected, emu, deviations);
    if (deviation) report.deviations.push({ c, detail, known, deviation });
    else (known ? report.known : report.failures).push({ c, detail, known });
  });
}

/**
 * Mismatches grouped by opcode key, most frequent first, with one example each. `reference` names
 * what the cases were compared with.
 */
export function summarize(report: DiffReport, examplesPerOpcode = 1, reference = 'hardware'): string {
  const lines: string[] = [];
  const pct = report.cases === 0 ? 0 : (100 * report.passed) / report.cases;
  const deviations = report.deviations.length + report.notRun.length > 0
    ? `, ${report.deviations.length} mismatches where ${reference} deviates from hardware tolerated, ${report.notRun.length} cases ${reference} cannot run`
    : '';
  lines.push(`${report.cases} cases, ${report.passed} identical to ${reference} (${pct.toFixed(3)}%), ${report.failures.length} unexpected mismatches, ${report.known.length} known failures tolerated${deviations}`);
  const groups = new Map<string, Mismatch[]>();
  for (const m of report.failures) {
    const key = `${m.c.opcode} ${m.c.opcode === 'seq' ? '' : m.c.form}`.trim();
    const list = groups.get(key) ?? [];
    list.push(m);
    groups.set(key, list);
  }
  for (const [key, list] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${key}: ${list.length}`);
    for (const m of list.slice(0, examplesPerOpcode)) lines.push(`    ${describeCase(m.c)}\n      -> ${m.detail}`);
  }
  const byBug = new Map<string, number>();
  for (const m of report.known) byBug.set(m.known?.bug ?? '?', (byBug.get(m.known?.bug ?? '?') ?? 0) + 1);
  for (const [bug, n] of byBug) lines.push(`  known failure (${n} cases): ${bug}`);
  for (const k of KNOWN_FAILURES) {
    if (!byBug.has(k.bug)) lines.push(`  known failure entry with no failing case (fixed? remove it from known-failures.ts): ${k.bug}`);
  }
  const byDeviation = new Map<QemuDeviation, { mismatches: number; notRun: number }>();
  const count = (d: QemuDeviation): { mismatches: number; notRun: number } => {
    const entry = byDeviation.get(d) ?? { mismatches: 0, notRun: 0 };
    byDeviation.set(d, entry);
    return entry;
  };
  for (const m of report.deviations) if (m.deviation) count(m.deviation).mismatches++;
  for (const n of report.notRun) count(n.deviation).notRun++;
  for (const [d, n] of byDeviation) {
    const what = n.notRun > 0 ? `${n.notRun} cases not run` : `${n.mismatches} mismatches tolerated`;
    lines.push(`  ${reference} deviation (${what}): ${d.form}: ${d.reason}`);
  }
  return lines.join('\n');
}
