import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '@typevisor/mmu';
import { Cpu, CpuConfigurationError, type CpuSnapshot } from '@typevisor/cpu-x86';
import { asm, flat, RecordingIo, TestInterrupts } from './support/harness.js';
import { pmMachine, pmProgram, record } from './support/pm-program.js';

// PerfEvtSel fields (P6): event | USR 16 | OS 17 | INT 20 | EN 22.
const INST = 0xc0, CLK = 0x79, HWINT = 0xc8;
const USR = 1 << 16, OS = 1 << 17, INT = 1 << 20, EN = 1 << 22;

/** Assembly: write EDX:EAX = hi:lo to `msr`. */
const wrmsr = (msr: number, lo: number, hi = 0): string =>
  `mov ecx, 0x${msr.toString(16)}\nmov eax, 0x${(lo >>> 0).toString(16)}\nmov edx, 0x${(hi >>> 0).toString(16)}\nwrmsr\n`;

const mem32 = (m: { memory: PhysicalMemory }, a: number): number => m.memory.readPhys32(a) >>> 0;

/** Protected-mode machine (IDT, TSS, ring 3 helper) with optional PMI callback and time source. */
function pm(main: string, handlers: Parameters<typeof pmProgram>[1] = {}, extra: { onPmi?: () => void; tsc?: () => number } = {}) {
  const memory = new PhysicalMemory({ ramSize: 4 << 20 });
  const io = new RecordingIo();
  const irq = new TestInterrupts();
  const cpu = new Cpu({
    memory, io, interrupts: irq,
    ...(extra.onPmi !== undefined ? { onPerformanceInterrupt: extra.onPmi } : {}),
    ...(extra.tsc !== undefined ? { time: { readTsc: extra.tsc } } : {}),
  });
  memory.ram.set(pmProgram(main, handlers), 0x7c00);
  cpu.setRegisters({ cs: 0, eip: 0x7c00, esp: 0x7000, ss: 0, ds: 0 });
  return { cpu, memory, io, irq };
}

