/// <reference types="node" />
import { beforeAll, describe, expect, test } from 'vitest';
import { AF, CF, PF, SF, STATUS } from './flags.js';
import { handCase } from './hand-case.js';
import { CODE_ADDR } from './layout.js';
import { LongModeRunner, longModeRunnerUnavailable } from './long-mode-runner.js';
import { longModeCode } from './long-mode-subset.js';

// The long-mode half of the differential tester must itself be right: the rewriting of the code and
// these cases with known answers (run on this host's CPU in a 64-bit process).
const missing = longModeRunnerUnavailable();
if (missing !== null) console.warn(`long-mode runner tests SKIPPED: ${missing}`);
let runner: LongModeRunner;
beforeAll(() => {
  if (missing === null) runner = LongModeRunner.build();
});

describe('which cases run in long mode, and how their code is rewritten', () => {
  const code = (bytes: number[]): string => {
    const r = longModeCode(handCase(bytes, {}));
    return typeof r === 'string' ? r : [...r.code].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  };
  test('register-only instructions run as they are', () => {
    expect(code([0x01, 0xd8, 0x0f, 0xaf, 0xc1])).toBe('01 d8 0f af c1'); // add eax, ebx; imul eax, ecx
  });
  test('memory operands, string instructions, XLAT and LOOP get an address-size prefix', () => {
    expect(code([0x89, 0x03])).toBe('67 89 03'); // mov [ebx], eax
    expect(code([0xf3, 0xa5])).toBe('67 f3 a5'); // rep movsd
    expect(code([0xd7])).toBe('67 d7'); // xlat
    expect(code([0xa1, 0x00, 0x10, 0x00, 0x00])).toBe('67 a1 00 10 00 00'); // mov eax, [moffs32]
  });
  test('branch displacements follow the inserted prefixes', () => {
    // jmp +2 over mov [ebx], eax; then a backward jcc to the start
    expect(code([0xeb, 0x02, 0x89, 0x03, 0x75, 0xfa])).toBe('eb 03 67 89 03 75 f9');
    expect(code([0x8b, 0x07, 0xe2, 0xfc])).toBe('67 8b 07 67 e2 fa'); // mov eax, [edi]; loop back to it
  });
  test('encodings that mean something else in long mode are written as their 32-bit equivalents', () => {
    expect(code([0x40, 0x4f, 0x66, 0x48])).toBe('ff c0 ff cf 66 ff c8'); // INC EAX, DEC EDI, DEC AX (REX prefixes in long mode)
    expect(code([0x82, 0xc0, 0x05])).toBe('80 c0 05'); // 82 is invalid in long mode
    // [disp32] without SIB is RIP-relative in long mode; with a SIB byte of no base and no index it is absolute in both
    expect(code([0x8b, 0x05, 0, 0x10, 0, 0])).toBe('67 8b 04 25 00 10 00 00');
    expect(code([0x8b, 0x04, 0x25, 0, 0x10, 0, 0])).toBe('67 8b 04 25 00 10 00 00');
  });
  test('what means something else in long mode is left out, saying why', () => {
    expect(code([0x50])).toBe('opcode 50'); // PUSH: 8-byte stack slots
    expect(code([0x67, 0x8b, 0x07])).toBe('16-bit addressing');
    expect(code([0x64, 0x8b, 0x03])).toBe('FS/GS override');
    expect(code([0x66, 0x75, 0x00])).toBe('branch with operand-size prefix');
    expect(code([0xeb, 0x05, 0x90])).toBe('branch to outside the snippet or into an instruction');
    expect(code([0xeb, 0x01, 0xb8, 0, 0, 0, 0])).toBe('branch to outside the snippet or into an instruction');
    expect(code([0xcd, 0x17])).toBe('INT n to a reserved vector (host kernel entries)');
  });
});

describe.skipIf(missing !== null)('long-mode runner', () => {
  test('returns 32-bit registers and flags: INC EAX (rewritten as FF /0) from 0x7FFFFFFF, then SUB ECX,EDX borrowing', () => {
    const [r] = runner.run([handCase([0x40, 0x29, 0xd1], { eax: 0x7fffffff, ecx: 0, edx: 1 })]);
    expect(r?.vector).toBe(-1);
    expect([r?.regs[0], r?.regs[1]]).toEqual([0x80000000, 0xffffffff]);
    expect((r?.eflags ?? 0) & STATUS).toBe(CF | SF | AF | PF);
    expect(r?.eip).toBe(CODE_ADDR + 3);
  });

  test('reports a fault at the original instruction address (after a rewritten one)', () => {
    // mov [ebx], eax (rewritten one byte longer); div ecx with ECX = 0
    const [r] = runner.run([handCase([0x89, 0x03, 0xf7, 0xf1], { eax: 5, ebx: 0x1000, ecx: 0 }, 0, [{ address: 0x1000, bytes: [0, 0, 0, 0] }])]);
    expect(r?.vector).toBe(0);
    expect(r?.eip).toBe(CODE_ADDR + 2);
    expect([...(r?.memoryChanges ?? [])]).toEqual([0x100005]);
  });

  test('32-bit addresses wrap at 4 GiB as in 32-bit mode', () => {
    // mov eax, [ebx + 0x2000] with EBX = 0xFFFFF000: 0x1000 in 32-bit arithmetic
    const [r] = runner.run([handCase([0x8b, 0x83, 0x00, 0x20, 0x00, 0x00], { ebx: 0xfffff000 }, 0, [{ address: 0x1000, bytes: [0x78, 0x56, 0x34, 0x12] }])]);
    expect(r?.vector).toBe(-1);
    expect(r?.regs[0]).toBe(0x12345678);
  });

  test('LOOP counts in ECX: from 0 it wraps to 0xFFFFFFFF and branches', () => {
    // loop +1 with ECX = 0 skips the STC; the CMC after it sets CF (clear before)
    const [r] = runner.run([handCase([0xe2, 0x01, 0xf9, 0xf5], { ecx: 0 })]);
    expect(r?.vector).toBe(-1);
    expect(r?.regs[1]).toBe(0xffffffff);
    expect((r?.eflags ?? 0) & CF).toBe(CF);
  });
});
