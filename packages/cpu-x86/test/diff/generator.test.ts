/// <reference types="node" />
import { beforeAll, describe, expect, test } from 'vitest';
import { FORMS } from './forms.js';
import { generateBatch } from './generator.js';
import { hostRefuses32BitPrograms, NativeRunner } from './native-runner.js';

let runner: NativeRunner;
// Skipped, saying why, on a host whose kernel runs no 32-bit programs (native-runner.ts).
const refusal = hostRefuses32BitPrograms();
if (refusal !== null) console.warn(`native runner tests SKIPPED: ${refusal}`);
beforeAll(() => {
  if (refusal !== null) return;
  runner = NativeRunner.build();
});

describe('case generator', () => {
  test('is deterministic for a seed', () => {
    const a = generateBatch(7, 3, 300);
    const b = generateBatch(7, 3, 300);
    expect(a.map((c) => [...c.code])).toEqual(b.map((c) => [...c.code]));
    expect(a.map((c) => [...c.regs])).toEqual(b.map((c) => [...c.regs]));
  });

  test('covers every form in every batch', () => {
    const cases = generateBatch(1, 0, FORMS.length + 10);
    const seen = new Set(cases.map((c) => `${c.opcode} ${c.form}`));
    for (const f of FORMS) expect(seen.has(`${f.opcode} ${f.name}`)).toBe(true);
    expect(FORMS.length).toBeGreaterThan(350);
  });

  // Validates the generator against hardware: every memory operand it solves for must land in the
  // mapped window, and faults may only come from forms meant to fault.
  test.skipIf(refusal !== null)('produces cases that real hardware runs without stray faults', () => {
    const cases = generateBatch(11, 0, 20000);
    const results = runner.run(cases);
    const stray: string[] = [];
    results.forEach((r, i) => {
      const c = cases[i];
      if (!c || r.vector < 0) return;
      const locked = c.code.includes(0xf0);
      const expected =
        (r.vector === 13 && (c.opcode === '#GP' || c.opcode === 'CD')) ||
        (r.vector === 6 && (c.opcode === '#UD' || locked)) ||
        (r.vector === 0 && /DIV|AAM/.test(c.form)) ||
        (r.vector === 5 && c.opcode === '62') ||
        (r.vector === 4 && c.opcode === 'CE') ||
        (r.vector === 3 && c.opcode === 'CC') ||
        (r.vector === 1 && c.opcode === 'F1');
      if (!expected) stray.push(`${c.opcode} ${c.form} vector ${r.vector} eip ${r.eip.toString(16)} bytes ${[...c.code].map((b) => b.toString(16)).join(' ')}`);
    });
    expect(stray).toEqual([]);
  });
});