describe('P6 performance counters: counting', () => {
  it('counts retired instructions at CPL 0 and CPL 3 separately and exactly', () => {
    // Counter 0: INST_RETIRED at OS level, counter 1: INST_RETIRED at USR level. An instruction
    // counts at the CPL it retires at: the IRETD to ring 3 is a user instruction, INT 0x81 a kernel one.
    const m = pm(`
      ${wrmsr(0xc1, 0)}${wrmsr(0xc2, 0)}${wrmsr(0x187, INST | USR)}
      mov ecx, 0x186
      mov eax, ${INST | OS | EN}
      wrmsr                      ; kernel 1 (the enabling WRMSR counts)
      mov eax, user              ; kernel 2
      jmp to_ring3               ; kernel 3; to_ring3 runs 8 more, then IRETD (user 1)
    user:
      mov ecx, 1000              ; user 2
    .l:
      dec ecx
      jnz .l                     ; user 2002
      int 0x81                   ; kernel 12`, {
      int81: `
      mov ecx, 0xc1              ; kernel 13
      rdmsr
      mov [ss:0x580], eax
      mov [ss:0x584], edx
      mov ecx, 0xc2
      rdmsr
      mov [ss:0x588], eax
      hlt`,
    });
    expect(m.cpu.run(100000)).toBe('halt');
    expect(mem32(m, 0x580)).toBe(13);
    expect(mem32(m, 0x584)).toBe(0);
    expect(mem32(m, 0x588)).toBe(2002);
  });

  it('PerfEvtSel0.EN enables both counters; EN of PerfEvtSel1 alone enables nothing', () => {
    const m = flat(`
      ${wrmsr(0x187, INST | OS | EN)}
      times 10 nop
      ${wrmsr(0x186, EN)}        ; event 0 (not counted), but EN: counter 1 starts with this WRMSR
      times 10 nop
      ${wrmsr(0x186, 0)}         ; disable: this WRMSR is not counted
      times 10 nop
      mov ecx, 0xc2
      rdmsr
      hlt`);
    expect(m.cpu.run(1000)).toBe('halt');
    // enabling WRMSR + 10 NOPs + the 3 MOVs before the disabling WRMSR
    expect(m.cpu.getRegisters().eax).toBe(14);
  });

  it('USR and OS select the privilege levels; neither counts nothing', () => {
    const m = flat(`
      ${wrmsr(0x187, INST)}
      ${wrmsr(0x186, INST | USR | EN)}
      times 20 nop
      mov ecx, 0xc1
      rdmsr
      mov ebx, eax
      mov ecx, 0xc2
      rdmsr
      hlt`);
    expect(m.cpu.run(1000)).toBe('halt');
    const r = m.cpu.getRegisters();
    expect(r.ebx).toBe(0); // USR only: CPL 0 code is not counted
    expect(r.eax).toBe(0); // neither USR nor OS
  });

  it('HW_INT_RX counts delivered external interrupts, not INT n', () => {
    const m = pm(`
      ${wrmsr(0xc1, 0)}
      ${wrmsr(0x186, HWINT | OS | USR | EN)}
      int 0x82                   ; software: not a hardware interrupt
      sti
    .spin:
      cmp dword [0x5f4], 4
      jb .spin
      cli
      mov ecx, 0xc1
      rdmsr
      mov [0x580], eax
      hlt`, { int82: 'inc dword [ss:0x5f4]\niretd' });
    expect(m.cpu.run(500)).toBe('budget');
    for (let i = 0; i < 3; i++) {
      m.irq.pending.push(0x82);
      m.cpu.notifyInterrupt();
      m.cpu.run(300);
    }
    expect(m.cpu.run(10000)).toBe('halt');
    expect(mem32(m, 0x580)).toBe(3);
  });

  it('CPU_CLK_UNHALTED counts TSC ticks while executing and stops while halted', () => {
    let idle = 0;
    let cpuRef: Cpu | null = null;
    const tsc = (): number => 3 * (cpuRef?.instructionsRetired ?? 0) + idle;
    const m = pm(`
      ${wrmsr(0xc1, 0)}${wrmsr(0xc2, 0)}
      ${wrmsr(0x187, INST | OS)}
      ${wrmsr(0x186, CLK | OS | EN)}
      sti
      times 10 nop
      hlt
      cli
      mov ecx, 0xc1
      rdmsr
      mov [0x580], eax
      mov ecx, 0xc2
      rdmsr
      mov [0x584], eax
      hlt`, { int82: 'iretd' }, { tsc });
    cpuRef = m.cpu;
    expect(m.cpu.run(100000)).toBe('halt');
    idle += 1_000_000; // a long idle period: not cycles
    m.irq.pending.push(0x82);
    expect(m.cpu.run(100000)).toBe('halt');
    // Up to the first RDMSR: the enabling WRMSR, STI, 10 NOPs, HLT, IRETD, CLI, MOV ECX = 16
    // instructions at 3 ticks each, except the HLT's own ticks, which pass while halted.
    expect(mem32(m, 0x580)).toBe(3 * 15);
    // Counter 1 is read three instructions later (RDMSR, MOV, MOV ECX).
    expect(mem32(m, 0x584)).toBe(16 + 3);
  });
});

