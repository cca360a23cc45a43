import { describe, expect, it } from 'vitest';
import { pmMachine, record } from './support/pm-program.js';
import { runFlat } from './support/harness.js';

const mem32 = (m: ReturnType<typeof pmMachine>, a: number): number => m.memory.readPhys32(a) >>> 0;

describe('system instructions', () => {
  it('SGDT/SIDT store limit and base; LMSW cannot clear PE; SMSW reads CR0', () => {
    const m = pmMachine(`
      sgdt [0x600+0x100]
      sidt [0x600+0x108]
      mov ax, 0
      lmsw ax
      smsw ebx
      mov [0x5d0], ebx
      hlt`);
    m.cpu.run(10000);
    expect(m.memory.readPhys16(0x700)).toBe(14 * 8 - 1);
    expect(m.memory.readPhys16(0x708)).toBe(0x83 * 8 - 1);
    expect(mem32(m, 0x5d0) & 1).toBe(1);
  });

  it('SGDT split across a page boundary whose second page is not present writes nothing before the #PF', () => {
    const m = pmMachine(`
      call setup_paging
      and dword [0x21000 + 0x301 * 4], ~1
      mov eax, cr3
      mov cr3, eax
      mov dword [0x300ffc], 0xa5a5a5a5
      sgdt [0x300ffe]
      mov dword [0x500], 0xffff
      hlt`);
    m.cpu.run(100000);
    expect(record(m)).toMatchObject({ vector: 14, error: 2, cr2: 0x301000 });
    expect(mem32(m, 0x300ffc)).toBe(0xa5a5a5a5);
  });

  it('expand-down data segment: offsets above the limit are valid, at or below it fault with #GP(0)', () => {
    const m = pmMachine(`
      ; 0x50: expand-down writable data, base 0, limit 0x0fff, B=1 (upper bound 4 GiB)
      mov dword [A(gdt)+0x50], 0x00000fff
      mov dword [A(gdt)+0x54], 0x00409600
      mov ax, 0x50
      mov es, ax
      mov dword [es:0x2000], 0x11
      mov eax, [0x2000]
      mov [0x5d4], eax
      mov dword [es:0x0ffc], 0x22
      hlt`);
    m.cpu.run(10000);
    expect(mem32(m, 0x5d4)).toBe(0x11);
    expect(record(m)).toMatchObject({ vector: 13, error: 0 });
  });

  it('a read-only data segment rejects writes and a segment limit violation on SS is #SS(0)', () => {
    const ro = pmMachine(`
      mov dword [A(gdt)+0x50], 0x0000ffff
      mov dword [A(gdt)+0x54], 0x00cf9000
      mov ax, 0x50
      mov ds, ax
      mov eax, [0x100]
      mov [0x100], eax
      hlt`);
    ro.cpu.run(10000);
    expect(record(ro)).toMatchObject({ vector: 13, error: 0 });
    // At CPL 3 so the #SS is delivered on the ring-0 stack from the TSS.
    const ss = pmMachine(`
      mov dword [A(gdt)+0x50], 0x00000fff
      mov dword [A(gdt)+0x54], 0x0040f200
      mov eax, user
      jmp to_ring3
    user:
      mov ax, 0x53
      mov ss, ax
      mov esp, 0x800
      push eax
      mov eax, [ss:0x2000]
      int 0x81`);
    ss.cpu.run(10000);
    expect(record(ss)).toMatchObject({ vector: 12, error: 0 });
  });

  it('conforming code: a far JMP from ring 3 keeps CPL 3', () => {
    const m = pmMachine(`
      ; 0x50: conforming code DPL 0
      mov dword [A(gdt)+0x50], 0x0000ffff
      mov dword [A(gdt)+0x54], 0x00cf9e00
      mov eax, user
      jmp to_ring3
    user:
      jmp 0x53:conf
    conf:
      mov ax, cs
      mov [0x5d8], eax
      int 0x81`);
    m.cpu.run(10000);
    expect(mem32(m, 0x5d8) & 0xffff).toBe(0x53);
    expect(record(m).vector).toBe(0x81);
  });

  it('MOV to/from debug registers, CR4.DE makes DR4/DR5 #UD', () => {
    const r = runFlat('mov eax, 0x12345678\nmov dr0, eax\nmov ebx, dr0\nmov ecx, dr6\nmov edx, dr7\nmov eax, cr4\nor eax, 8\nmov cr4, eax\nmov eax, dr4\nhlt');
    expect(r.ebx).toBe(0x12345678);
    expect(r.ecx).toBe(0xffff0ff0);
    expect(r.edx).toBe(0x400);
    expect(r.m.cpu.lastException).toEqual({ vector: 6, errorCode: null });
  });

  it('RDTSC is privileged only with CR4.TSD', () => {
    const m = pmMachine(`
      mov eax, cr4
      or eax, 4
      mov cr4, eax
      rdtsc
      mov eax, user
      jmp to_ring3
    user:
      rdtsc
      hlt`);
    m.cpu.run(10000);
    expect(record(m)).toMatchObject({ vector: 13, error: 0, cs: 0x1b });
  });

  it('MOV CR0 with PG and without PE raises #GP(0); CR4 reserved bits raise #GP(0)', () => {
    expect(runFlat('mov eax, 0x80000000\nmov cr0, eax\nhlt').m.cpu.lastException).toEqual({ vector: 13, errorCode: 0 });
    expect(runFlat('mov eax, 0x2000\nmov cr4, eax\nhlt').m.cpu.lastException).toEqual({ vector: 13, errorCode: 0 });
  });

  it('privileged instructions at CPL 3 raise #GP(0)', () => {
    for (const insn of ['cli', 'mov eax, cr0', 'lgdt [0]', 'wbinvd', 'rdmsr', 'invlpg [0]', 'clts']) {
      const m = pmMachine(`mov eax, user\njmp to_ring3\nuser:\n${insn}\nint 0x81`);
      m.cpu.run(10000);
      expect(record(m), insn).toMatchObject({ vector: 13, error: 0 });
    }
  });

  it('INVLPG drops a stale translation', () => {
    const m = pmMachine(`
      call setup_paging
      mov dword [0x300000], 0x11
      mov dword [0x301000], 0x22
      mov eax, [0x300000]
      mov dword [0x21000 + 0x300*4], 0x301007
      mov ebx, [0x300000]      ; stale TLB entry still maps the old page
      invlpg [0x300000]
      mov ecx, [0x300000]
      mov [0x5e0], eax
      mov [0x5e4], ebx
      mov [0x5e8], ecx
      hlt`);
    m.cpu.run(100000);
    expect([mem32(m, 0x5e0), mem32(m, 0x5e4), mem32(m, 0x5e8)]).toEqual([0x11, 0x11, 0x22]);
  });

  it('INVLPG drops only the page it names (the rest of the TLB stays, as on the processor)', () => {
    const m = pmMachine(`
      call setup_paging
      mov dword [0x300000], 0x11
      mov dword [0x301000], 0x22
      mov dword [0x302000], 0x33
      mov eax, [0x300000]
      mov eax, [0x302000]
      mov dword [0x21000 + 0x300*4], 0x301007
      mov dword [0x21000 + 0x302*4], 0x301007
      invlpg [0x300000]
      mov eax, [0x300000]      ; the named page: the new mapping
      mov ebx, [0x302000]      ; another page: its cached translation is still used
      invlpg [0x302000]
      mov ecx, [0x302000]
      mov [0x5e0], eax
      mov [0x5e4], ebx
      mov [0x5e8], ecx
      hlt`);
    m.cpu.run(100000);
    expect([mem32(m, 0x5e0), mem32(m, 0x5e4), mem32(m, 0x5e8)]).toEqual([0x22, 0x33, 0x22]);
  });

  it('INVLPG of one address in a 4 MiB page drops every piece of that page', () => {
    const m = pmMachine(`
      call setup_paging
      mov eax, cr4
      or eax, 0x10             ; CR4.PSE
      mov cr4, eax
      mov dword [0x20000 + 1*4], 0x000000e7  ; 0x400000-0x7fffff: a 4 MiB page over physical 0
      mov dword [0x10000], 0x11
      mov dword [0x11000], 0x22
      mov eax, [0x410000]
      mov eax, [0x411000]      ; two pieces of the large page cached
      mov dword [0x20000 + 1*4], 0x004000e7  ; now over physical 4 MiB: no RAM there, reads all-ones
      invlpg [0x410000]
      mov eax, [0x411000]      ; the other piece is gone too
      mov ebx, [0x410000]
      mov [0x5e0], eax
      mov [0x5e4], ebx
      hlt`);
    m.cpu.run(100000);
    expect([mem32(m, 0x5e0), mem32(m, 0x5e4)]).toEqual([0xffffffff, 0xffffffff]);
  });

  it('INVLPG of a code page makes the next fetch from it translate again', () => {
    const m = pmMachine(`
      call setup_paging
      mov dword [0x300000], 0x000001b8   ; mov eax, 1
      mov dword [0x300004], 0x0000c300   ; ret
      mov dword [0x301000], 0x000002b8   ; mov eax, 2
      mov dword [0x301004], 0x0000c300   ; ret
      mov esi, 0x300000
      call esi
      mov [0x5e0], eax
      mov dword [0x21000 + 0x300*4], 0x301007
      invlpg [0x300000]
      call esi
      mov [0x5e4], eax
      hlt`);
    m.cpu.run(100000);
    expect([mem32(m, 0x5e0), mem32(m, 0x5e4)]).toEqual([1, 2]);
  });

  it('LSS loads SS:ESP together and 16-bit IRET works in protected mode', () => {
    const m = pmMachine(`
      mov dword [0x5f0], 0x7000
      mov word [0x5f4], 0x10
      lss esp, [0x5f0]
      mov [0x5f8], esp
      push word 0x10
      pushfw
      push word 0x08
      push word back
      o16 iret
    back:
      mov [0x5fc], esp
      hlt`);
    expect(m.cpu.run(10000)).toBe('halt');
    expect(mem32(m, 0x5f8)).toBe(0x7000);
    expect(mem32(m, 0x5fc)).toBe(0x7000 - 2); // 8 bytes pushed, the same-privilege 16-bit IRET pops 6
    expect(mem32(m, 0x500)).toBe(0); // no exception was recorded
  });
});

