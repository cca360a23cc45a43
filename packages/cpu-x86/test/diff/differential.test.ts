/// <reference types="node" />
import { Cpu } from '@typevisor/cpu-x86';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emptyReport, runBatch, summarize } from './differential.js';
import { InterpreterRunner } from './interpreter-runner.js';
import { KNOWN_FAILURES } from './known-failures.js';
import { NativeRunner } from './native-runner.js';

// Fixed-seed sample: 10 batches x 10,000 cases, each case run on this host's CPU and in the
// interpreter. Mismatches fail the test unless they match a KNOWN_FAILURES entry (printed below).
const SEED = 20240601;
const BATCHES = 10;
const BATCH_SIZE = 10_000;

let native: NativeRunner;
let interpreter: InterpreterRunner;
const report = emptyReport();

beforeAll(() => {
  native = NativeRunner.build(); // fails loudly (with the apt-get command) without gcc -m32 / nasm
  interpreter = new InterpreterRunner((memory) => new Cpu({ memory, io: { read: () => 0xffffffff, write: () => {} }, stopOnException: true }));
});

afterAll(() => {
  console.log(`differential tester: ${summarize(report, 1)}`);
  console.log(`differential tester: ${report.known.length} known failures skipped (${KNOWN_FAILURES.length} entries in known-failures.ts)`);
});

describe('interpreter vs hardware (integer instructions, flat 32-bit, CPL 3)', () => {
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