describe('P6 performance counters: MSR and RDPMC semantics', () => {
  it('WRMSR sign-extends the low 32 bits to 40; RDMSR reads 40 bits; the counter wraps at 2^40', () => {
    const m = flat(`
      ${wrmsr(0xc1, 0x80000000, 0x12)}
      mov ecx, 0xc1
      rdmsr
      mov [0x3000], eax
      mov [0x3004], edx
      ${wrmsr(0xc2, 0x1234, 0xff)}
      mov ecx, 0xc2
      rdmsr
      mov [0x3008], eax
      mov [0x300c], edx
      ${wrmsr(0xc1, -5)}
      ${wrmsr(0x186, INST | OS | EN)}   ; counts itself: -4
      nop                               ; -3
      nop                               ; -2
      mov ecx, 0xc1                     ; -1
      rdmsr
      mov [0x3010], eax
      mov [0x3014], edx
      nop
      nop
      nop
      nop
      mov ecx, 0xc1                     ; -1 + 1 (RDMSR) + 2 (MOVs) + 4 + 1 = 7
      rdmsr
      hlt`);
    expect(m.cpu.run(1000)).toBe('halt');
    expect(mem32(m, 0x3000)).toBe(0x80000000);
    expect(mem32(m, 0x3004)).toBe(0xff); // sign-extended; the written high dword is ignored
    expect(mem32(m, 0x3008)).toBe(0x1234);
    expect(mem32(m, 0x300c)).toBe(0);
    expect(mem32(m, 0x3010)).toBe(0xffffffff);
    expect(mem32(m, 0x3014)).toBe(0xff);
    const r = m.cpu.getRegisters();
    expect(r.eax).toBe(7);
    expect(r.edx).toBe(0);
  });

  it('Linux check_hw_exists: the event selects read back disabled and a counter reads what was written', () => {
    const m = flat(`
      mov ecx, 0x186
      rdmsr
      mov [0x3000], eax
      mov ecx, 0x187
      rdmsr
      mov [0x3004], eax
      mov ecx, 0xc2
      rdmsr
      xor eax, 0xffff
      mov esi, eax
      mov edi, edx
      wrmsr
      rdmsr
      hlt`);
    expect(m.cpu.run(1000)).toBe('halt');
    const r = m.cpu.getRegisters();
    expect(mem32(m, 0x3000)).toBe(0);
    expect(mem32(m, 0x3004)).toBe(0);
    expect(r.eax).toBe(r.esi);
    expect(r.edx).toBe(r.edi);
    expect(r.eax).toBe(0xffff);
  });

  it('RDPMC: CPL 0 always; CPL 3 only with CR4.PCE; ECX other than 0/1 is #GP(0)', () => {
    // Program counter 1 at CPL 0, then run RDPMC at CPL 3 without and with CR4.PCE.
    const m = flat(`${wrmsr(0xc2, 0x01234567, 0)}\nmov ecx, 1\nrdpmc\nhlt`);
    expect(m.cpu.run(100)).toBe('halt');
    expect(m.cpu.getRegisters().eax).toBe(0x01234567);

    const user = asm('mov ecx, 1\nrdpmc\nhlt', 32, 0x2000);
    m.memory.ram.set(user, 0x2000);
    m.cpu.enterFlatProtectedMode(3);
    m.cpu.setRegisters({ eip: 0x2000, eax: 0, edx: 0 });
    expect(m.cpu.run(100)).toBe('exception');
    expect(m.cpu.lastException).toEqual({ vector: 13, errorCode: 0 });
    expect(m.cpu.getRegisters().eip).toBe(0x2005); // RDPMC itself

    m.cpu.setRegisters({ cr4: 0x100, eip: 0x2000 });
    expect(m.cpu.run(100)).toBe('exception'); // HLT at CPL 3: #GP, after RDPMC succeeded
    expect(m.cpu.getRegisters().eax).toBe(0x01234567);
    expect(m.cpu.getRegisters().eip).toBe(0x2007);

    const bad = flat('mov ecx, 2\nrdpmc\nhlt');
    expect(bad.cpu.run(100)).toBe('exception');
    expect(bad.cpu.lastException).toEqual({ vector: 13, errorCode: 0 });
  });

  it('virtual-8086 mode is CPL 3: RDPMC needs CR4.PCE there and USR counts its instructions', () => {
    const v86 = (pce: boolean): string => `
      ${wrmsr(0xc1, 0)}
      ${wrmsr(0x186, INST | USR | EN)}
      mov eax, cr4
      ${pce ? 'or eax, 0x100' : 'and eax, ~0x100'}
      mov cr4, eax
      push dword 0      ; gs
      push dword 0      ; fs
      push dword 0      ; ds
      push dword 0      ; es
      push dword 0x0900 ; ss
      push dword 0x100  ; esp
      push dword 0x20002 ; eflags: VM, IOPL 0
      push dword A(v86code) >> 4
      push dword 0
      iretd             ; user 1 (retires in v8086 mode)
    align 16
    bits 16
    v86code:
      nop               ; user 2
      nop               ; user 3
      xor ecx, ecx      ; user 4
      rdpmc
      mov [0x5f0], eax
      int 0x21          ; IOPL 0: #GP to ring 0, ends the test
    bits 32`;
    const denied = pmMachine(v86(false));
    expect(denied.cpu.run(100000)).toBe('halt');
    expect(record(denied)).toMatchObject({ vector: 13, error: 0 });
    expect(record(denied).eflags & 0x20000).toBe(0x20000);
    expect(denied.memory.readPhys32(0x5f0)).toBe(0);
    const allowed = pmMachine(v86(true));
    expect(allowed.cpu.run(100000)).toBe('halt');
    expect(allowed.memory.readPhys32(0x5f0)).toBe(4);
    expect(record(allowed)).toMatchObject({ vector: 13, error: 0 });
  });

  it('RDPMC in real mode is allowed', () => {
    const memory = new PhysicalMemory({ ramSize: 1 << 20 });
    memory.ram.set(asm('xor ecx, ecx\nrdpmc\nhlt', 16, 0x7c00), 0x7c00);
    const cpu = new Cpu({ memory, io: new RecordingIo(), stopOnException: true });
    cpu.setRegisters({ cs: 0, eip: 0x7c00, eax: 0x55, edx: 0x66 });
    expect(cpu.run(100)).toBe('halt');
    expect(cpu.getRegisters().eax).toBe(0);
    expect(cpu.getRegisters().edx).toBe(0);
  });
});