describe('virtual-8086 interrupt frames', () => {
  it('INT n at IOPL 3 goes to ring 0 pushing GS FS DS ES SS ESP EFLAGS CS EIP, and IRETD returns to v8086', () => {
    const main = `
      push dword 0x4444  ; gs
      push dword 0x3333  ; fs
      push dword 0x2222  ; ds
      push dword 0x1111  ; es
      push dword 0x0900  ; ss
      push dword 0x100   ; esp
      push dword 0x23002 ; eflags: VM, IOPL 3
      push dword A(v86code) >> 4
      push dword 0
      iretd
    align 16
    bits 16
    v86code:
      int 0x80
      mov word [cs:0x20], 0x5a5a
      hlt
    bits 32`;
    const m = pmMachine(main, {
      int80: `
        mov eax, [esp+20]
        mov [ss:0x5a0], eax
        mov eax, [esp+24]
        mov [ss:0x5a4], eax
        mov eax, [esp+28]
        mov [ss:0x5a8], eax
        mov eax, [esp+32]
        mov [ss:0x5ac], eax
        mov eax, [esp+8]
        mov [ss:0x5b0], eax
        mov ax, ds
        mov [ss:0x5b4], ax
        iretd`,
    });
    m.cpu.run(100000);
    const r32 = (a: number): number => m.memory.readPhys32(a) >>> 0;
    expect([r32(0x5a0), r32(0x5a4), r32(0x5a8), r32(0x5ac)]).toEqual([0x1111, 0x2222, 0x3333, 0x4444]);
    expect(r32(0x5b0) & 0x20000).toBe(0x20000);
    expect(r32(0x5b4) & 0xffff).toBe(0); // DS is null inside the ring-0 handler
    // Back in v8086 mode: the store through CS ran, then HLT (CPL 3) raised #GP(0).
    expect(record(m)).toMatchObject({ vector: 13, error: 0 });
    const v86Base = (record(m).cs & 0xffff) << 4;
    expect(m.memory.readPhys16(v86Base + 0x20)).toBe(0x5a5a);
    expect(record(m).eflags & 0x20000).toBe(0x20000);
  });
});

