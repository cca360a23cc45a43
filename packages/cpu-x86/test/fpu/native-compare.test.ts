/// <reference types="node" />
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hostRefuses32BitPrograms } from '../diff/native-runner.js';
import {
  OPS, caseLine, diffOutcome, doublePathCases, exactCases, parseOutcome, runSoftware, transcendentalCases,
} from './native-cases.js';

/**
 * Differential test against the host CPU's own x87 unit: a fixed-seed sample of instruction cases
 * runs natively (native/x87-harness.c, built with gcc -m32) and through the software FPU; the
 * FSAVE images (all but the instruction/operand pointers), memory operands and EFLAGS must agree.
 */
const harnessSource = fileURLToPath(new URL('./native/x87-harness.c', import.meta.url));
const CASES_PER_OP = Number(process.env['FPU_NATIVE_CASES_PER_OP'] ?? 100);
const SEED = Number(process.env['FPU_NATIVE_SEED'] ?? 0x87);

const dir = mkdtempSync(join(tmpdir(), 'x87-harness-'));
const binary = join(dir, 'x87-harness');
// A host whose kernel runs no 32-bit programs cannot run the harness at all (diff/native-runner.ts):
// it is not built there.
const refusal = hostRefuses32BitPrograms();
const build = refusal === null ? spawnSync('gcc', ['-m32', '-O1', '-o', binary, harnessSource], { encoding: 'utf8' }) : null;
const available = build?.status === 0;
const skipReason = available ? '' : refusal !== null ? `(skipped: ${refusal})`
  : `gcc -m32 unavailable or failed (${(build?.stderr ?? String(build?.error)).trim().split('\n')[0]}); install gcc-multilib to run the native x87 comparison`;
if (refusal !== null) console.warn(`x87 native comparison SKIPPED: ${refusal}`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('x87 versus the host CPU', () => {
  it.skipIf(!available)(`agrees bit-for-bit on ${OPS.length * CASES_PER_OP} generated cases ${skipReason}`, () => {
    const cases = exactCases(SEED, CASES_PER_OP);
    const out = execFileSync(binary, { input: cases.map(caseLine).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    const lines = out.trim().split('\n');
    expect(lines.length).toBe(cases.length);
    const failures: string[] = [];
    const perOp = new Map<string, number>();
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const d = diffOutcome(c, parseOutcome(lines[i]!), runSoftware(c));
      if (d !== null) {
        failures.push(d);
        perOp.set(c.op.name, (perOp.get(c.op.name) ?? 0) + 1);
      }
    }
    const summary = [...perOp].map(([n, k]) => `${n}: ${k}`).join(', ');
    expect(failures.length, `${failures.length}/${cases.length} mismatches (${summary})\n${failures.slice(0, 40).join('\n')}`).toBe(0);
  }, 120_000);

  it.skipIf(!available)(`agrees bit-for-bit at double precision control with double operands ${skipReason}`, () => {
    // The float64 shortcut (x87-double-path.ts) and the limits where it hands over to the
    // word-based path.
    const cases = doublePathCases(SEED + 2, CASES_PER_OP * 4);
    const out = execFileSync(binary, { input: cases.map(caseLine).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    const lines = out.trim().split('\n');
    expect(lines.length).toBe(cases.length);
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const d = diffOutcome(c, parseOutcome(lines[i]!), runSoftware(c));
      if (d !== null) failures.push(d);
    }
    expect(failures.length, `${failures.length}/${cases.length} mismatches\n${failures.slice(0, 30).join('\n')}`).toBe(0);
  }, 120_000);

  it.skipIf(!available)(`transcendentals agree within 2^-48 relative error ${skipReason}`, () => {
    const cases = transcendentalCases(SEED + 1, CASES_PER_OP * 3);
    const out = execFileSync(binary, { input: cases.map(caseLine).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    const lines = out.trim().split('\n');
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const d = diffOutcome(c, parseOutcome(lines[i]!), runSoftware(c), 2 ** -48);
      if (d !== null) failures.push(d);
    }
    expect(failures.length, `${failures.length}/${cases.length} mismatches\n${failures.slice(0, 30).join('\n')}`).toBe(0);
  }, 120_000);
});
