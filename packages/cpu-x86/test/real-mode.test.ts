import { describe, expect, it } from 'vitest';
import { asm, machine } from './support/harness.js';

function realMachine(source: string): ReturnType<typeof machine> {
  const m = machine({});
  m.memory.ram.set(asm(source, 16, 0x7c00), 0x7c00);
  m.cpu.setRegisters({ cs: 0, ds: 0, es: 0, ss: 0, eip: 0x7c00, esp: 0x7000 });
  return m;
}

describe('real mode', () => {
  it('starts at the reset vector F000:FFF0 (linear FFFFFFF0)', () => {
    const m = machine({});
    const rom = new Uint8Array(0x10000).fill(0xf4);
    m.memory.addRom(0xffff0000 as never, rom, 'bios');
    expect(m.cpu.getRegisters()).toMatchObject({ cs: 0xf000, eip: 0xfff0 });
    expect(m.cpu.run(10)).toBe('halt');
    expect(m.cpu.getRegisters().eip).toBe(0xfff1);
  });

  it('segment * 16 addressing', () => {
    const m = realMachine('mov ax, 0x1234\nmov ds, ax\nmov word [0x10], 0xbeef\nhlt');
    m.cpu.run(100);
    expect(m.memory.readPhys16(0x12350)).toBe(0xbeef);
  });

  it('INT n through the IVT pushes FLAGS/CS/IP and IRET returns', () => {
    const m = realMachine(`
      xor ax, ax
      mov es, ax
      mov word [es:0x21*4], handler
      mov word [es:0x21*4+2], 0
      sti
      int 0x21
      mov cx, 0x77
      hlt
    handler:
      mov bx, sp
      mov dx, [ss:bx+4]   ; pushed FLAGS (IF was set)
      pushf
      pop si              ; IF cleared inside the handler
      mov bx, 0x5555
      iret`);
    expect(m.cpu.run(1000)).toBe('halt');
    const r = m.cpu.getRegisters();
    expect(r.ebx & 0xffff).toBe(0x5555);
    expect(r.ecx & 0xffff).toBe(0x77);
    expect(r.edx & 0x200).toBe(0x200);
    expect(r.esi & 0x200).toBe(0);
    expect(r.esp).toBe(0x7000);
  });

  it('divide error through IVT vector 0 returns to the faulting instruction', () => {
    const m = realMachine(`
      mov word [0], handler
      mov word [2], 0
      mov cl, 0
      mov ax, 10
      div cl
      hlt
    handler:
      mov cl, 2
      iret`);
    expect(m.cpu.run(1000)).toBe('halt');
    expect(m.cpu.getRegisters().eax & 0xff).toBe(5);
  });

  it('a word access at offset FFFF exceeds the 64 KiB limit (#GP through IVT 13)', () => {
    const m = realMachine(`
      mov word [13*4], handler
      mov word [13*4+2], 0
      mov bx, 0xffff
      mov ax, [bx]
      hlt
    handler:
      mov dx, 0x4747
      hlt`);
    m.cpu.run(1000);
    expect(m.cpu.getRegisters().edx & 0xffff).toBe(0x4747);
  });

  it('16-bit addressing forms wrap at 64 KiB and BP defaults to SS', () => {
    const m = realMachine(`
      mov ax, 0x2000
      mov ss, ax
      mov bp, 0x10
      mov word [bp+si], 0x1111
      mov bx, 0xfff0
      mov si, 0x0020
      mov word [bx+si], 0x2222   ; offset wraps to 0x0010 in DS (0)
      hlt`);
    m.cpu.run(1000);
    expect(m.memory.readPhys16(0x20010)).toBe(0x1111);
    expect(m.memory.readPhys16(0x10)).toBe(0x2222);
  });

  it('32-bit operand and address size prefixes in real mode', () => {
    const m = realMachine(`
      mov eax, 0x12345678
      mov ebx, 0x100
      mov [ebx*2], eax
      mov edx, [0x200]
      hlt`);
    m.cpu.run(1000);
    expect(m.cpu.getRegisters().edx).toBe(0x12345678);
  });

  it('switches to protected mode and back to real mode', () => {
    const m = realMachine(`
      lgdt [gdtd]
      mov eax, cr0
      or al, 1
      mov cr0, eax
      jmp 0x08:pm
    pm:
      mov ax, 0x10
      mov ds, ax
      mov eax, cr0
      and al, 0xfe
      mov cr0, eax
      jmp 0:rm
    rm:
      xor ax, ax
      mov ds, ax
      mov word [0x600], 0xabcd
      hlt
    align 8
    gdt: dq 0
      dq 0x00009a000000ffff
      dq 0x000092000000ffff
    gdtd: dw 23
      dd gdt`);
    expect(m.cpu.run(1000)).toBe('halt');
    expect(m.memory.readPhys16(0x600)).toBe(0xabcd);
    expect(m.cpu.getRegisters().cr0 & 1).toBe(0);
  });
});