describe('virtual-8086 mode extensions (CR4.VME)', () => {
  it('CLI/STI/PUSHF use VIF at IOPL 0; INT n is redirected to the v8086 IVT unless its bitmap bit is set', () => {
    const main = `
      mov word [A(gdt)+0x58], 0x0100          ; 32-bit TSS at 0x600, limit 0x100
      mov word [A(gdt)+0x5a], 0x0600
      mov word [A(gdt)+0x5c], 0x8900
      mov word [A(gdt)+0x5e], 0
      mov word [0x666], 0x88                  ; I/O map at 0x688, redirection bitmap at 0x668
      mov byte [0x668 + 4], 0x04              ; vector 0x22: not redirected
      mov ax, 0x58
      ltr ax
      mov eax, cr4
      or eax, 1
      mov cr4, eax
      mov word [0x21*4], v86h - v86code
      mov word [0x21*4+2], A(v86code) >> 4
      push dword 0
      push dword 0
      push dword 0
      push dword 0
      push dword 0x0900
      push dword 0x100
      push dword 0x20202                      ; VM, IF, IOPL 0
      push dword A(v86code) >> 4
      push dword 0
      iretd
    align 16
    bits 16
    v86code:
      cli
      pushf
      pop ax
      mov [cs:0x40], ax
      sti
      int 0x21
      int 0x22
    v86h:
      mov word [cs:0x42], 0x1234
      iret
    bits 32`;
    const m = pmMachine(main);
    m.cpu.run(100000);
    const r = record(m);
    const base = (r.cs & 0xffff) << 4;
    const image = m.memory.readPhys16(base + 0x40);
    expect(image & 0x200).toBe(0); // IF in the image shows VIF, cleared by CLI
    expect(image & 0x3000).toBe(0x3000); // IOPL reads as 3
    expect(m.memory.readPhys16(base + 0x42)).toBe(0x1234); // INT 21h ran the v8086 handler
    expect(r.vector).toBe(13); // INT 22h: bitmap bit set, IOPL 0 -> #GP(0)
    expect(r.error).toBe(0);
    expect(r.eflags & 0x80000).toBe(0x80000); // VIF set by STI
    expect(r.eflags & 0x200).toBe(0x200); // the real IF was never touched
  });
});
