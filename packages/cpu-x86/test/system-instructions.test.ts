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
    m.cpu.run(10000);
    expect(mem32(m, 0x5f8)).toBe(0x7000);
  });
});