describe('P6 performance counters: overflow interrupt', () => {
  it('reports the wrap of an INT counter right after the wrapping instruction', () => {
    let calls = 0, atRetired = -1, atEip = -1;
    const m = flat(`
      ${wrmsr(0xc1, -100)}
      ${wrmsr(0x186, INST | OS | INT | EN)}
    after_enable:
      times 300 inc esi
      hlt`, {
      onPerformanceInterrupt: () => { calls++; atRetired = cpu().instructionsRetired; atEip = cpu().getRegisters().eip; },
    });
    const cpu = (): Cpu => m.cpu;
    // Enable in one run() call (8 instructions) and keep running in the next ones, as a machine does.
    expect(m.cpu.run(8)).toBe('budget');
    expect(calls).toBe(0);
    const enabledAt = m.cpu.instructionsRetired;
    expect(m.cpu.run(100000)).toBe('halt');
    expect(calls).toBe(1);
    // The enabling WRMSR was the first count; 99 INCs later the counter wraps.
    expect(atRetired).toBe(enabledAt + 99);
    expect(atEip).toBe(0x1000 + 2 * 17 + 99); // each WRMSR sequence is 17 bytes, INC ESI 1
    expect(m.cpu.getRegisters().esi).toBe(300);
  });

  it('a PMI callback that raises an interrupt line is delivered before the next instruction', () => {
    let m: ReturnType<typeof pm> | null = null;
    m = pm(`
      ${wrmsr(0xc1, -1000)}
      ${wrmsr(0x186, INST | OS | USR | INT | EN)}
      sti
    incs:
      times 2000 inc esi
      hlt`, {}, { onPmi: () => { m?.irq.pending.push(0x82); } });
    expect(m.cpu.run(200)).toBe('budget'); // the counter is enabled in this call
    expect(m.cpu.run(100000)).toBe('halt');
    // vector 0x82 (the test's LVTPC vector) was taken with EIP after the 998th INC:
    // the enabling WRMSR and STI count 2 of the 1000.
    expect(mem32(m, 0x500)).toBe(0x82);
    expect(m.cpu.getRegisters().esi).toBe(998);
    const incs = mem32(m, 0x50c) - 998;
    expect(m.memory.ram[incs - 1]).toBe(0xfb); // STI right before the first INC
  });

  it('a counter armed with INT but enabled inside a run() is reported right after it wraps', () => {
    let calls = 0, atRetired = -1;
    const m = flat(`
      ${wrmsr(0xc1, -50)}
      ${wrmsr(0x186, INST | OS | INT)}  ; armed, EN still clear
      ${wrmsr(0x186, INST | OS | INT | EN)}
      times 3000 inc esi
      hlt`, { onPerformanceInterrupt: () => { calls++; atRetired = m.cpu.instructionsRetired; } });
    expect(m.cpu.run(8)).toBe('budget'); // armed before the run that enables it
    expect(m.cpu.run(100000)).toBe('halt');
    expect(calls).toBe(1);
    // The enabling WRMSR is the 12th instruction and the first count; it ends the run piece, and
    // the next piece ends exactly where the counter wraps.
    expect(atRetired).toBe(8 + 4 + 49);
  });

  it('a ring-3 counter armed in ring 0 wraps exactly: the CPL change ends the run piece', () => {
    let calls = 0, atRetired = -1, atEsi = -1;
    let m: ReturnType<typeof pm> | null = null;
    m = pm(`
      ${wrmsr(0xc1, -500)}
      ${wrmsr(0x186, INST | USR | INT | EN)}
      mov ecx, 5000
    .kernel:
      dec ecx                    ; 10,000 kernel instructions the counter does not see
      jnz .kernel
      mov eax, user
      jmp to_ring3
    user:
      times 1000 inc esi
      int 0x81`, { int81: 'hlt' }, {
      onPmi: () => { calls++; atRetired = m!.cpu.instructionsRetired; atEsi = m!.cpu.getRegisters().esi; },
    });
    expect(m.cpu.run(200000)).toBe('halt');
    expect(calls).toBe(1);
    // The IRETD into ring 3 is the first user instruction, so the wrap is at the 499th INC.
    expect(atEsi).toBe(499);
    expect(m.cpu.getRegisters().esi).toBe(1000);
    expect(atRetired).toBeGreaterThan(10000);
  });

  it('a far-off CPU_CLK_UNHALTED wrap costs a few run pieces and is reported within 1,024 instructions', () => {
    // 2 TSC ticks per instruction; the counter wraps 600,000 ticks (300,000 instructions) after it
    // is enabled. Each run piece ends with one TSC read (a fold): pieces cut every 1,024
    // instructions would read it ~300 times.
    let tscReads = 0, calls = 0, atRetired = -1;
    let m: ReturnType<typeof flat> | null = null;
    const tsc = (): number => { tscReads++; return 2 * (m?.cpu.instructionsRetired ?? 0); };
    m = flat(`
      ${wrmsr(0xc1, -600000)}
      ${wrmsr(0x186, CLK | OS | INT | EN)}
      mov ecx, 200000
    .l:
      dec ecx
      jnz .l
      hlt`, { time: { readTsc: tsc }, onPerformanceInterrupt: () => { calls++; atRetired = m!.cpu.instructionsRetired; } });
    expect(m.cpu.run(1_000_000)).toBe('halt');
    expect(calls).toBe(1);
    const enabledAt = 8; // the enabling WRMSR retires as the 8th instruction
    expect(atRetired).toBeGreaterThanOrEqual(enabledAt + 300000);
    expect(atRetired - (enabledAt + 300000)).toBeLessThanOrEqual(1024);
    expect(tscReads).toBeLessThan(40);
  });

  it('without INT a wrap is silent; the counter keeps counting from 0', () => {
    let calls = 0;
    const m = flat(`
      ${wrmsr(0xc1, -3)}
      ${wrmsr(0x186, INST | OS | EN)}
      times 10 nop
      mov ecx, 0xc1
      rdmsr
      hlt`, { onPerformanceInterrupt: () => { calls++; } });
    expect(m.cpu.run(1000)).toBe('halt');
    expect(calls).toBe(0);
    expect(m.cpu.getRegisters().eax).toBe(1 + 10 + 1 - 3);
  });
});

