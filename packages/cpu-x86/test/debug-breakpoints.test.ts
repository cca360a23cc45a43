import { describe, expect, it } from 'vitest';
import { pmMachine } from './support/pm-program.js';

const RF = 0x10000;
const DR6_BS = 0x4000, DR6_BD = 0x2000;

/**
 * A #DB handler that logs each debug exception (DR6, pushed EIP, pushed EFLAGS, ECX) at
 * 0xA010 + 16 * n (count at 0xA000), clears DR6, sets RF in the IRET image and returns.
 */
const DB_HANDLER = `
db_handler:
  push eax
  push ebx
  mov ebx, [0xA000]
  shl ebx, 4
  mov eax, dr6
  mov [0xA010 + ebx], eax
  mov eax, [esp + 8]
  mov [0xA014 + ebx], eax
  mov eax, [esp + 16]
  mov [0xA018 + ebx], eax
  mov [0xA01C + ebx], ecx
  inc dword [0xA000]
  xor eax, eax
  mov dr6, eax
  or dword [esp + 16], 0x10000
  pop ebx
  pop eax
  iretd
`;
const INSTALL = 'mov eax, db_handler\nmov [idt + 8], ax\nshr eax, 16\nmov [idt + 14], ax\n';

interface DebugEvent { dr6: number; eip: number; eflags: number; ecx: number }

/** Run `main` at CPL 0 with the logging #DB handler installed; [0x540..] may hold label addresses. */
function runDebug(main: string): { events: DebugEvent[]; mem: (a: number) => number } {
  const m = pmMachine(INSTALL + main + '\nhlt', { extra: DB_HANDLER });
  expect(m.cpu.run(200000)).toBe('halt');
  const mem = (a: number): number => m.memory.readPhys32(a) >>> 0;
  const events: DebugEvent[] = [];
  for (let n = 0; n < mem(0xa000); n++) {
    const at = 0xa010 + n * 16;
    events.push({ dr6: mem(at) & 0xf00f, eip: mem(at + 4), eflags: mem(at + 8), ecx: mem(at + 12) });
  }
  return { events, mem };
}

/** DR7 value enabling breakpoint n (global) with R/W and LEN fields. */
function dr7(n: number, rw: number, len: number): number {
  return ((2 << (n * 2)) | (rw << (16 + n * 4)) | (len << (18 + n * 4))) >>> 0;
}

describe('instruction breakpoints (faults)', () => {
  it('fire before the instruction executes with DR6.B0 and EIP = the instruction; RF from the handler resumes it', () => {
    const { events, mem } = runDebug(`
      mov dword [0x540], target
      mov eax, target
      mov dr0, eax
      mov eax, ${dr7(0, 0, 0)}
      mov dr7, eax
      nop
    target: inc dword [0x530]
      mov eax, [0x530]
      mov [0x534], eax`);
    expect(events).toHaveLength(1);
    expect(events[0].dr6).toBe(1);
    expect(events[0].eip).toBe(mem(0x540));
    expect(events[0].eflags & RF).toBe(0); // the instruction-breakpoint frame keeps RF clear
    expect(mem(0x534)).toBe(1); // resumed once with RF, the instruction ran exactly once
  });

  it('RF suppresses the breakpoint for one instruction only: a loop hits it every time', () => {
    const { events, mem } = runDebug(`
      mov eax, body
      mov dr3, eax
      mov eax, ${(0x40 | dr7(3, 0, 0)) >>> 0}
      mov dr7, eax
      mov ecx, 3
    body: inc dword [0x530]
      loop body`);
    expect(events.map((e) => e.dr6)).toEqual([8, 8, 8]);
    expect(events.map((e) => e.ecx)).toEqual([3, 2, 1]);
    expect(mem(0x530)).toBe(3);
  });

  it('disabled breakpoints (L/G clear) and breakpoints at other addresses never fire', () => {
    const { events } = runDebug(`
      mov eax, target
      mov dr0, eax
      mov dr1, eax
      mov eax, ${(dr7(0, 0, 0) & ~3) | dr7(1, 1, 0)}
      mov dr7, eax
    target: nop
      nop`);
    // DR1 is a write breakpoint on the code bytes: instruction fetches are not data accesses.
    expect(events).toHaveLength(0);
  });
});

