/// <reference types="node" />
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AC, AF, DF, NT, OF, PF, SF, STATUS } from './flags.js';
import { handCase } from './hand-case.js';
import { VECTOR_TIMEOUT } from './interpreter-runner.js';
import { CODE_ADDR } from './layout.js';
import { fillPattern } from './memory-pattern.js';
import { findQemuSkip } from './qemu-deviations.js';
import { QEMU_INSTALL_HINT, QemuRunError, QemuRunner, QemuRunnerUnavailableError, qemuRunnerUnavailable } from './qemu-runner.js';

// The QEMU half of the differential tester must itself be right: these cases have known answers
// (the same as native-runner.test.ts expects from hardware, except where QEMU is listed as wrong).
let runner: QemuRunner;
const missing = qemuRunnerUnavailable();
if (missing !== null) console.warn(`QEMU runner tests SKIPPED: ${missing}`);
beforeAll(() => {
  if (missing === null) runner = QemuRunner.build();
});
afterAll(() => runner?.dispose());

describe.skipIf(missing !== null)('QEMU runner', () => {
  test('returns registers and flags after ADD EAX,EBX (signed overflow)', () => {
    const [r] = runner.run([handCase([0x01, 0xd8], { eax: 0x7fffffff, ebx: 1 })]);
    expect(r?.vector).toBe(-1);
    expect(r?.regs[0]).toBe(0x80000000);
    expect((r?.eflags ?? 0) & STATUS).toBe(OF | SF | AF | PF);
    expect((r?.eflags ?? 0) & 0x3202).toBe(0x202); // IF set, IOPL 0, as in a user process
    expect(r?.eip).toBe(CODE_ADDR + 2);
  });

  test('reports #DE at the faulting instruction with registers unchanged', () => {
    const [r] = runner.run([handCase([0x40, 0xf7, 0xf1], { eax: 5, ecx: 0 })]); // inc eax; div ecx
    expect(r?.vector).toBe(0);
    expect(r?.eip).toBe(CODE_ADDR + 1);
    expect(r?.regs[0]).toBe(6);
  });

  test('reports memory writes as changed bytes, 16-bit addressing included', () => {
    const [a, b] = runner.run([
      handCase([0x89, 0x03], { eax: 0x11223344, ebx: 0x1000 }, 0, [{ address: 0x1000, bytes: [0, 0, 0, 0] }]),
      handCase([0x67, 0x89, 0x07], { eax: 0xaabbccdd, ebx: 0xdead1ffe }, 0, [{ address: 0x1ffe, bytes: [0, 0, 0, 0] }]),
    ]);
    expect([...(a?.memoryChanges ?? [])]).toEqual([0x100044, 0x100133, 0x100222, 0x100311]);
    // [bx] ignores the upper half of EBX: the dword lands at 0x1ffe, across the data/stack page boundary.
    expect([...(b?.memoryChanges ?? [])]).toEqual([0x1ffedd, 0x1fffcc, 0x2000bb, 0x2001aa]);
  });

  test('PUSH writes below ESP in the stack page; a byte written with its old value is no change', () => {
    const [r] = runner.run([handCase([0x50], { eax: 0x01020304, esp: 0x2800 }, 0, [{ address: 0x27fc, bytes: [0, 0, 0x02, 0] }])]);
    expect(r?.regs[4]).toBe(0x27fc);
    expect([...(r?.memoryChanges ?? [])]).toEqual([0x27fc04, 0x27fd03, 0x27ff01]);
  });

  test('starts every case from the seeded memory pattern plus patches', () => {
    const pattern = new Uint8Array(0x2000);
    fillPattern(pattern, 1234);
    const word = (at: number): number => (pattern[at]! | pattern[at + 1]! << 8 | pattern[at + 2]! << 16 | pattern[at + 3]! << 24) >>> 0;
    const [first, last, patched, zeroSeed] = runner.run([
      handCase([0x8b, 0x03], { ebx: 0x1000 }),
      handCase([0x8b, 0x03], { ebx: 0x2ffc }),
      handCase([0x8b, 0x03], { ebx: 0x1800 }, 0, [{ address: 0x1801, bytes: [0xab, 0xcd] }]),
      handCase([0x8b, 0x03], { ebx: 0x1000 }, 0, [], 0),
    ]);
    expect(first?.regs[0]).toBe(word(0));
    expect(last?.regs[0]).toBe(word(0x1ffc));
    expect(patched?.regs[0]).toBe(((word(0x800) & 0xff0000ff) | 0xcdab00) >>> 0);
    fillPattern(pattern, 0);
    expect(zeroSeed?.regs[0]).toBe(word(0));
  });

  test('maps CPL 3 faults to the vectors and error codes Linux reports', () => {
    const results = runner.run([
      handCase([0xcd, 0x21], {}), // INT 21h: gate DPL 0 -> #GP(21h*8+2)
      handCase([0x0f, 0x0b], {}), // UD2
      handCase([0xf4], {}), // HLT at CPL 3 (the snippet's own, not the guard after it)
      handCase([0xcc], {}), // INT3 traps after the instruction (DPL 3 gate)
      handCase([0xce], {}, OF), // INTO with OF set (DPL 3 gate)
      handCase([0x62, 0x03], { eax: 9, ebx: 0x1000 }, 0, [{ address: 0x1000, bytes: [0, 0, 0, 0, 5, 0, 0, 0] }]), // BOUND eax outside [0, 5]
      handCase([0xcd, 0x03], {}), // INT 3 encoded as CD 03 also goes through the DPL 3 gate
      handCase([0xcd, 0x20], {}), // the watchdog's vector cannot be raised from CPL 3
    ]);
    expect(results.map((r) => r.vector)).toEqual([13, 6, 13, 3, 4, 5, 3, 13]);
    expect(results[0]?.errorCode).toBe(0x10a);
    expect(results[2]?.errorCode).toBe(0);
    expect(results[2]?.eip).toBe(CODE_ADDR);
    expect(results[3]?.eip).toBe(CODE_ADDR + 1);
    expect(results[4]?.eip).toBe(CODE_ADDR + 1);
    expect(results[5]?.eip).toBe(CODE_ADDR);
    expect(results[7]?.errorCode).toBe(0x20 * 8 + 2);
  });

  test('CPL 3 port I/O raises #GP(0): the TSS has no I/O permission bitmap', () => {
    const results = runner.run([
      handCase([0xe4, 0x60], {}), // in al, 60h
      handCase([0xee], { edx: 0xe9 }), // out dx, al to QEMU's debug console itself
      handCase([0xe6, 0xf4], {}), // out f4h, al: would end QEMU through isa-debug-exit
      handCase([0xf3, 0x6c], { ecx: 4, edi: 0x1100, edx: 0x60 }), // rep insb: faults before any byte is stored
    ]);
    for (const r of results) {
      expect(r.vector).toBe(13);
      expect(r.errorCode).toBe(0);
      expect(r.eip).toBe(CODE_ADDR);
    }
    expect(results[3]?.memoryChanges.length).toBe(0);
    expect(results[3]?.regs[1]).toBe(4);
  });

  test('a case ends at the HLT guard also when it jumps there, and runs with flat segments', () => {
    const [jumped, segmentOverride] = runner.run([
      handCase([0xeb, 0x01, 0x40], { eax: 7 }), // jmp over inc eax, to the end
      handCase([0x26, 0x8a, 0x05, 0x00, 0x20, 0x00, 0x00, 0x36, 0x88, 0x05, 0x00, 0x10, 0x00, 0x00], {}, 0, [{ address: 0x2000, bytes: [0x5a] }, { address: 0x1000, bytes: [0] }]), // mov al, es:[2000h]; mov ss:[1000h], al
    ]);
    expect(jumped?.vector).toBe(-1);
    expect(jumped?.eip).toBe(CODE_ADDR + 3);
    expect(jumped?.regs[0]).toBe(7);
    expect(segmentOverride?.vector).toBe(-1);
    expect([...(segmentOverride?.memoryChanges ?? [])]).toEqual([0x10005a]);
  });

  test('isolates cases: segment registers, flags and memory do not leak into the next case', () => {
    const pattern = new Uint8Array(0x2000);
    fillPattern(pattern, 1234);
    const results = runner.run([
      // Null DS and ES, set DF, AC and NT (POPFD).
      handCase([0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x68, 0x00, 0x44, 0x04, 0x00, 0x9d], { esp: 0x2800 }),
      handCase([0xc7, 0x05, 0x00, 0x10, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde], {}), // mov dword [1000h], 0deadbeefh

      // The next case: a load through DS and a string store through ES work; flags are the case's own.
      handCase([0x8b, 0x03, 0xaa], { ebx: 0x1000, edi: 0x1100 }),
    ]);
    expect(results[0]?.vector).toBe(-1);
    expect((results[0]?.eflags ?? 0) & (DF | AC | NT)).toBe(DF | AC | NT);
    expect(results[1]?.vector).toBe(-1);
    expect([...(results[1]?.memoryChanges ?? [])].map((x) => x >>> 8)).toEqual([0x1000, 0x1001, 0x1002, 0x1003].filter((_, i) => [0xef, 0xbe, 0xad, 0xde][i] !== pattern[i]));
    const next = results[2];
    expect(next?.vector).toBe(-1);
    expect(next?.regs[0]).toBe((pattern[0]! | pattern[1]! << 8 | pattern[2]! << 16 | pattern[3]! << 24) >>> 0);
    expect(next?.regs[7]).toBe(0x1101); // DF clear: STOSB went up
    expect((next?.eflags ?? 0) & (DF | AC | NT)).toBe(0);
  });

  test('a runaway case ends with the timeout vector and the next case still runs', () => {
    const [runaway, after] = runner.run([handCase([0xeb, 0xfe], {}), handCase([0x40], { eax: 1 })]); // jmp $
    expect(runaway?.vector).toBe(VECTOR_TIMEOUT);
    expect(runaway?.eip).toBe(CODE_ADDR);
    expect(after?.vector).toBe(-1);
    expect(after?.regs[0]).toBe(2);
  }, 30_000);

  test('splits a batch into several QEMU runs and keeps the order', () => {
    const split = QemuRunner.build(undefined, { casesPerRun: 3 });
    try {
      const cases = Array.from({ length: 7 }, (_, i) => handCase([0x05, i, 0, 0, 0], { eax: 0x100 })); // add eax, i
      expect(split.run(cases).map((r) => r.regs[0])).toEqual(cases.map((_, i) => 0x100 + i));
    } finally {
      split.dispose();
    }
  });

  // The listed deviations still hold for the installed QEMU; when a newer QEMU fixes one, the test
  // fails so that the entry is removed from qemu-deviations.ts.
  describe('QEMU deviations listed in qemu-deviations.ts still occur', () => {
    test('F6 /1 (TEST alias) raises #UD', () => {
      const [r] = runner.run([handCase([0xf6, 0xc8, 0x01], { eax: 1 })]);
      expect(r?.vector).toBe(6);
    });

    test('ICEBP raises #UD instead of #DB', () => {
      const [r] = runner.run([handCase([0xf1], {})]);
      expect(r?.vector).toBe(6);
    });

    test('LOCK MOV Ev,Gv runs instead of raising #UD', () => {
      const [r] = runner.run([handCase([0xf0, 0x89, 0xc0], {})]);
      expect(r?.vector).toBe(-1);
    });

    test('LOCK BT with a register operand aborts QEMU (so such cases are skipped); the error names the case', () => {
      const lockBt = handCase([0xf0, 0x0f, 0xba, 0xe2, 0x1d], {});
      expect(findQemuSkip(lockBt)?.form).toMatch(/^LOCK BT/);
      const onePerRun = QemuRunner.build(undefined, { casesPerRun: 1 });
      let failure: unknown;
      try {
        onePerRun.run([handCase([0x90], {}), lockBt]); // the second QEMU run aborts
      } catch (error) {
        failure = error;
      } finally {
        onePerRun.dispose();
      }
      expect(failure).toBeInstanceOf(QemuRunError);
      expect((failure as QemuRunError).completed).toBe(1);
      expect((failure as QemuRunError).message).toMatch(/stopped after 1 of 2 cases: .*the case running then: .*f0 0f ba e2 1d/s);
    });
  });
});

test('a missing kernel source is a typed error with the install command', () => {
  expect(() => QemuRunner.build('/nonexistent/')).toThrow(QemuRunnerUnavailableError);
  expect(() => QemuRunner.build('/nonexistent/')).toThrow(QEMU_INSTALL_HINT);
});
