import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '@typevisor/mmu';
import { Cpu, CpuInternalError } from '@typevisor/cpu-x86';
import { asm, machine, runFlat, type Machine } from './support/harness.js';
import { pmMachine, record } from './support/pm-program.js';

describe('x87 routing', () => {
  it('ESC instructions reach the FPU (FLD1, FADD, FISTP)', () => {
    const r = runFlat('fninit\nfld1\nfld1\nfaddp\nfistp dword [0x2000]\nmov eax, [0x2000]\nfnstsw ax\nmov ebx, eax\nhlt');
    expect(r.stop).toBe('halt');
    expect(r.m.memory.readPhys32(0x2000)).toBe(2);
  });
  it('CR0.TS makes ESC raise #NM (7); CR0.EM too', () => {
    for (const bit of [8, 4]) {
      const r = runFlat(`mov eax, cr0\nor eax, ${bit}\nmov cr0, eax\nfld1\nhlt`);
      expect(r.m.cpu.lastException).toEqual({ vector: 7, errorCode: null });
    }
  });
  it('WAIT raises #NM only when both MP and TS are set', () => {
    const a = runFlat('mov eax, cr0\nor eax, 8\nmov cr0, eax\nwait\nhlt');
    expect(a.stop).toBe('halt');
    const b = runFlat('mov eax, cr0\nor eax, 0xa\nmov cr0, eax\nwait\nhlt');
    expect(b.m.cpu.lastException?.vector).toBe(7);
  });
  it('CLTS clears CR0.TS', () => {
    const r = runFlat('mov eax, cr0\nor eax, 8\nmov cr0, eax\nclts\nfld1\nhlt');
    expect(r.stop).toBe('halt');
    expect(r.cr0 & 8).toBe(0);
  });
  it('FXSAVE needs a 16-byte aligned operand (#GP(0))', () => {
    const r = runFlat('fxsave [0x2008]\nhlt');
    expect(r.m.cpu.lastException).toEqual({ vector: 13, errorCode: 0 });
    const ok = runFlat('fld1\nfxsave [0x2000]\nhlt');
    expect(ok.stop).toBe('halt');
  });
  it('without an FPU, CPUID reports none and ESC raises #NM', () => {
    const memory = new PhysicalMemory({ ramSize: 1 << 20 });
    memory.ram.set(asm('mov eax, 1\ncpuid\nfld1\nhlt', 32, 0x1000), 0x1000);
    const cpu = new Cpu({ memory, io: { read: () => 0, write: () => undefined }, fpu: null, stopOnException: true });
    cpu.enterFlatProtectedMode(0);
    cpu.setRegisters({ eip: 0x1000, esp: 0x8000 });
    expect(cpu.run(100)).toBe('exception');
    expect(cpu.getRegisters().edx & 1).toBe(0);
    expect(cpu.lastException?.vector).toBe(7);
  });
});

