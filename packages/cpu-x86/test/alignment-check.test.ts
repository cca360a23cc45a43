import { describe, expect, it } from 'vitest';
import { pmMachine, record } from './support/pm-program.js';

const AC_VECTOR = 17;
/** Vector recorded by the `int 0x81` every program ends with: the access did not fault. */
const COMPLETED = 0x81;

interface Setup {
  /** CR0.AM */
  am?: boolean;
  /** EFLAGS.AC, set with POPFD at the privilege the access runs at */
  ac?: boolean;
  /** Run the access at CPL 3 (else CPL 0) */
  user?: boolean;
  /** Before the access (same privilege) */
  prepare?: string;
  /** Map 0-4 MiB with paging (for the #PF-before-#AC case) */
  paging?: string;
}

/**
 * Protected-mode program: optional CR0.AM and paging at CPL 0, then (optionally) CPL 3, EFLAGS.AC,
 * the access at label `access`, and `int 0x81`. [0x540] holds the address of `access`.
 */
function runAccess(access: string, setup: Setup): ReturnType<typeof record> & { accessEip: number } {
  const { am = true, ac = true, user = true } = setup;
  const main = [
    'mov dword [0x540], access',
    am ? 'mov eax, cr0\nor eax, 0x40000\nmov cr0, eax' : '',
    setup.paging ?? '',
    user ? 'mov eax, user\njmp to_ring3\nuser:' : '',
    ac ? 'pushfd\nor dword [esp], 0x40000\npopfd' : '',
    setup.prepare ?? '',
    `access: ${access}`,
    'int 0x81',
  ].join('\n');
  const m = pmMachine(main);
  expect(m.cpu.run(200000)).toBe('halt');
  return { ...record(m), accessEip: m.memory.readPhys32(0x540) >>> 0 };
}

function expectAc(access: string, setup: Setup = {}): void {
  const r = runAccess(access, setup);
  expect(r.vector).toBe(AC_VECTOR);
  expect(r.error).toBe(0);
  expect(r.eip).toBe(r.accessEip); // a fault: EIP of the misaligned instruction
  expect(r.cs).toBe(0x1b);
}
function expectNoAc(access: string, setup: Setup = {}): void {
  expect(runAccess(access, setup).vector).toBe(COMPLETED);
}

describe('#AC alignment check (CR0.AM, EFLAGS.AC, CPL 3)', () => {
  it('misaligned word and dword loads and stores fault with error code 0 and the instruction EIP', () => {
    expectAc('mov ax, [0x8101]');
    expectAc('mov eax, [0x8102]');
    expectAc('mov [0x8103], eax');
    expectAc('add [0x8105], ax'); // read-modify-write
  });

  it('aligned accesses and byte accesses never fault', () => {
    expectNoAc('mov al, [0x8101]\nmov [0x8103], al\nmov ax, [0x8102]\nmov eax, [0x8104]\nmov [0x8108], eax\nadd [0x810a], ax');
  });

  it('needs all three of CR0.AM, EFLAGS.AC and CPL 3', () => {
    expectNoAc('mov eax, [0x8102]', { am: false });
    expectNoAc('mov eax, [0x8102]', { ac: false });
    expectNoAc('mov eax, [0x8102]', { user: false });
  });

  it('clearing EFLAGS.AC with POPFD turns the check off again', () => {
    expectNoAc('pushfd\nand dword [esp], ~0x40000\npopfd\nmov eax, [0x8102]');
  });

  it('8-byte operands need 8-byte alignment: CMPXCHG8B', () => {
    expectAc('cmpxchg8b [0x8104]');
    expectNoAc('cmpxchg8b [0x8108]');
  });

  it('x87 operands: m64 and m80 need 8, m32 4, m16 2; the save area 4 with a 32-bit operand size', () => {
    expectAc('fld qword [0x8104]');
    expectNoAc('fld qword [0x8108]');
    expectAc('fstp tword [0x8104]', { prepare: 'fldz' });
    expectAc('fild word [0x8101]');
    expectNoAc('fld dword [0x8104]\nfistp word [0x8102]');
    expectAc('fnsave [0x8102]');
    expectNoAc('fnsave [0x8104]');
    // Packed BCD has no alignment requirement; a reserved encoding (DD /1, FISTTP m64 on later
    // CPUs) is #UD before its operand is looked at.
    expectNoAc('fbld [0x8101]\nfbstp [0x8103]');
    expect(runAccess('db 0xdd, 0x0d, 0x04, 0x81, 0, 0', {}).vector).toBe(6);
  });

  it('stack accesses are checked: a push with a misaligned ESP faults', () => {
    expectAc('push eax', { prepare: 'mov esp, 0x8802' });
    expectNoAc('push ax', { prepare: 'mov esp, 0x8802' });
  });

  it('SGDT stores its 6-byte image with 4-byte alignment', () => {
    expectNoAc('sgdt [0x8104]');
    expectAc('sgdt [0x8102]');
  });

  it('system-structure accesses are supervisor accesses: an interrupt from CPL 3 with a misaligned user ESP', () => {
    // The gate, the TSS and the ring-0 stack are accessed at CPL 0; the user ESP is only saved.
    expectNoAc('int 0x81', { prepare: 'mov esp, 0x8801' });
  });

  it('a page fault outranks #AC on the same access', () => {
    const r = runAccess('mov eax, [0x301002]', {
      paging: 'call setup_paging\nmov dword [0x21000 + 0x301*4], 0\nmov eax, cr3\nmov cr3, eax',
    });
    expect(r.vector).toBe(14);
    expect(r.cr2).toBe(0x301002);
  });
});