describe('data breakpoints (traps)', () => {
  it('a write breakpoint reports after the write with DR6.Bn, EIP past the instruction; reads do not hit it', () => {
    const { events, mem } = runDebug(`
      mov dword [0x540], after
      mov eax, 0xB002
      mov dr1, eax
      mov eax, ${dr7(1, 1, 1)}
      mov dr7, eax
      mov eax, [0xB000]
      mov byte [0xB004], 1
      mov byte [0xB003], 7
    after: mov eax, [0xB000]
      mov [0x530], eax`);
    expect(events).toHaveLength(1);
    expect(events[0].dr6).toBe(2);
    expect(events[0].eip).toBe(mem(0x540));
    expect(mem(0x530)).toBe(0x07000000); // the write completed before the trap
  });

  it('a read/write breakpoint hits reads too; LEN 4 covers the aligned dword and overlapping accesses', () => {
    const { events } = runDebug(`
      mov eax, 0xB00B
      mov dr2, eax
      mov eax, ${dr7(2, 3, 3)}
      mov dr7, eax
      mov ecx, 1
      mov al, [0xB008]
      mov ecx, 2
      mov al, [0xB00C]
      mov ecx, 3
      mov eax, [0xB006]
      mov ecx, 4
      mov byte [0xB007], 0
      mov ecx, 5
      add word [0xB00A], 1`);
    // 0xB00B with LEN 4 is the range 0xB008..0xB00B.
    expect(events.map((e) => e.ecx)).toEqual([1, 3, 5]);
    expect(events.every((e) => e.dr6 === 4)).toBe(true);
  });

  it('REP STOSD reports the hit after the iteration that caused it (EIP at the REP, ECX = what is left)', () => {
    const { events, mem } = runDebug(`
      mov dword [0x540], rep_here
      mov eax, 0xB010
      mov dr0, eax
      mov eax, ${dr7(0, 1, 3)}
      mov dr7, eax
      mov edi, 0xB000
      mov ecx, 8
      xor eax, eax
    rep_here: rep stosd
      mov [0x530], ecx`);
    expect(events).toHaveLength(1);
    expect(events[0].eip).toBe(mem(0x540));
    expect(events[0].ecx).toBe(3); // 0xB000..0xB010: five stores done
    expect(mem(0x530)).toBe(0);
  });

  it('a data hit while single-stepping is one #DB with both BS and Bn', () => {
    const { events } = runDebug(`
      mov eax, 0xB000
      mov dr0, eax
      mov eax, ${dr7(0, 1, 0)}
      mov dr7, eax
      pushfd
      or dword [esp], 0x100
      popfd
      mov ecx, 1
      mov byte [0xB000], 1
      pushfd
      and dword [esp], ~0x100
      popfd`);
    const hit = events.find((e) => e.ecx === 1 && (e.dr6 & 1) !== 0);
    expect(hit?.dr6).toBe(DR6_BS | 1);
    expect(events.filter((e) => (e.dr6 & 1) !== 0)).toHaveLength(1);
  });

  it('I/O breakpoints (R/W 10) need CR4.DE and trap after IN/OUT', () => {
    const { events } = runDebug(`
      mov eax, 0x80
      mov dr0, eax
      mov eax, ${dr7(0, 2, 0)}
      mov dr7, eax
      mov ecx, 1
      out 0x80, al
      mov eax, cr4
      or eax, 8
      mov cr4, eax
      mov ecx, 2
      out 0x80, al
      mov ecx, 3
      in al, 0x81
      mov ecx, 4
      mov dx, 0x7f
      in ax, dx`);
    expect(events.map((e) => [e.ecx, e.dr6])).toEqual([[2, 1], [4, 1]]);
  });
});

describe('single step and general detect', () => {
  it('single step still reports DR6.BS after each instruction, with EIP of the next one', () => {
    const { events, mem } = runDebug(`
      mov dword [0x540], second
      pushfd
      or dword [esp], 0x100
      popfd
      mov ecx, 10
    second: mov ecx, 11
      pushfd
      and dword [esp], ~0x100
      popfd`);
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.every((e) => e.dr6 === DR6_BS)).toBe(true);
    expect(events[0]).toMatchObject({ eip: mem(0x540), ecx: 10 });
  });

  it('DR7.GD makes MOV DRn a #DB fault with DR6.BD (EIP = the MOV, RF = 1 in the image); entry clears GD', () => {
    const { events, mem } = runDebug(`
      mov dword [0x540], guarded
      mov eax, 0x2000
      mov dr7, eax
      mov ecx, 1
    guarded: mov eax, dr7
      mov [0x530], eax
      mov eax, dr0`);
    expect(events).toHaveLength(1);
    expect(events[0].dr6).toBe(DR6_BD);
    expect(events[0].eip).toBe(mem(0x540));
    expect(events[0].eflags & RF).toBe(RF);
    expect(mem(0x530) & 0x2000).toBe(0); // GD was cleared when the #DB was delivered
  });
});
