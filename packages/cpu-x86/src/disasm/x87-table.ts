/**
 * The x87 escape opcodes (D8-DF) for the disassembler. The integer opcode table has a single `esc`
 * row per escape byte because the FPU decodes the ModRM byte itself; this table names those forms
 * (Intel SDM vol. 2 appendix A.4), the same way the integer table names the rest.
 *
 * Memory forms are indexed [escape - 0xD8][ModRM.reg]; register forms (mod = 3) either apply one
 * operand pattern to all eight ST(i) or list a mnemonic per ModRM.rm.
 */

/** Memory operand size of an x87 memory form ('' = no size, e.g. a 14/28-byte environment). */
export type X87MemorySize = '' | 'word' | 'dword' | 'qword' | 'tbyte';

/** An x87 instruction with a memory operand; `null` in the table means reserved (`(bad)`). */
export interface X87MemoryForm {
  readonly mnemonic: string;
  readonly size: X87MemorySize;
  /** Environment/state layouts whose size follows the operand size: shown with a w/d suffix under 66. */
  readonly sizedByOperandSize?: boolean;
}

/** Register-form operand patterns: `st, st(i)`, `st(i), st`, `st(i)` alone. */
export type X87RegisterPattern = 'st,sti' | 'sti,st' | 'sti';

/**
 * An x87 register form: one mnemonic with a pattern for all ST(i), or one entry per ModRM.rm (a
 * mnemonic, optionally followed by a space and its fixed operand, as in `fnstsw ax`).
 */
export type X87RegisterForm =
  | { readonly mnemonic: string; readonly pattern: X87RegisterPattern }
  | { readonly byRm: readonly (string | null)[] }
  | null;

function m(mnemonic: string, size: X87MemorySize): X87MemoryForm {
  return { mnemonic, size };
}
function env(mnemonic: string): X87MemoryForm {
  return { mnemonic, size: '', sizedByOperandSize: true };
}
function arith(size: X87MemorySize, prefix: string): readonly X87MemoryForm[] {
  return ['add', 'mul', 'com', 'comp', 'sub', 'subr', 'div', 'divr'].map((op) => m(prefix + op, size));
}
function r(mnemonic: string, pattern: X87RegisterPattern): X87RegisterForm {
  return { mnemonic, pattern };
}

/** Memory forms by escape (D8..DF) and ModRM.reg. */
export const X87_MEMORY_FORMS: readonly (readonly (X87MemoryForm | null)[])[] = [
  arith('dword', 'f'),
  [m('fld', 'dword'), null, m('fst', 'dword'), m('fstp', 'dword'), env('fldenv'), m('fldcw', 'word'), env('fnstenv'), m('fnstcw', 'word')],
  arith('dword', 'fi'),
  [m('fild', 'dword'), m('fisttp', 'dword'), m('fist', 'dword'), m('fistp', 'dword'), null, m('fld', 'tbyte'), null, m('fstp', 'tbyte')],
  arith('qword', 'f'),
  [m('fld', 'qword'), m('fisttp', 'qword'), m('fst', 'qword'), m('fstp', 'qword'), env('frstor'), null, env('fnsave'), m('fnstsw', 'word')],
  arith('word', 'fi'),
  [m('fild', 'word'), m('fisttp', 'word'), m('fist', 'word'), m('fistp', 'word'), m('fbld', 'tbyte'), m('fild', 'qword'), m('fbstp', 'tbyte'), m('fistp', 'qword')],
];

const N = null;
/** Register forms (mod = 3) by escape (D8..DF) and ModRM.reg. Reserved aliases (e.g. D9 D8+i) are `null`. */
export const X87_REGISTER_FORMS: readonly (readonly X87RegisterForm[])[] = [
  [r('fadd', 'st,sti'), r('fmul', 'st,sti'), r('fcom', 'sti'), r('fcomp', 'sti'),
    r('fsub', 'st,sti'), r('fsubr', 'st,sti'), r('fdiv', 'st,sti'), r('fdivr', 'st,sti')],
  [r('fld', 'sti'), r('fxch', 'sti'), { byRm: ['fnop', N, N, N, N, N, N, N] }, null,
    { byRm: ['fchs', 'fabs', N, N, 'ftst', 'fxam', N, N] },
    { byRm: ['fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2', 'fldz', N] },
    { byRm: ['f2xm1', 'fyl2x', 'fptan', 'fpatan', 'fxtract', 'fprem1', 'fdecstp', 'fincstp'] },
    { byRm: ['fprem', 'fyl2xp1', 'fsqrt', 'fsincos', 'frndint', 'fscale', 'fsin', 'fcos'] }],
  [r('fcmovb', 'st,sti'), r('fcmove', 'st,sti'), r('fcmovbe', 'st,sti'), r('fcmovu', 'st,sti'), null,
    { byRm: [N, 'fucompp', N, N, N, N, N, N] }, null, null],
  [r('fcmovnb', 'st,sti'), r('fcmovne', 'st,sti'), r('fcmovnbe', 'st,sti'), r('fcmovnu', 'st,sti'),
    { byRm: ['fneni', 'fndisi', 'fnclex', 'fninit', 'fnsetpm', N, N, N] },
    r('fucomi', 'st,sti'), r('fcomi', 'st,sti'), null],
  [r('fadd', 'sti,st'), r('fmul', 'sti,st'), null, null,
    r('fsubr', 'sti,st'), r('fsub', 'sti,st'), r('fdivr', 'sti,st'), r('fdiv', 'sti,st')],
  [r('ffree', 'sti'), null, r('fst', 'sti'), r('fstp', 'sti'), r('fucom', 'sti'), r('fucomp', 'sti'), null, null],
  [r('faddp', 'sti,st'), r('fmulp', 'sti,st'), null, { byRm: [N, 'fcompp', N, N, N, N, N, N] },
    r('fsubrp', 'sti,st'), r('fsubp', 'sti,st'), r('fdivrp', 'sti,st'), r('fdivp', 'sti,st')],
  [r('ffreep', 'sti'), null, null, null, { byRm: ['fnstsw ax', N, N, N, N, N, N, N] },
    r('fucomip', 'st,sti'), r('fcomip', 'st,sti'), null],
];