describe('P6 performance counters: snapshots', () => {
  const program = `
      ${wrmsr(0xc1, 0)}
      ${wrmsr(0x187, INST | USR)}
      ${wrmsr(0x186, INST | OS | EN)}
      mov ebx, 5000
    .l:
      dec ebx
      jnz .l
      mov ecx, 0xc1
      rdmsr
      hlt`;

  it('a save/restore mid-count continues exactly where an uninterrupted run is', () => {
    const straight = flat(program);
    expect(straight.cpu.run(100000)).toBe('halt');
    const expected = straight.cpu.getRegisters().eax;
    expect(expected).toBe(1 + 1 + 10000 + 1);

    const a = flat(program);
    expect(a.cpu.run(3000)).toBe('budget');
    const snap = a.cpu.saveState();
    expect(snap.version).toBe(2);
    expect(snap.pmu?.eventSelect).toEqual([INST | OS | EN, INST | USR]);
    const b = flat(program);
    b.memory.ram.set(a.memory.ram);
    b.cpu.restoreState(JSON.parse(JSON.stringify(snap)) as CpuSnapshot);
    expect(b.cpu.run(100000)).toBe('halt');
    expect(b.cpu.getRegisters().eax).toBe(expected);
  });

  it('a version-1 snapshot restores with the counters at power-on; malformed counters are refused', () => {
    const a = flat(program);
    a.cpu.run(3000);
    const snap = a.cpu.saveState();
    const { pmu, ...rest } = snap;
    void pmu;
    const b = flat(program);
    b.memory.ram.set(a.memory.ram);
    b.cpu.restoreState({ ...rest, version: 1 });
    expect(b.cpu.saveState().pmu).toEqual({ eventSelect: [0, 0], counters: [0, 0], interruptPending: false });
    expect(() => b.cpu.restoreState({ ...snap, pmu: { eventSelect: [0, 0], counters: [2 ** 40, 0], interruptPending: false } }))
      .toThrow(CpuConfigurationError);
    expect(() => b.cpu.restoreState({ ...rest, version: 2 })).toThrow(CpuConfigurationError);
  });
});
