/// <reference types="node" />
import { beforeAll, describe, expect, test } from 'vitest';
import { AF, OF, PF, SF, STATUS } from './flags.js';
import { handCase } from './hand-case.js';
import { CODE_ADDR } from './layout.js';
import { hostRefuses32BitPrograms, NativeRunner } from './native-runner.js';

// The native half of the differential tester must itself be right: these cases have known answers.
let runner: NativeRunner;
// Skipped, saying why, on a host whose kernel runs no 32-bit programs (native-runner.ts).
const refusal = hostRefuses32BitPrograms();
if (refusal !== null) console.warn(`native runner tests SKIPPED: ${refusal}`);
beforeAll(() => {
  if (refusal !== null) return;
  runner = NativeRunner.build(); // throws with the apt-get command when gcc -m32 / nasm are missing
});

describe.skipIf(refusal !== null)('native runner', () => {
  test('returns registers and flags after ADD EAX,EBX (signed overflow)', () => {
    const [r] = runner.run([handCase([0x01, 0xd8], { eax: 0x7fffffff, ebx: 1 })]);
    expect(r?.vector).toBe(-1);
    expect(r?.regs[0]).toBe(0x80000000);
    expect((r?.eflags ?? 0) & STATUS).toBe(OF | SF | AF | PF);
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

  test('PUSH writes below ESP in the stack page', () => {
    const [r] = runner.run([handCase([0x50], { eax: 0x01020304, esp: 0x2800 }, 0, [{ address: 0x27fc, bytes: [0, 0, 0, 0] }])]);
    expect(r?.regs[4]).toBe(0x27fc);
    expect([...(r?.memoryChanges ?? [])]).toEqual([0x27fc04, 0x27fd03, 0x27fe02, 0x27ff01]);
  });

  test('maps CPL 3 faults to vectors and error codes', () => {
    const results = runner.run([
      handCase([0xcd, 0x21], {}), // INT 21h: gate DPL 0 -> #GP(21h*8+2)
      handCase([0x0f, 0x0b], {}), // UD2
      handCase([0xf4], {}), // HLT at CPL 3
      handCase([0xcc], {}), // INT3 traps after the instruction
      handCase([0x8b, 0x07], { edi: 0x800 }), // below the window: not present page
    ]);
    expect(results.map((r) => r.vector)).toEqual([13, 6, 13, 3, 14]);
    expect(results[0]?.errorCode).toBe(0x10a);
    expect(results[3]?.eip).toBe(CODE_ADDR + 1);
    expect((results[4]?.errorCode ?? 0) & 7).toBe(4); // user-mode read of a not-present page
  });

  test('starts every case from the seeded memory pattern', () => {
    const [r] = runner.run([handCase([0x8b, 0x03], { ebx: 0x1000 })]);
    const pattern = new Uint8Array(0x2000);
    // Same generator as memory-pattern.ts.
    let x = 1234;
    for (let i = 0; i < 4; i += 4) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      pattern[i] = x & 0xff;
    }
    expect(r?.regs[3]).toBe(0x1000);
    expect((r?.regs[0] ?? 0) & 0xff).toBe(pattern[0]);
  });
});
