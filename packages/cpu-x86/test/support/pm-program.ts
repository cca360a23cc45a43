import { asm, machine, type Machine } from './harness.js';
import type { CpuOptions } from '@typevisor/cpu-x86';

/**
 * A protected-mode test program: starts in real mode at 0000:7C00, loads a GDT/IDT, enters 32-bit
 * protected mode at CPL 0 with a TSS loaded, and jumps to `test_main` (the caller's code).
 *
 * GDT: 08 code32 DPL0, 10 data DPL0, 1B code32 DPL3, 23 data DPL3, 28 TSS (0x600), 30 code16,
 * 38 data16, 40 TSS2 (0x700), 48 not-present data, 50-68 free slots (zero) for the test. Exception handlers record vector -> [0x500],
 * error code (or -1) -> [0x504], CR2 -> [0x508], faulting EIP -> [0x50C], CS -> [0x510], EFLAGS -> [0x514]
 * and halt. Vectors 0x80/0x81/0x82 (DPL 3 gates; 0x82 an interrupt gate) use the caller's `int80`,
 * `int81`, `int82` code when given, else record-and-halt. Helpers: `setup_paging` (identity maps
 * 0-4 MiB through a page table at 0x21000, directory 0x20000, user/writable), `to_ring3` (jumps to
 * the address in EAX at CPL 3 with ESP 0x8800, DS/ES = 0x23).
 */
export function pmProgram(main: string, handlers: { int80?: string; int81?: string; int82?: string; extra?: string } = {}): Uint8Array {
  const vectorsWithError = new Set([8, 10, 11, 12, 13, 14, 17]);
  let exc = '';
  for (let v = 0; v < 32; v++) {
    exc += `exc${v}: mov dword [ss:0x500], ${v}\n`;
    exc += vectorsWithError.has(v) ? `pop dword [ss:0x504]\njmp exc_common\n` : `mov dword [ss:0x504], -1\njmp exc_common\n`;
  }
  const soft = (n: string, code: string | undefined): string =>
    code ?? `mov dword [ss:0x500], 0x${n}\nmov dword [ss:0x504], -1\njmp exc_common\n`;
  let idt = '';
  for (let v = 0; v < 32; v++) idt += `GATE exc${v}, 0x08, 0x8E00\n`;
  for (let v = 32; v < 0x80; v++) idt += 'dq 0\n';
  idt += 'GATE int80, 0x08, 0xEE00\nGATE int81, 0x08, 0xEE00\nGATE int82, 0x08, 0x8E00\n';
  const source = `
%define A(x) ((x) - $$ + 0x7c00)
%macro GATE 3
  dw A(%1) & 0xffff
  dw %2
  dw %3
  dw A(%1) >> 16
%endmacro
bits 16
start16:
  cli
  xor ax, ax
  mov ds, ax
  lgdt [A(gdt_desc)]
  lidt [A(idt_desc)]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  jmp dword 0x08:A(pm32)
bits 32
pm32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov fs, ax
  mov gs, ax
  mov ss, ax
  mov esp, 0x9000
  mov dword [0x604], 0x9800
  mov dword [0x608], 0x10
  mov word [0x666], 0x68
  mov ax, 0x28
  ltr ax
  jmp test_main
exc_common:
  mov eax, cr2
  mov [ss:0x508], eax
  mov eax, [esp]
  mov [ss:0x50c], eax
  mov eax, [esp+4]
  mov [ss:0x510], eax
  mov eax, [esp+8]
  mov [ss:0x514], eax
  hlt
  jmp $
${exc}
int80:
${soft('80', handlers.int80)}
int81:
${soft('81', handlers.int81)}
int82:
${soft('82', handlers.int82)}
setup_paging:
  mov edi, 0x21000
  mov eax, 7
  mov ecx, 1024
.l: stosd
  add eax, 4096
  loop .l
  mov dword [0x20000], 0x21007
  mov eax, 0x20000
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  ret
to_ring3:
  mov bx, 0x23
  mov ds, bx
  mov es, bx
  push dword 0x23
  push dword 0x8800
  push dword 0x202
  push dword 0x1b
  push eax
  iretd
test_main:
${main}
${handlers.extra ?? ''}
align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
  dq 0x00cffa000000ffff
  dq 0x00cff2000000ffff
  dw 0x0067, 0x0600, 0x8900, 0x0000
  dq 0x00009a000000ffff
  dq 0x000092000000ffff
  dw 0x0067, 0x0700, 0x8900, 0x0000
  dq 0x00cf12000000ffff
  times 4 dq 0
gdt_end:
gdt_desc:
  dw gdt_end - gdt - 1
  dd A(gdt)
align 8
idt:
${idt}
idt_end:
idt_desc:
  dw idt_end - idt - 1
  dd A(idt)
`;
  return asm(source, 16, 0x7c00);
}

/** Machine with the program loaded at 0x7C00 in real mode (delivering exceptions through the IDT). */
export function pmMachine(main: string, handlers: Parameters<typeof pmProgram>[1] = {}, options: Partial<CpuOptions> = {}, hostAreaBytes = 0): Machine {
  const m = machine(options, 4 << 20, hostAreaBytes);
  m.memory.ram.set(pmProgram(main, handlers), 0x7c00);
  m.cpu.setRegisters({ cs: 0, eip: 0x7c00, esp: 0x7000, ss: 0, ds: 0 });
  return m;
}

/** The exception record written by the handlers. */
export function record(m: Machine): { vector: number; error: number; cr2: number; eip: number; cs: number; eflags: number } {
  const r = (a: number): number => m.memory.readPhys32(a) >>> 0;
  return { vector: r(0x500), error: r(0x504) | 0, cr2: r(0x508), eip: r(0x50c), cs: r(0x510), eflags: r(0x514) };
}