describe('internal errors', () => {
  it('a host exception inside run() surfaces as CpuInternalError with EIP and instruction bytes', () => {
    const memory = new PhysicalMemory({ ramSize: 1 << 20 });
    memory.ram.set([0x90, 0xe4, 0x60, 0xf4], 0x1000); // nop; in al, 0x60; hlt
    const cpu = new Cpu({ memory, io: { read: () => { throw new TypeError('device exploded'); }, write: () => undefined } });
    cpu.enterFlatProtectedMode(0);
    cpu.setRegisters({ eip: 0x1000 });
    let error: unknown;
    try { cpu.run(10); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(CpuInternalError);
    const e = error as CpuInternalError;
    expect(e.eip).toBe(0x1001);
    expect(Array.from(e.instructionBytes.slice(0, 2))).toEqual([0xe4, 0x60]);
    expect(e.message).toContain('device exploded');
  });
});

describe('embedder errors', () => {
  it('setRegisters rejects control-register values the CPU would refuse, with a typed error', async () => {
    const { CpuConfigurationError } = await import('@typevisor/cpu-x86');
    const memory = new PhysicalMemory({ ramSize: 1 << 20 });
    const cpu = new Cpu({ memory, io: { read: () => 0, write: () => undefined } });
    expect(() => cpu.setRegisters({ cr0: 0x80000000 })).toThrow(CpuConfigurationError);
    expect(() => cpu.setRegisters({ cr4: 0x2000 })).toThrow(CpuConfigurationError);
    expect(cpu.getRegisters().cr0 & 0x80000000).toBe(0);
  });
});

describe('x87 error reporting', () => {
  it('with CR0.NE = 0 an unmasked x87 error signals FERR# (IRQ 13 path) at the next FWAIT', () => {
    let ferr = 0;
    const memory = new PhysicalMemory({ ramSize: 1 << 20 });
    // Unmask invalid-operation, then FSQRT of -1 sets it; FWAIT reports it.
    memory.ram.set(asm(`
      fninit
      mov word [0x2000], 0x037e
      fldcw [0x2000]
      fld1
      fchs
      fsqrt
      fwait
      hlt`, 32, 0x1000), 0x1000);
    const cpu = new Cpu({ memory, io: { read: () => 0, write: () => undefined }, onFerr: () => { ferr++; }, stopOnException: true });
    cpu.enterFlatProtectedMode(0);
    cpu.setRegisters({ eip: 0x1000, esp: 0x8000, cr0: (cpu.getRegisters().cr0 & ~0x20) >>> 0 });
    expect(cpu.run(100)).toBe('halt');
    expect(ferr).toBeGreaterThan(0);
  });
  it('with CR0.NE = 1 the same error raises #MF (16)', () => {
    const r = runFlat('mov eax, cr0\nor eax, 0x20\nmov cr0, eax\nfninit\nmov word [0x2000], 0x037e\nfldcw [0x2000]\nfld1\nfchs\nfsqrt\nfwait\nhlt');
    expect(r.m.cpu.lastException?.vector).toBe(16);
  });
});

describe('x87 memory operands and segments', () => {
  // Real mode: DS and SS have 64 KiB limits; an operand past offset FFFF faults like any access
  // (#GP for DS, #SS for SS), with the operand's own size: 4, 8, 10, 94 bytes.
  const real = (code: string): Machine => {
    const m = machine({ stopOnException: true });
    m.memory.ram.set(asm(`fninit\n${code}\nhlt`, 16, 0x7c00), 0x7c00);
    m.cpu.setRegisters({ cs: 0, ds: 0, es: 0, ss: 0, eip: 0x7c00, esp: 0x7000 });
    return m;
  };
  const outcome = (m: Machine): string => (m.cpu.run(1000) === 'halt' ? 'halt' : `#${m.cpu.lastException?.vector}`);
  it('an operand that runs past the segment limit faults, by its own size', () => {
    expect(outcome(real('fld dword [0xfffc]'))).toBe('halt');
    expect(outcome(real('fld qword [0xfffc]'))).toBe('#13');
    expect(outcome(real('fld qword [0xfff8]'))).toBe('halt');
    expect(outcome(real('fldz\nfstp tword [0xfff6]'))).toBe('halt');
    expect(outcome(real('fldz\nfstp tword [0xfff8]'))).toBe('#13');
    expect(outcome(real('fnsave [0xffa2]'))).toBe('halt'); // 94 bytes with a 16-bit operand size
    expect(outcome(real('fnsave [0xffa3]'))).toBe('#13');
    expect(outcome(real('fnstcw [0xffff]'))).toBe('#13');
    expect(outcome(real('mov bp, 0xfffc\nfld qword [bp]'))).toBe('#12'); // SS: #SS
  });
  it('a store through a read-only data segment is #GP(0); a load through it is not', () => {
    // GDT slot 0x50 (free in the test program): read-only data, base 0, limit 4 GiB.
    const ro = (op: string): Machine => pmMachine([
      'mov dword [A(gdt) + 0x50], 0x0000ffff', 'mov dword [A(gdt) + 0x54], 0x00cf9000',
      'mov ax, 0x50', 'mov es, ax', 'fninit', 'fld1', op, 'mov dword [0x500], 0xffff', 'hlt',
    ].join('\n'));
    const load = ro('fld dword [es:0x3000]');
    expect(load.cpu.run(100000)).toBe('halt');
    expect(record(load).vector).toBe(0xffff);
    const store = ro('fst qword [es:0x3000]');
    expect(store.cpu.run(100000)).toBe('halt');
    expect(record(store)).toMatchObject({ vector: 13, error: 0 });
  });
  it('a reserved encoding raises #UD before its operand is checked', () => {
    expect(outcome(real('db 0xdd, 0x2e, 0xfc, 0xff'))).toBe('#6'); // DD /5 [0xfffc]
  });
});

describe('x87 stores that cross into a page that faults', () => {
  // Identity paging with page 0x301000 not present: a store whose last bytes fall on it is #PF
  // (a write, CR2 on the second page) with nothing written on the first page, as on hardware,
  // which translates both pages before it writes any byte.
  const crossing = (store: string): Machine => pmMachine([
    'call setup_paging', 'and dword [0x21000 + 0x301 * 4], ~1', 'mov eax, cr3', 'mov cr3, eax',
    'mov edi, 0x300e00', 'mov ecx, 0x80', 'mov eax, 0xa5a5a5a5', 'rep stosd',
    'fninit', 'fldpi', store, 'mov dword [0x500], 0xffff', 'hlt',
  ].join('\n'));
  const untouched = (m: Machine): boolean => {
    for (let a = 0x300e00; a < 0x301000; a += 4) if (m.memory.readPhys32(a) >>> 0 !== 0xa5a5a5a5) return false;
    return true;
  };
  for (const store of ['fst qword [0x300ffc]', 'fstp tword [0x300ff8]', 'fistp qword [0x300ffe]', 'fbstp [0x300ff9]',
    'fnstenv [0x300ff0]', 'fnsave [0x300fa0]', 'fxsave [0x300f00]']) {
    it(store, () => {
      const m = crossing(store);
      expect(m.cpu.run(200000)).toBe('halt');
      expect(record(m)).toMatchObject({ vector: 14, error: 2, cr2: 0x301000 });
      expect(untouched(m)).toBe(true);
    });
  }
});
