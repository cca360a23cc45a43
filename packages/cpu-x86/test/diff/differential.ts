import type { CaseResult, DiffCase } from './case-format.js';
import { compareResults, describeCase } from './compare.js';
import { generateBatch } from './generator.js';
import type { InterpreterRunner } from './interpreter-runner.js';
import { findKnownFailure, KNOWN_FAILURES, type KnownFailure } from './known-failures.js';
import type { NativeRunner } from './native-runner.js';

export interface Mismatch {
  c: DiffCase;
  detail: string;
  known: KnownFailure | undefined;
}

/** Outcome of running cases on hardware and in the interpreter. */
export interface DiffReport {
  cases: number;
  passed: number;
  /** Unexpected mismatches: these fail the test. */
  failures: Mismatch[];
  /** Mismatches that match a KNOWN_FAILURES entry (tolerated, counted, printed). */
  known: Mismatch[];
}

export function emptyReport(): DiffReport {
  return { cases: 0, passed: 0, failures: [], known: [] };
}

/** Generates one batch, runs it on both sides and compares. */
export function runBatch(
  seed: number,
  batch: number,
  count: number,
  native: NativeRunner,
  interpreter: InterpreterRunner,
  report: DiffReport = emptyReport(),
  knownFailures: readonly KnownFailure[] = KNOWN_FAILURES,
): DiffReport {
  const cases = generateBatch(seed, batch, count);
  const hardware = native.run(cases);
  compareBatch(cases, hardware, interpreter, report, knownFailures);
  return report;
}

export function compareBatch(cases: readonly DiffCase[], hardware: readonly CaseResult[], interpreter: InterpreterRunner, report: DiffReport, knownFailures: readonly KnownFailure[] = KNOWN_FAILURES): void {
  cases.forEach((c, i) => {
    const hw = hardware[i] as CaseResult;
    const emu = interpreter.run(c);
    let detail = compareResults(c, hw, emu);
    report.cases++;
    if (detail === '') {
      report.passed++;
      return;
    }
    if (emu.vector === 0x101) detail += ` (${interpreter.lastHostError})`;
    const known = findKnownFailure(c, knownFailures);
    (known ? report.known : report.failures).push({ c, detail, known });
  });
}

/**
 * Mismatches grouped by opcode key, most frequent first, with one example each. `reference` names
 * what the cases were compared with.
 */
export function summarize(report: DiffReport, examplesPerOpcode = 1, reference = 'hardware'): string {
  const lines: string[] = [];
  const pct = report.cases === 0 ? 0 : (100 * report.passed) / report.cases;
  lines.push(`${report.cases} cases, ${report.passed} identical to ${reference} (${pct.toFixed(3)}%), ${report.failures.length} unexpected mismatches, ${report.known.length} known failures tolerated`);
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
  return lines.join('\n');
}
