import { describe, expect, it } from 'vitest';
import { guestPhys } from '@typevisor/mmu';
import { pmMachine, record } from './support/pm-program.js';

const mem32 = (m: ReturnType<typeof pmMachine>, a: number): number => m.memory.readPhys32(a) >>> 0;

describe('protected mode', () => {
  it('enters 32-bit protected mode from real mode and runs flat code', () => {
    const m = pmMachine('mov eax, 0x1234\nmov [0x520], eax\nhlt');
    expect(m.cpu.run(10000)).toBe('halt');
    expect(mem32(m, 0x520)).toBe(0x1234);
    expect(m.cpu.getRegisters().cs).toBe(0x08);
  });

  it('ring 3 -> ring 0 through an interrupt gate and back with IRET (stack switch from the TSS)', () => {
    const m = pmMachine('mov eax, user\njmp to_ring3\nuser:\nint 0x80\nint 0x80\nmov eax, [0x530]\nmov [0x534], eax\nint 0x81', {
      int80: 'mov eax, [esp+4]\nmov [0x520], eax\nmov eax, [esp+16]\nmov [0x524], eax\nmov [0x528], esp\nmov eax,[esp+12]\nmov [0x52c], eax\nadd dword [0x530], 1\niretd',
    });
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x530)).toBe(2);
    expect(mem32(m, 0x534)).toBe(2);
    expect(mem32(m, 0x520)).toBe(0x1b);
    expect(mem32(m, 0x524)).toBe(0x23);
    expect(mem32(m, 0x528)).toBe(0x9800 - 20);
    expect(mem32(m, 0x52c)).toBe(0x8800);
    expect(record(m).vector).toBe(0x81);
  });

  it('#GP(0) for HLT at CPL 3, reported with the user CS and the faulting EIP', () => {
    const m = pmMachine('mov eax, user\njmp to_ring3\nuser:\nnop\nhlt_here: hlt');
    expect(m.cpu.run(100000)).toBe('halt');
    const r = record(m);
    expect(r.vector).toBe(13);
    expect(r.error).toBe(0);
    expect(r.cs).toBe(0x1b);
    expect(m.memory.ram[r.eip]).toBe(0xf4);
  });

  it('#GP(selector) for a selector beyond the GDT limit, #NP(selector) for a not-present segment', () => {
    const a = pmMachine('mov ax, 0x70\nmov ds, ax\nhlt');
    a.cpu.run(10000);
    expect(record(a)).toMatchObject({ vector: 13, error: 0x70 });
    const b = pmMachine('mov ax, 0x48\nmov es, ax\nhlt');
    b.cpu.run(10000);
    expect(record(b)).toMatchObject({ vector: 11, error: 0x48 });
    const c = pmMachine('mov ax, 0x0\nmov ss, ax\nhlt');
    c.cpu.run(10000);
    expect(record(c)).toMatchObject({ vector: 13, error: 0 });
    const d = pmMachine('mov ax, 0x23\nmov ds, ax\nmov ax,0x10\nmov ds,ax\nmov ax, 0x08\nmov ds, ax\nmov ax,0x10\nmov ds,ax\nmov ax, 0x1b\nmov ss, ax\nhlt');
    d.cpu.run(10000);
    expect(record(d)).toMatchObject({ vector: 13, error: 0x18 });
  });

  it('null data segments fault on use with #GP(0)', () => {
    const m = pmMachine('xor eax, eax\nmov es, ax\nmov dword [es:0x100], 1\nhlt');
    m.cpu.run(10000);
    expect(record(m)).toMatchObject({ vector: 13, error: 0 });
  });

  it('page faults report CR2 and the error code (supervisor read, user write to a supervisor page)', () => {
    const a = pmMachine('call setup_paging\nmov dword [0x21000 + 0x300*4], 0\nmov eax, cr3\nmov cr3, eax\nmov eax, [0x300010]\nhlt');
    a.cpu.run(100000);
    expect(record(a)).toMatchObject({ vector: 14, error: 0, cr2: 0x300010 });
    const b = pmMachine('call setup_paging\nmov dword [0x21000 + 0x301*4], 0x301003\nmov eax, cr3\nmov cr3, eax\nmov eax, user\njmp to_ring3\nuser:\nmov dword [0x301004], 5\nhlt');
    b.cpu.run(100000);
    expect(record(b)).toMatchObject({ vector: 14, error: 7, cr2: 0x301004, cs: 0x1b });
    expect(b.cpu.getRegisters().cr2).toBe(0x301004);
  });

  it('a fault in the middle of rep movsd leaves ECX/ESI/EDI describing the remaining work', () => {
    const m = pmMachine('call setup_paging\nmov dword [0x21000 + 0x302*4], 0\nmov eax, cr3\nmov cr3, eax\nmov esi, 0x100000\nmov edi, 0x301f00\nmov ecx, 0x100\ncld\nrep movsd\nhlt');
    m.cpu.run(100000);
    expect(record(m)).toMatchObject({ vector: 14, error: 2, cr2: 0x302000 });
    const r = m.cpu.getRegisters();
    expect(r.edi).toBe(0x302000);
    expect(r.ecx).toBe(0x100 - 0x40);
    expect(r.esi).toBe(0x100000 + 0x100);
  });

  it('triple fault (no usable IDT) makes run() return shutdown', () => {
    const m = pmMachine('lidt [A(empty)]\nint 0x80\nhlt\nempty: dw 0\ndd 0');
    expect(m.cpu.run(10000)).toBe('shutdown');
    expect(m.cpu.run(10)).toBe('shutdown');
  });

  it('double fault through a task gate switches to the #DF task with a back-link', () => {
    const main = `
      mov dword [0x700+0x20], df_task   ; EIP
      mov dword [0x700+0x24], 2         ; EFLAGS
      mov dword [0x700+0x38], 0x9400    ; ESP
      mov dword [0x700+0x4c], 0x08      ; CS
      mov dword [0x700+0x50], 0x10      ; SS
      mov dword [0x700+0x54], 0x10      ; DS
      mov dword [0x700+0x48], 0x10      ; ES
      mov dword [A(idt)+8*8], 0x00400000
      mov dword [A(idt)+8*8+4], 0x00008500
      and byte [A(idt)+13*8+5], 0x7f    ; #GP gate not present -> #NP while delivering #GP -> #DF
      mov ax, 0x70
      mov ds, ax
      hlt
    df_task:
      str ax
      movzx eax, ax
      mov [0x540], eax
      movzx eax, word [0x700]
      mov [0x544], eax
      pushfd
      pop eax
      mov [0x548], eax
      pop eax
      mov [0x54c], eax
      hlt`;
    const m = pmMachine(main);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x540)).toBe(0x40);
    expect(mem32(m, 0x544)).toBe(0x28);
    expect(mem32(m, 0x548) & 0x4000).toBe(0x4000); // NT
    expect(mem32(m, 0x54c)).toBe(0); // #DF error code
  });

  it('SYSENTER/SYSEXIT switch between flat ring 3 and ring 0', () => {
    const main = `
      mov ecx, 0x174
      mov eax, 0x08
      xor edx, edx
      wrmsr
      mov ecx, 0x175
      mov eax, 0x9700
      wrmsr
      mov ecx, 0x176
      mov eax, kentry
      wrmsr
      mov eax, user
      jmp to_ring3
    kentry:
      mov [0x550], cs
      mov [0x554], ss
      mov [0x558], esp
      sysexit
    user:
      mov ecx, esp
      mov edx, back
      sysenter
    back:
      mov [0x55c], cs
      mov [0x560], ss
      int 0x81`;
    const m = pmMachine(main);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x550) & 0xffff).toBe(0x08);
    expect(mem32(m, 0x554) & 0xffff).toBe(0x10);
    expect(mem32(m, 0x558)).toBe(0x9700);
    expect(mem32(m, 0x55c) & 0xffff).toBe(0x1b);
    expect(mem32(m, 0x560) & 0xffff).toBe(0x23);
  });

  it('16-bit protected-mode code segment', () => {
    const main = `
      jmp 0x30:code16
    bits 16
    code16:
      mov ax, 0x1234
      add ax, ax
      mov [0x560], ax
      mov bx, 0x560
      mov cx, [bx]
      mov [0x562], cx
      jmp dword 0x08:back32
    bits 32
    back32:
      hlt`;
    const m = pmMachine(main);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x560)).toBe(0x24682468);
  });

  it('virtual-8086 mode: INT n with IOPL 0 raises #GP to the ring-0 handler with the v86 frame', () => {
    const main = `
      push dword 0      ; gs
      push dword 0      ; fs
      push dword 0      ; ds
      push dword 0      ; es
      push dword 0x0900 ; ss
      push dword 0x100  ; esp
      push dword 0x20002 ; eflags: VM
      push dword A(v86code) >> 4
      push dword 0
      iretd
    align 16
    bits 16
    v86code:
      mov ax, 0x1234
      int 0x21
    bits 32`;
    const m = pmMachine(main);
    expect(m.cpu.run(100000)).toBe('halt');
    const r = record(m);
    expect(r.vector).toBe(13);
    expect(r.error).toBe(0);
    expect(r.eflags & 0x20000).toBe(0x20000);
    expect(m.cpu.getRegisters().eax & 0xffff).not.toBe(0x1234); // the handler clobbered EAX at ring 0
  });

  it('external interrupts: HLT returns halt, an interrupt wakes the CPU and the handler IRETs', () => {
    const m = pmMachine('sti\nhlt\nmov dword [0x570], 1\ncli\nhlt', {
      int82: 'add dword [0x574], 1\niretd',
    });
    expect(m.cpu.run(100000)).toBe('halt');
    expect(m.cpu.run(100)).toBe('halt');
    m.irq.pending.push(0x82);
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x574)).toBe(1);
    expect(mem32(m, 0x570)).toBe(1);
  });

  it('an interrupt raised by an MMIO write is taken right after that instruction, in compiled code too', () => {
    // The handler records ECX: 0 means it ran before the first INC after the device write.
    const incs = 'inc ecx\n'.repeat(40);
    for (const options of [{ compileBlocks: false }, { compileThreshold: 1 }]) {
      const m = pmMachine(`sti\nmov ecx, 0\nmov dword [0xfec00000], 1\n${incs}hlt`, { int82: 'mov [0x574], ecx\niretd' }, options);
      m.memory.addMmio(guestPhys(0xfec00000), 0x1000, { read: () => 0, write: () => { m.irq.pending.push(0x82); } }, 'irq-raiser');
      expect(m.cpu.run(100000)).toBe('halt');
      expect(mem32(m, 0x574)).toBe(0);
      expect(m.cpu.getRegisters().ecx).toBe(40);
    }
  });

  it('I/O permission: OUT at CPL 3 without a bitmap raises #GP(0)', () => {
    const m = pmMachine('mov eax, user\njmp to_ring3\nuser:\nout 0x80, al\nint 0x81');
    m.cpu.run(100000);
    expect(record(m)).toMatchObject({ vector: 13, error: 0 });
    expect(m.io.writes.length).toBe(0);
  });
});

describe('hostile exception loops', () => {
  it('a #PF handler on a not-present page faults forever on hardware; run() still returns', () => {
    const m = pmMachine(`
      call setup_paging
      mov eax, 0x300000
      mov word [A(idt)+14*8], ax
      shr eax, 16
      mov word [A(idt)+14*8+6], ax
      mov dword [0x21000 + 0x300*4], 0
      mov eax, cr3
      mov cr3, eax
      mov esp, 0x200000
      jmp 0x300000`);
    expect(m.cpu.run(5000)).toBe('budget');
    expect(m.cpu.run(5000)).toBe('budget');
    expect(m.cpu.getRegisters().cr2).toBe(0x300000);
  });
});
