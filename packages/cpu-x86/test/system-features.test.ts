import { describe, expect, it } from 'vitest';
import { pmMachine, record } from './support/pm-program.js';

const mem32 = (m: ReturnType<typeof pmMachine>, a: number): number => m.memory.readPhys32(a) >>> 0;

/** TSS2 (selector 0x40, at 0x700) prepared to start at `label` with flat ring-0 segments. */
const TSS2 = (label: string): string => `
  mov dword [0x700+0x20], ${label}
  mov dword [0x700+0x24], 2
  mov dword [0x700+0x38], 0x9400
  mov dword [0x700+0x4c], 0x08
  mov dword [0x700+0x50], 0x10
  mov dword [0x700+0x54], 0x10
  mov dword [0x700+0x48], 0x10`;

describe('privilege transfers and tasks', () => {
  it('far CALL through a call gate to ring 0 copies parameters and RETF returns to ring 3', () => {
    const main = `
      mov eax, cg_target
      mov word [A(gdt)+0x50], ax
      mov word [A(gdt)+0x52], 0x08
      mov word [A(gdt)+0x54], 0xec01
      shr eax, 16
      mov word [A(gdt)+0x56], ax
      mov eax, user
      jmp to_ring3
    user:
      push dword 0x1234
      call 0x53:0
      mov [0x580], eax
      mov [0x58c], esp
      int 0x81
    cg_target:
      mov eax, [esp+8]
      mov ebx, [esp+4]
      mov [ss:0x584], ebx
      mov [ss:0x588], cs
      retf 4`;
    const m = pmMachine(main);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x580)).toBe(0x1234);
    expect(mem32(m, 0x584)).toBe(0x1b);
    expect(mem32(m, 0x588) & 0xffff).toBe(0x08);
    expect(mem32(m, 0x58c)).toBe(0x8800);
  });

  it('JMP to a TSS switches tasks and moves the busy bit', () => {
    const m = pmMachine(`${TSS2('task2')}
      jmp 0x40:0
    task2:
      str ax
      movzx eax, ax
      mov [0x590], eax
      movzx eax, byte [A(gdt)+0x28+5]
      mov [0x594], eax
      movzx eax, byte [A(gdt)+0x40+5]
      mov [0x598], eax
      hlt`);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x590)).toBe(0x40);
    expect(mem32(m, 0x594)).toBe(0x89);
    expect(mem32(m, 0x598)).toBe(0x8b);
    expect(m.cpu.getRegisters().cr0 & 8).toBe(8); // CR0.TS set by the switch
  });

  it('CALL to a TSS nests (NT, back-link) and IRET returns to the caller task', () => {
    const m = pmMachine(`${TSS2('task2')}
      mov eax, 0x55
      call 0x40:0
      mov [0x5a0], eax
      str ax
      movzx eax, ax
      mov [0x5a4], eax
      movzx eax, byte [A(gdt)+0x40+5]
      mov [0x5a8], eax
      hlt
    task2:
      pushfd
      pop eax
      mov [0x5ac], eax
      iretd`);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x5a0)).toBe(0x55);
    expect(mem32(m, 0x5a4)).toBe(0x28);
    expect(mem32(m, 0x5a8)).toBe(0x89);
    expect(mem32(m, 0x5ac) & 0x4000).toBe(0x4000);
  });

  it('the TSS I/O permission bitmap allows and denies single ports at CPL 3', () => {
    const m = pmMachine(`
      mov word [A(gdt)+0x58], 0x0100
      mov word [A(gdt)+0x5a], 0x0600
      mov word [A(gdt)+0x5c], 0x8900
      mov word [A(gdt)+0x5e], 0
      mov byte [0x668 + 0x10], 0x02
      mov ax, 0x58
      ltr ax
      mov eax, user
      jmp to_ring3
    user:
      mov al, 1
      out 0x80, al
      out 0x81, al
      int 0x81`);
    m.cpu.run(100000);
    expect(m.io.writes).toEqual([[0x80, 1, 1]]);
    expect(record(m)).toMatchObject({ vector: 13, error: 0 });
  });

  it('LAR, LSL, VERR, VERW', () => {
    const m = pmMachine(`
      mov ecx, 0x10
      lar eax, ecx
      mov [0x5b0], eax
      lsl ebx, ecx
      mov [0x5b4], ebx
      mov dx, 0x08
      verr dx
      setz [0x5b8]
      verw dx
      setz [0x5b9]
      xor ecx, ecx
      lar eax, ecx
      setz [0x5ba]
      hlt`);
    m.cpu.run(100000);
    expect(mem32(m, 0x5b0)).toBe(0x00c09300);
    expect(mem32(m, 0x5b4)).toBe(0xffffffff);
    expect([m.memory.ram[0x5b8], m.memory.ram[0x5b9], m.memory.ram[0x5ba]]).toEqual([1, 0, 0]);
  });
});

describe('interrupt timing', () => {
  it('NMI is delivered through vector 2', () => {
    const m = pmMachine('l: jmp l');
    expect(m.cpu.run(5000)).toBe('budget');
    m.cpu.raiseNmi();
    m.cpu.run(5000);
    expect(record(m).vector).toBe(2);
  });

  it('STI; HLT: the interrupt shadow lets HLT execute, and the IRET returns after it', () => {
    const m = pmMachine('sti\nhere: hlt\nmov dword [0x570], 1\ncli\nhlt', {
      int82: 'mov eax, [esp]\nmov [0x578], eax\niretd',
    });
    m.irq.pending.push(0x82);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x570)).toBe(1);
    expect(m.memory.ram[mem32(m, 0x578) - 1]).toBe(0xf4);
  });

  it('interrupts stay masked while IF = 0', () => {
    const m = pmMachine('mov ecx, 1000\nl: loop l\nhlt');
    m.irq.pending.push(0x82);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(m.irq.pending).toEqual([0x82]);
  });

  it('TF single-steps: #DB after the instruction following POPF, with DR6.BS', () => {
    const m = pmMachine(`
      pushfd
      or dword [esp], 0x100
      popfd
      mov eax, 1
    second:
      mov ebx, 2
      hlt`, { extra: '' });
    m.cpu.run(100000);
    const r = record(m);
    expect(r.vector).toBe(1);
    expect(m.memory.ram[r.eip]).toBe(0xbb); // the trap is taken before "mov ebx, 2"
  });
});
