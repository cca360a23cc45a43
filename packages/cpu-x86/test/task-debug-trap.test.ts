/// <reference types="node" />
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { machine } from './support/harness.js';
import { pmMachine, pmProgram, record } from './support/pm-program.js';
import { runMultibootKernel } from './system/test-machine.js';

const mem32 = (m: ReturnType<typeof pmMachine>, a: number): number => m.memory.readPhys32(a) >>> 0;
const DR6_BT = 0x8000;

/** TSS2 (selector 0x40, at 0x700) prepared to start at `label` with flat ring-0 segments, T bit `t`. */
const TSS2 = (label: string, t: number): string => `
  mov dword [0x700+0x20], ${label}
  mov dword [0x700+0x24], 2
  mov dword [0x700+0x38], 0x9400
  mov dword [0x700+0x4c], 0x08
  mov dword [0x700+0x50], 0x10
  mov dword [0x700+0x54], 0x10
  mov dword [0x700+0x48], 0x10
  mov word [0x700+0x64], ${t}`;

describe('TSS debug trap (T bit)', () => {
  it('a JMP into a task whose TSS has T set raises #DB with DR6.BT before its first instruction', () => {
    const m = pmMachine(`${TSS2('task2', 1)}
      jmp 0x40:0
    task2:
      mov dword [0x590], 1
      hlt`);
    expect(m.cpu.run(100000)).toBe('halt');
    const task2 = mem32(m, 0x50c);
    expect(record(m)).toMatchObject({ vector: 1, error: -1, cs: 0x08 });
    expect(m.memory.ram[task2]).toBe(0xc7); // the saved EIP is task2's first instruction (MOV m32, imm32)
    expect(mem32(m, 0x590)).toBe(0); // which has not run
    const s = m.cpu.saveState();
    expect(s.dr[6] & DR6_BT).toBe(DR6_BT);
    expect(s.segments[7].selector).toBe(0x40); // delivered in the new task, on its stack
    expect(mem32(m, 0x9400 - 12)).toBe(task2);
  });

  it('with stopOnException the CPU stops on the #DB trap, EIP at the new task\'s first instruction', () => {
    const m = machine({ stopOnException: true });
    m.memory.ram.set(pmProgram(`${TSS2('task2', 1)}
      jmp 0x40:0
    task2:
      mov dword [0x590], 1
      hlt`), 0x7c00);
    m.cpu.setRegisters({ cs: 0, eip: 0x7c00, esp: 0x7000, ss: 0, ds: 0 });
    expect(m.cpu.run(100000)).toBe('exception');
    expect(m.cpu.lastException).toEqual({ vector: 1, errorCode: null });
    expect(m.memory.ram[m.cpu.getRegisters().eip]).toBe(0xc7);
    expect(m.cpu.saveState().segments[7].selector).toBe(0x40);
    expect(m.cpu.saveState().dr[6] & DR6_BT).toBe(DR6_BT);
  });

  it('without the T bit the same switch raises nothing', () => {
    const m = pmMachine(`${TSS2('task2', 0)}
      jmp 0x40:0
    task2:
      mov dword [0x590], 1
      hlt`);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x590)).toBe(1);
    expect(mem32(m, 0x500)).toBe(0);
    expect(m.cpu.saveState().dr[6] & DR6_BT).toBe(0);
  });

  it('an exception through a task gate pushes its error code in the new task, then the #DB follows', () => {
    const m = pmMachine(`${TSS2('task2', 1)}
      mov word [A(idt) + 13*8], 0
      mov word [A(idt) + 13*8 + 2], 0x40
      mov word [A(idt) + 13*8 + 4], 0x8500
      mov word [A(idt) + 13*8 + 6], 0
      mov ax, 0x1230
      mov ds, ax                 ; beyond the GDT limit: #GP(0x1230) through the task gate
    task2:
      mov dword [0x590], 1
      hlt`);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(record(m)).toMatchObject({ vector: 1, error: -1 });
    const task2 = mem32(m, 0x50c);
    expect(m.memory.ram[task2]).toBe(0xc7);
    expect(mem32(m, 0x9400 - 4)).toBe(0x1230); // the #GP error code, pushed first
    expect(mem32(m, 0x9400 - 16)).toBe(task2); // then the #DB frame below it
    expect(m.cpu.saveState().dr[6] & DR6_BT).toBe(DR6_BT);
  });

  it('IRET back to a nesting task whose TSS has T set traps at the instruction after the CALL', () => {
    const m = pmMachine(`${TSS2('task2', 0)}
      mov word [0x600+0x64], 1
      call 0x40:0
    back:
      mov dword [0x590], 1
      hlt
    task2:
      mov dword [0x594], 2
      iretd`);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x594)).toBe(2); // task 2 ran (its TSS has no T bit)
    expect(record(m)).toMatchObject({ vector: 1, error: -1 });
    expect(mem32(m, 0x590)).toBe(0);
    const back = mem32(m, 0x50c);
    expect(m.memory.ram[back]).toBe(0xc7);
    expect(m.cpu.saveState().segments[7].selector).toBe(0x28);
  });
});

describe('TSS debug trap in a multiboot kernel', () => {
  it('prints the #DB with DR6.BT at the new task\'s first instruction, once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpu-x86-tbit-'));
    try {
      const here = fileURLToPath(new URL('.', import.meta.url));
      const out = join(dir, 'k.bin');
      execFileSync('nasm', ['-f', 'bin', '-I', join(here, '../scripts/systest/'), '-o', out, join(here, 'programs/task-debug-trap.asm')], { stdio: 'pipe' });
      const run = runMultibootKernel(new Uint8Array(readFileSync(out)));
      expect(run.exited).toBe(true);
      // QEMU (TCG, which ignores the T bit) prints the same without the "db:" line and with both
      // counts 0.
      expect(run.output).toBe([
        'boot ok',
        'jmp to a task with T set',
        'db: dr6 bits=00008000 eip - task2_entry=00000000 tr=00000060 ',
        'in task 2',
        'db count=00000001 ',
        'back in task 1',
        'db count=00000001 ',
        'done',
        '',
      ].join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
