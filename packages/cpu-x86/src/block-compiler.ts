/**
 * Compiles hot basic blocks into JavaScript functions: straight-line code in which the commonest
 * instructions are written out with their decoded fields as constants (memory fast paths, lazy
 * flags, conditions from the operands of the instruction that set them) and every other one is a
 * direct call of its handler, with the block's EIP arithmetic, retired count and exit checks folded
 * into constants. The block loop (interpreter.ts) pays, per instruction, typed-array loads and an
 * indirect call through the handler table that mispredicts on varied code; a compiled block checks
 * for a taken branch or a chunk break only after the instructions that can cause one.
 *
 * Only blocks that ran HOT_RUNS times (by default) are compiled, because V8's cost per function
 * (~0.4 ms to create and first call, then its unoptimised tiers until the function is hot) only pays
 * back on code that loops: lower thresholds were measured to slow the guests down. A compiled block
 * is valid exactly as long as its block entry (buildBlock resets it), so self-modifying code and
 * page remaps need nothing more.
 *
 * The generated text is built only from numbers and fixed identifiers (never guest data). Where code
 * generation is forbidden (a Content Security Policy without 'unsafe-eval'), compiling turns itself
 * off and blocks keep running in the block loop.
 */
import { FETCH_BITS, TLB_BITS, TLB_NEVER, type CpuCore } from './core.js';
import { HANDLERS, handlerKinds } from './decoder/decode.js';
import { AF, ARITH, CF, CR0_PG, CS, DF, DS, ES, SS, EA_A16, EA_NONE, OF, OP_ADC, OP_ADD, OP_LOGIC, OP_SBB, OP_SHIFT, OP_SUB, P_A32, P_O32, P_REP, P_REPNE, P_SEG_SHIFT, PF, SF, ZF } from './constants.js';
import {
  ALU_EVGV_R32, ALU_GRP1_R32, ALU_GVEV_R32, aluALIb, aluAXIz, aluEvGv, aluGbEb, aluGvEv, btEvIb, decEv, decReg, grp1Eb, grp1Ev, grp2Ev, imulGvEv,
  incEv, incReg, mulEv, negEv, notEv, testALIb, testAXIz, testEbGb, testEbIb, testEvGv,
} from './exec/alu.js';
import { callRel, JCC, jmpEv, jmpRel, nop, retNear } from './exec/control.js';
import {
  bswap, cmovcc, lea, leave, movEbGb, movEvGv, movEvIz, movGbEb, movGvEv, movMoffs, movRegIb, movRegIz, movsxb, movsxw, movzxb, movzxw, popReg, pushEv, pushReg, sahf,
  setcc,
} from './exec/data.js';
import { lods, scas } from './exec/string.js';
import { registersInLocals } from './register-locals.js';
import { CpuStat } from './stats.js';

/**
 * A compiled block: runs the whole block (or up to its first exit) and returns the instructions
 * retired. `n` (at least the block's length) bounds how many a one-block loop may run in one call.
 * `s` is the pool slot of the block's first instruction: the code refers to its slots relative to
 * it, so the same function serves the block again after it is rebuilt elsewhere in the pool.
 * A compiled block belongs to the core it was compiled for (CORE_VIEWS below): `c` must be
 * that core.
 */
export type CompiledBlock = (c: CpuCore, n: number, s: number) => number;

/** A compiled block kept across rebuilds of its block, valid for the page generation key it was compiled under. */
export interface CachedBlock {
  readonly genKey: number;
  readonly count: number;
  readonly fn: CompiledBlock;
  /** Instructions (by index, bit i of a 64-bit mask in two halves) whose taken Jcc the block followed. */
  readonly takenLo: number;
  readonly takenHi: number;
  /** Compiled to reach RAM without the TLB (paging off: {@link compilesDirect}); reused only in the same case. */
  readonly direct: boolean;
}
/** Most compiled blocks kept for rebuilt blocks (the cache starts over when it is full). */
export const COMPILED_CACHE_SIZE = 16384;

/** Block runs before a block is compiled, by default (CpuOptions.compileThreshold). */
export const HOT_RUNS = 16384;

/** Handlers that never move EIP off the fall-through (they complete or throw a fault). */
const KEEPS_EIP = new Uint8Array(HANDLERS.length).fill(1);
/** Handlers that never set chunkBreak when their ModRM is a register form (no memory, no system state). */
const REGISTER_PURE = new Uint8Array(HANDLERS.length);
/** Handlers that never set chunkBreak at all (no memory operand, no system state). */
const PURE = new Uint8Array(HANDLERS.length);
{
  const byName = (names: string): number[] => names.split(/\s+/).filter((n) => n !== '').map((name) => {
    const i = HANDLERS.findIndex((h) => h.name === name);
    if (i < 0) throw new Error(`block-compiler: no handler named ${name}`);
    return i;
  });
  for (const i of byName(`undefinedOpcode tooLong jo jno jb jae je jne jbe ja js jns jp jnp jl jge jle jg loop
      callRel jmpRel retNear retFar callEv jmpEv callFarAp callFarEv jmpFarAp jmpFarEv int3 intN into int1 iretOp
      hlt sysenter sysexit movs cmps stos lods scas ins outs`)) KEEPS_EIP[i] = 0;
  for (const i of byName(`incReg decReg movRegIb movRegIz xchgAx lea nop cbw cwd sahf lahf testALIb testAXIz
      aluALIb aluAXIz clc stc cld std cmc bswap salc`)) PURE[i] = 1;
  // The specialised 32-bit register-form ALU handlers (decode.ts) touch registers and flags only.
  for (const h of [...ALU_EVGV_R32, ...ALU_GVEV_R32, ...ALU_GRP1_R32]) PURE[HANDLERS.indexOf(h)] = 1;
  for (const i of byName(`aluEbGb aluEvGv aluGbEb aluGvEv grp1Eb grp1Ev testEbGb testEvGv xchgEbGb xchgEvGv movEbGb
      movEvGv movGbEb movGvEv grp2Eb grp2Ev setcc cmovcc imulGvEvI imulGvEv btEvGv btEvIb shxd movzxb movzxw movsxb
      movsxw bsf bsr testEbIb notEb negEb mulEb imulEb divEb idivEb testEvIz notEv negEv mulEv imulEv divEv idivEv
      incEb decEb incEv decEv movEbIb movEvIz`)) REGISTER_PURE[i] = 1;
}

let codegenAvailable = true;

/**
 * Inline forms of the commonest instructions (32-bit operand and address size): the handler's work
 * written out with the decoded fields as constants, so no decoded-slot loads, size or form tests, or
 * call remain. Each is exactly its handler's code path for that form (the differential tester runs
 * compiled blocks against hardware); anything else calls its handler.
 */
const { kind: INLINE_KIND, op: INLINE_OP, set } = handlerKinds('block-compiler');
const K_MOV_GV_EV = 1, K_MOV_EV_GV = 2, K_LEA = 3, K_PUSH = 4, K_POP = 5, K_MOV_IMM = 6, K_INC = 7, K_DEC = 8;
const K_ALU_RM_REG = 9, K_ALU_REG_RM = 10, K_ALU_RM_IMM = 11, K_ALU_GV_EV = 12, K_CMP_EV_GV = 13, K_CMP_EV_IMM = 14;
const K_TEST = 15, K_MOVZX_B = 16, K_MOVZX_W = 17, K_SHIFT = 20, K_IMUL = 21, K_MUL = 22, K_CMOV = 25, K_SETCC = 26;
const K_MOVSX_B = 27, K_MOVSX_W = 28, K_MOV_GB_EB = 29, K_MOV_EB_GB = 30, K_MOV_EV_IZ = 31, K_ALU_EAX_IMM = 32;
const K_BT_IMM = 33, K_MOV_MOFFS = 34, K_ALU_EB_IMM = 35, K_PUSH_EV = 36, K_JMP_EV = 37, K_TEST_EAX_IMM = 38, K_TEST_AL_IMM = 39;
const K_TEST_EB_IMM = 40, K_NEG = 41, K_NOT = 42, K_BSWAP = 43, K_SAHF = 44, K_LODS = 52, K_SCAS = 53;
const K_ALU_AL_IMM = 45, K_ALU_GB_EB = 46, K_TEST_EB_GB = 47, K_MOV_REG_IB = 48, K_INC_DEC_EV = 49, K_NOP = 50, K_LEAVE = 51;
/** Kinds written out for 16-bit operands too (MOV Ev,Gv / Gv,Ev, shifts of r16) or whose size is fixed (byte operations). */
const ANY_OPERAND_SIZE = new Set([K_MOV_GV_EV, K_MOV_EV_GV, K_MOV_GB_EB, K_MOV_EB_GB, K_MOV_MOFFS, K_ALU_EB_IMM, K_TEST_AL_IMM, K_TEST_EB_IMM, K_SAHF, K_TEST,
  K_SHIFT, K_ALU_AL_IMM, K_ALU_GB_EB, K_TEST_EB_GB, K_MOV_REG_IB, K_NOP]);
/** Inline kinds that leave EFLAGS as they are. */
const FLAGS_UNTOUCHED = new Uint8Array(64);
for (const k of [K_MOV_GV_EV, K_MOV_EV_GV, K_LEA, K_PUSH, K_POP, K_MOV_IMM, K_MOVZX_B, K_MOVZX_W, K_CMOV, K_SETCC, K_MOVSX_B, K_MOVSX_W,
  K_MOV_GB_EB, K_MOV_EB_GB, K_MOV_EV_IZ, K_MOV_MOFFS, K_PUSH_EV, K_JMP_EV, K_NOT, K_BSWAP, K_MOV_REG_IB, K_NOP, K_LEAVE, K_LODS]) FLAGS_UNTOUCHED[k] = 1;
/** Near CALL rel and RET: inline code that leaves the block (they end it). */
const K_CALL = 23, K_RET = 24;
/** Near relative branches: inline code that leaves the block itself when taken. */
const K_JCC = 18, K_JMP = 19;
/** The condition of each Jcc (by condition code) as an expression over the lazy flags. */
const CONDITION = [
  'c.getOF() !== 0', 'c.getOF() === 0', 'c.getCF() !== 0', 'c.getCF() === 0', 'c.getZF() !== 0', 'c.getZF() === 0',
  '(c.getCF() !== 0 || c.getZF() !== 0)', '(c.getCF() === 0 && c.getZF() === 0)', 'c.getSF() !== 0', 'c.getSF() === 0',
  'c.getPF() !== 0', 'c.getPF() === 0', '((c.getSF() !== 0) !== (c.getOF() !== 0))', '((c.getSF() !== 0) === (c.getOF() !== 0))',
  '(c.getZF() !== 0 || (c.getSF() !== 0) !== (c.getOF() !== 0))', '(c.getZF() === 0 && (c.getSF() !== 0) === (c.getOF() !== 0))',
];
// INLINE_OP: the ALU operation of the specialised register handlers (ModRM.reg order: add or adc
// sbb and sub xor cmp), or the Jcc condition.
{
  set(movGvEv, K_MOV_GV_EV); set(movEvGv, K_MOV_EV_GV); set(lea, K_LEA); set(pushReg, K_PUSH); set(popReg, K_POP);
  set(movRegIz, K_MOV_IMM); set(incReg, K_INC); set(decReg, K_DEC); set(aluGvEv, K_ALU_GV_EV);
  for (let op = 0; op < 8; op++) {
    set(ALU_EVGV_R32[op], K_ALU_RM_REG, op); set(ALU_GVEV_R32[op], K_ALU_REG_RM, op); set(ALU_GRP1_R32[op], K_ALU_RM_IMM, op);
  }
  set(aluEvGv, K_CMP_EV_GV); set(grp1Ev, K_CMP_EV_IMM); set(testEvGv, K_TEST); set(movzxb, K_MOVZX_B); set(movzxw, K_MOVZX_W);
  for (let cc = 0; cc < 16; cc++) set(JCC[cc], K_JCC, cc);
  set(jmpRel, K_JMP); set(grp2Ev, K_SHIFT); set(imulGvEv, K_IMUL); set(mulEv, K_MUL); set(callRel, K_CALL); set(retNear, K_RET);
  set(cmovcc, K_CMOV); set(setcc, K_SETCC); set(movsxb, K_MOVSX_B); set(movsxw, K_MOVSX_W); set(movGbEb, K_MOV_GB_EB);
  set(movEbGb, K_MOV_EB_GB); set(movEvIz, K_MOV_EV_IZ); set(aluAXIz, K_ALU_EAX_IMM);
  set(btEvIb, K_BT_IMM); set(movMoffs, K_MOV_MOFFS); set(grp1Eb, K_ALU_EB_IMM); set(pushEv, K_PUSH_EV); set(jmpEv, K_JMP_EV);
  set(testAXIz, K_TEST_EAX_IMM); set(testALIb, K_TEST_AL_IMM); set(testEbIb, K_TEST_EB_IMM); set(negEv, K_NEG); set(notEv, K_NOT);
  set(bswap, K_BSWAP); set(sahf, K_SAHF); set(aluALIb, K_ALU_AL_IMM); set(aluGbEb, K_ALU_GB_EB); set(testEbGb, K_TEST_EB_GB);
  set(movRegIb, K_MOV_REG_IB); set(incEv, K_INC_DEC_EV, 0); set(decEv, K_INC_DEC_EV, 1); set(nop, K_NOP); set(leave, K_LEAVE);
  set(lods, K_LODS); set(scas, K_SCAS);
}

/**
 * What the compiler knows about EFLAGS at the instruction being compiled: boolean expressions for
 * CF, ZF, SF, OF over the locals the last flag-setting inline instruction left (`fa`, `fb` its
 * operands, `fv` its result, `fc` its carry), or null where it does not know. A Jcc, SETcc,
 * CMOVcc or ADC/SBB carry-in right after a CMP, SUB, TEST, ADD... tests the operands directly
 * instead of asking the lazy flags (a call V8 does not inline in long blocks). The lazy flags are
 * still stored for everything after the block.
 */
interface KnownFlags { cf: string | null; zf: string | null; sf: string | null; of: string | null; signedLess: string | null }
/** The flags at the current instruction (null: unknown, e.g. at the block start or after a handler call). */
let known: KnownFlags | null = null;
/** What the instruction just compiled left: undefined = EFLAGS untouched (MOV, LEA, PUSH...). */
let produced: KnownFlags | null | undefined = null;

const RESULT = { zf: 'fv === 0', sf: 'fv < 0' };
const AFTER_SUB: KnownFlags = { ...RESULT, cf: '(fa >>> 0) < (fb >>> 0)', of: '((fa ^ fb) & (fa ^ fv)) < 0', signedLess: '(fa | 0) < (fb | 0)' };
const AFTER_ADD: KnownFlags = { ...RESULT, cf: '(fv >>> 0) < (fa >>> 0)', of: '((fa ^ fv) & (fb ^ fv)) < 0', signedLess: null };
const AFTER_LOGIC: KnownFlags = { ...RESULT, cf: 'false', of: 'false', signedLess: 'fv < 0' };
/** After a byte operation: operands 0-255 in fa/fb, the unmasked result in fv. */
const BYTE_SF = '(fv & 128) !== 0';
const AFTER_ADD8: KnownFlags = { zf: '(fv & 255) === 0', sf: BYTE_SF, cf: 'fv > 255', of: '((fa ^ fv) & (fb ^ fv) & 128) !== 0', signedLess: null };
const AFTER_SUB8: KnownFlags = { zf: 'fa === fb', sf: BYTE_SF, cf: 'fa < fb', of: '((fa ^ fb) & (fa ^ fv) & 128) !== 0', signedLess: '((fa << 24) | 0) < ((fb << 24) | 0)' };
const AFTER_LOGIC8: KnownFlags = { zf: 'fv === 0', sf: BYTE_SF, cf: 'false', of: 'false', signedLess: BYTE_SF };
/** ADC/SBB leave their carry in `fc`; OF as ADD/SUB (the carry-in does not change the sign rule). */
const AFTER_ADC: KnownFlags = { ...AFTER_ADD, cf: 'fc !== 0' };
const AFTER_SBB: KnownFlags = { ...AFTER_SUB, cf: 'fc !== 0', signedLess: null };
const AFTER_INC: KnownFlags = { ...RESULT, cf: null, of: 'fv === -2147483648', signedLess: null };
const AFTER_DEC: KnownFlags = { ...RESULT, cf: null, of: 'fv === 2147483647', signedLess: null };
/** BT sets CF only (kept in `fc`); the other flags are whatever they were, so unknown here. */
const AFTER_BT: KnownFlags = { cf: 'fc !== 0', zf: null, sf: null, of: null, signedLess: null };

/** Condition `cc` (Jcc order) from what is known about the flags, else through the lazy flags. */
function condition(cc: number): string {
  const f = known;
  if (f !== null) {
    const { cf, zf, sf, of } = f;
    const less = f.signedLess ?? (sf !== null && of !== null ? `(${sf}) !== (${of})` : null);
    let e: string | null = null;
    switch (cc >> 1) {
      case 0: e = of; break;
      case 1: e = cf; break;
      case 2: e = zf; break;
      case 3: e = cf !== null && zf !== null ? `(${cf}) || (${zf})` : null; break;
      case 4: e = sf; break;
      case 5: e = null; break; // PF: through the lazy flags
      case 6: e = less; break;
      case 7: e = less !== null && zf !== null ? `(${zf}) || (${less})` : null; break;
    }
    if (e !== null) return (cc & 1) === 0 ? `(${e})` : `!(${e})`;
  }
  readsLazyFlags = true;
  return CONDITION[cc]!;
}

/** The lazy-flag state of a result of operand size `size` (0 byte, 1 word, 2 dword; core.ts setLazy(), written out); `kind` is an OP_ number or the local holding one. */
function lazyStore(kind: number | string, a: string, b: string, v: string, size = 2, lazy = ARITH): string {
  return `c.lfOp = ${kind}; c.lfDst = ${a}; c.lfSrc = ${b}; c.lfRes = ${v}; c.lfSize = ${size}; c.lazy = ${lazy};`;
}

/**
 * A deferred INC (ADD 1) or DEC (SUB 1): its kind plus KEEPS_CF. Its lazy state is fa/fb/fv like
 * the others' and the CF it keeps is in `fc` (setLazyKeepCf() written out).
 */
const KEEPS_CF = 8;
/**
 * A deferred MUL/IMUL: its result in `fv`, its overflow (CF = OF) in `fc` (multiplyFlags()). The
 * multi-precision loops of Linux's RSA checks run IMULs back to back, each of which stored the
 * whole flag state that the next one replaced.
 */
const MULTIPLIED = 16;
/** A deferred byte operation (ADD, SUB/CMP, logic): its kind plus BYTE_OP, operand size 0. */
const BYTE_OP = 32;
/** After a multiply: CF and OF from `fc`; SF, ZF (undefined on hardware) through the lazy state. */
const AFTER_MULTIPLY: KnownFlags = { cf: 'fc !== 0', zf: null, sf: null, of: 'fc !== 0', signedLess: null };
/**
 * A deferred INC or DEC whose CF comes from CpuCore's lazy state (nothing known in locals): its
 * kind plus CORE_CF, result in `fv`, operand in `fa`. CpuCore still holds the state before it, so
 * setLazyKeepCf() can run where the state is written; when the next instruction replaces all the
 * flags (the usual `inc ebx; xor dl, [ebx - 1]`) it never runs.
 */
const CORE_CF = 64;
/**
 * The deferred state a one-block loop carries round its back edge (see compileBlock): `fk` says
 * whether the pass before left the carried kind in fa/fb/fv/fc (1) or CpuCore holds the state (0,
 * the first pass).
 */
const LOOP_CARRIED = 128;
/**
 * A deferred ADC or SBB: which of its two kinds (OP_ADC or OP_ADD, OP_SBB or OP_SUB) depends on
 * the carry-in, so the kind waits in `fo`, the operands and result in fa/fb/fv like any other's. The
 * multi-precision loops of Linux's RSA checks run one ADC a pass whose flags the next ADD replaces;
 * it wrote CpuCore's whole lazy state every pass.
 */
const CARRY_OP = 256;
/** The statements that give CpuCore the lazy state of deferred kind `kind` (see flagEffect). */
function deferredStore(kind: number): string {
  if (kind === CARRY_OP) return `${lazyStore('fo', 'fa', 'fb', 'fv')} `;
  if (kind >= CORE_CF) return `c.setLazyKeepCf(${kind - CORE_CF}, fa, fv, 2); `;
  if (kind === MULTIPLIED) return `${lazyStore(OP_LOGIC, '0', '0', 'fv', 2, PF | ZF | SF)} c.flags = (c.flags & ${~(CF | OF | AF)}) | (fc !== 0 ? ${CF | OF} : 0); `;
  if (kind < KEEPS_CF) return `${lazyStore(kind, 'fa', 'fb', 'fv')} `;
  if (kind >= BYTE_OP) return `${lazyStore(kind - BYTE_OP, 'fa', 'fb', 'fv', 0)} `;
  return `c.flags = (c.flags & ${~CF}) | fc; ${lazyStore(kind - KEEPS_CF, 'fa', 'fb', 'fv', 2, ARITH & ~CF)} `;
}
/** After a shift by a constant (setLazyShift(): OF in fa, CF in fb). */
const AFTER_SHIFT: KnownFlags = { ...RESULT, cf: 'fb !== 0', of: 'fa !== 0', signedLess: null };

/** `r = a OP b` with its lazy flags (alu()'s code for one constant operation). */
function aluCode(op: number, a: string, b: string, store: (result: string) => string, deferFlags = true): string | null {
  // ADD, OR, AND, SUB, XOR, CMP: the lazy state stays in fa/fb/fv until something needs it in
  // CpuCore (see flagEffect); ADC and SBB choose their kind at run time and keep it in `fo`
  // (CARRY_OP), or store it at once when the caller wants the flags written.
  const lazy = (kind: number, defer = deferFlags): string => {
    if (defer) {
      flagEffect = kind;
      return 'fa = a; fb = b; fv = v;';
    }
    flagEffect = FLAGS_WRITTEN;
    return `${lazyStore(kind, 'a', 'b', 'v')} fa = a; fb = b; fv = v;`;
  };
  const carryLazy = (kind: number): string => {
    if (!deferFlags) return lazy(kind);
    flagEffect = CARRY_OP;
    return `fo = ${kind}; fa = a; fb = b; fv = v;`;
  };
  let body: string;
  switch (op) {
    case 0: body = `const v = (a + b) | 0; ${lazy(OP_ADD)} ${store('v')}`; produced = AFTER_ADD; break;
    case 1: body = `const v = a | b; ${lazy(OP_LOGIC)} ${store('v')}`; produced = AFTER_LOGIC; break;
    case 4: body = `const v = a & b; ${lazy(OP_LOGIC)} ${store('v')}`; produced = AFTER_LOGIC; break;
    case 5: body = `const v = (a - b) | 0; ${lazy(OP_SUB)} ${store('v')}`; produced = AFTER_SUB; break;
    case 6: body = `const v = a ^ b; ${lazy(OP_LOGIC)} ${store('v')}`; produced = AFTER_LOGIC; break;
    case 7: body = `const v = (a - b) | 0; ${lazy(OP_SUB)}`; produced = AFTER_SUB; break;
    case 2: // ADC: the carry-in decides between ADC and ADD flags, as alu() does
      body = `let v; if (${carryIn()}) { v = (a + b + 1) | 0; ${carryLazy(OP_ADC)} fc = (v >>> 0) <= (a >>> 0) ? 1 : 0; } ` +
        `else { v = (a + b) | 0; ${carryLazy(OP_ADD)} fc = (v >>> 0) < (a >>> 0) ? 1 : 0; } ${store('v')}`;
      produced = AFTER_ADC;
      break;
    case 3: // SBB
      body = `let v; if (${carryIn()}) { v = (a - b - 1) | 0; ${carryLazy(OP_SBB)} fc = (a >>> 0) <= (b >>> 0) ? 1 : 0; } ` +
        `else { v = (a - b) | 0; ${carryLazy(OP_SUB)} fc = (a >>> 0) < (b >>> 0) ? 1 : 0; } ${store('v')}`;
      produced = AFTER_SBB;
      break;
    default: return null;
  }
  return `{ const a = ${a}, b = ${b}; ${body} }`;
}

/**
 * `a OP b` on a byte (alu() with size 0 for one constant operation other than ADC/SBB: the lazy
 * flags get the unmasked result, as the handler stores them), `store` given the result. Both
 * operands are bytes (0-255), and the lazy state waits in fa/fb/fv like a dword operation's
 * (BYTE_OP), so `test al, 2; jz` tests `fv === 0` instead of asking the lazy flags.
 */
function byteAluCode(op: number, a: string, b: string, store: (result: string) => string): string | null {
  const kind = op === 0 ? OP_ADD : op === 5 || op === 7 ? OP_SUB : op === 1 || op === 4 || op === 6 ? OP_LOGIC : -1;
  if (kind < 0) return null;
  const expression = ['(a + b) | 0', 'a | b', '', '', 'a & b', '(a - b) | 0', 'a ^ b', '(a - b) | 0'][op]!;
  produced = kind === OP_ADD ? AFTER_ADD8 : kind === OP_SUB ? AFTER_SUB8 : AFTER_LOGIC8;
  flagEffect = BYTE_OP + kind;
  return `{ const a = ${a}, b = ${b}, v = ${expression}; fa = a; fb = b; fv = v; ${op === 7 ? '' : store('v')} }`;
}

/** CF as a boolean expression, from the known flags when possible. */
function carryIn(): string {
  if (known?.cf != null) return known.cf;
  readsLazyFlags = true;
  return 'c.getCF() !== 0';
}

/**
 * A 32-bit load from segment `seg` at offset expression `ea` into the new local `m`: the common case
 * (segment without special checks, within its limit, not crossing a page, TLB hit on plain RAM,
 * dword aligned) read straight from RAM, everything else through `c.readSeg32` (limit and type
 * checks, #GP/#SS, page walks, #PF, MMIO, #AC, data breakpoints), exactly as core.ts decides.
 * Written out because V8's inlining budget runs out after a few calls in a long compiled block.
 */
function load32(seg: number, ea: string): string {
  return load(4, seg, ea);
}
/** The store counterpart of {@link load32}: pages holding decoded code take the slow path (which invalidates them). */
function store32(seg: number, ea: string, value: string): string {
  return store(4, seg, ea, value);
}

/** The RAM view, alignment test and slow-path accessor suffix of each access size (1, 2, 4 bytes). */
const ACCESS: Record<number, { view: string; index: string; aligned: string; suffix: string }> = {
  1: { view: 'M8', index: viewIndex('p', 1), aligned: 'true', suffix: '8' },
  2: { view: 'M16', index: viewIndex('p', 2), aligned: '(p & 1) === 0', suffix: '16' },
  4: { view: 'M32', index: viewIndex('p', 4), aligned: '(p & 3) === 0', suffix: '32' },
};
/** The index in the RAM view of `size`-byte elements of the byte offset expression `at`. */
function viewIndex(at: string, size: number): string {
  return size === 4 ? `${at} >>> 2` : size === 2 ? `${at} >>> 1` : at;
}
/** ` && ` the test that linear `l` is aligned for an access of `size` bytes (nothing for bytes). */
function andAligned(size: number): string {
  return size === 4 ? ' && (l & 3) === 0' : size === 2 ? ' && (l & 1) === 0' : '';
}

/**
 * The RAM fast path of a `size`-byte access at offset `ea` of segment `seg`: `locals` computes the
 * offset `o`, linear `l`, TLB index `i` and entry `t`, and RAM offset `p` (the same as the two
 * declarations `address`, of `o` and `l`, and `tlb`, of the rest); `test` holds when the
 * access can go straight to RAM (what core.ts's readSeg and writeSeg accessors would find: no special segment
 * checks, within the limit, TLB hit on plain RAM, aligned, and for writes no decoded code on the page).
 */
function ramFastPath(size: number, seg: number, ea: string, write: boolean): { locals: string; address: string; tlb: string; test: string } {
  segmentsUsed |= 1 << seg;
  if ((flatSegments & (1 << seg)) !== 0 && directRam) {
    // Paging off (when compiled; `dlN` is 0 when it is on at run time or the segment is not flat):
    // the linear address is the RAM offset (core.ts directEnd), no TLB. `t` is its page, as the
    // TLB value would be, for the frame-page memos.
    const address = `const o = ${ea}, l = o`;
    const tlb = 'const t = l & -4096, p = l';
    return {
      locals: `${address}, ${tlb.slice('const '.length)}`, address, tlb,
      test: `(l >>> 0) < dl${seg}${andAligned(size)}${write ? ' && CP[l >>> 12] === 0' : ''}`,
    };
  }
  if ((flatSegments & (1 << seg)) !== 0) {
    // A flat segment (base 0, limit 4 GiB - 1, no special checks): the linear address is the
    // offset, and an aligned access cannot pass the limit. `urN`/`uwN` look up in the TLB part
    // that never hits when the segment is not flat (any more) at run time (segmentLoads()).
    // RAM entries have their low 12 bits clear and the others bit 0 set, so one test covers
    // plain RAM and alignment.
    const address = `const o = ${ea}, l = o`;
    const tlb = `const i = ${write ? 'uw' : 'ur'}${seg} | ((l >>> 12) & ${(1 << TLB_BITS) - 1}), t = TV[i], p = t | (l & 4095)`;
    const ramAndAligned = size === 4 ? '((t | l) & 3) === 0' : size === 2 ? '((t | l) & 1) === 0' : '(t & 1) === 0';
    return {
      locals: `${address}, ${tlb.slice('const '.length)}`, address, tlb,
      test: `TT[i] === ((l & -4096) | 1) && ${ramAndAligned}${write ? ' && CP[t >>> 12] === 0' : ''} && ${ACCESS[size]!.view} !== null`,
    };
  }
  const address = `const o = ${ea}, l = (sb${seg} + o) | 0`;
  const tlb = `const i = ${write ? 'UW' : 'UR'} | ((l >>> 12) & ${(1 << TLB_BITS) - 1}), t = TV[i], p = t | (l & 4095)`;
  return {
    locals: `${address}, ${tlb.slice('const '.length)}`, address, tlb,
    test: `(o >>> 0) + ${size - 1} <= sm${seg} && TT[i] === ((l & -4096) | 1) && (t & 1) === 0 && ` +
      `${ACCESS[size]!.aligned}${write ? ' && CP[t >>> 12] === 0' : ''} && ${ACCESS[size]!.view} !== null`,
  };
}

/** Segments whose fast-path locals the instruction being compiled uses (bit per segment). */
let segmentsUsed = 0;

/**
 * The statements that load segment `seg`'s fast-path locals: `sb` its base, `sm` its limit when
 * the segment needs no special checks, else -1 (so every offset takes the slow path). Segment
 * registers change only in handlers (MOV Sreg, POP Sreg, far transfers...), so the compiled code
 * loads them before the first access after the block start or a handler call.
 */
function segmentLoads(mask: number): string {
  let code = '';
  for (let seg = 0; seg < 8; seg++) {
    if ((mask & (1 << seg)) === 0) continue;
    code += (flatSegments & (1 << seg)) === 0 ? `sb${seg} = SB[${seg}]; sm${seg} = SC[${seg}] === 0 ? SL[${seg}] : -1; `
      : directRam ? `if ((SB[${seg}] | SC[${seg}]) === 0 && SL[${seg}] === 4294967295) dl${seg} = c.directEnd >>> 0; else dl${seg} = 0; `
        : `if ((SB[${seg}] | SC[${seg}]) === 0 && SL[${seg}] === 4294967295) { ur${seg} = UR; uw${seg} = UW; } else { ur${seg} = ${NEVER_HITS}; uw${seg} = ${NEVER_HITS}; } `;
  }
  return code;
}

/** The first TLB index of the part that is never filled (core.ts TLB_NEVER). */
const NEVER_HITS = TLB_NEVER << TLB_BITS;

/**
 * The segments flat (base 0, limit 4 GiB - 1, no special checks) when the block being compiled
 * was compiled: their accesses are compiled for a flat segment (see ramFastPath).
 */
let flatSegments = 0;
/**
 * Whether the block being compiled reaches RAM straight through flat segments (paging off and
 * core.ts directEnd set when compiled): the compiled code checks `dlN` (that, at run time) instead
 * of looking the page up in the TLB, two dependent loads fewer before every access. The Debian
 * kernel's XZ decompression, 2.4 G instructions with paging off, ran in 4.4-4.6 s instead of
 * 7.3-7.5 s (README, "Memory path").
 */
let directRam = false;
/** Whether a block compiled now reaches RAM without the TLB (see directRam). */
export function compilesDirect(c: CpuCore): boolean {
  return (c.cr0 & CR0_PG) === 0 && c.directEnd !== 0;
}
function flatSegmentsOf(c: CpuCore): number {
  let mask = 0;
  for (let seg = 0; seg < 8; seg++) {
    if (c.segBase[seg] === 0 && c.segLimit[seg] === 4294967295 && c.segCheck[seg] === 0) mask |= 1 << seg;
  }
  return mask;
}

/** A load of `size` bytes (zero-extended) into the new local `m` (or the existing one with `declare` false); see {@link load32}. */
function load(size: number, seg: number, ea: string, declare = true, frame = frameAccess(ea)): string {
  const a = ACCESS[size]!, path = ramFastPath(size, seg, ea, false);
  const slow = `${SLOW_ENTRY} m = c.readSeg${a.suffix}(${seg}, o); sl = 1; ${SLOW_EXIT}`;
  const slot = size === 4 ? frameSlot(seg, ea) : null;
  if (slot !== null) {
    return `${declare ? 'let m; ' : ''}{ if (fr${slot} >= 0) m = M32[fr${slot}]; ` +
      `else { ${path.locals}; if (${path.test}) { m = M32[p >>> 2]; fr${slot} = p >>> 2; } else { ${slow} } } }`;
  }
  if (size === 4 && frame) {
    return `${declare ? 'let m; ' : ''}{ ${path.address}; if (${pageHit('mrl', seg)}) m = M32[(mrp | (l & 4095)) >>> 2]; ` +
      `else { ${path.tlb}; if (${path.test}) { m = M32[p >>> 2]; mrl = l & -4096; mrp = t; } else { ${slow} } } }`;
  }
  if (siteMemos) {
    const k = siteMemoCount++;
    return `${declare ? 'let m; ' : ''}{ ${path.address}; if (${pageHit(`ms${k}`, seg, size)}) m = ${a.view}[${memoIndex(`mp${k}`, size)}]; ` +
      `else { ${path.tlb}; if (${path.test}) { m = ${a.view}[${a.index}]; ms${k} = l & -4096; mp${k} = t; } else { ${slow} } } }`;
  }
  return `${declare ? 'let m; ' : ''}{ ${path.locals}; if (${path.test}) m = ${a.view}[${a.index}]; else { ${slow} } }`;
}
/** A store of the low `size` bytes of `value`; see {@link store32}. */
function store(size: number, seg: number, ea: string, value: string, frame = frameAccess(ea)): string {
  const a = ACCESS[size]!, path = ramFastPath(size, seg, ea, true);
  const slow = `${SLOW_ENTRY} c.writeSeg${a.suffix}(${seg}, o, x); sl = 1; ${SLOW_EXIT}`;
  const slot = size === 4 ? frameSlot(seg, ea) : null;
  if (slot !== null) {
    // Writable through the write half of the TLB: readable as well, so loads of the slot may use it too.
    return `{ const x = ${value}; if (fw${slot} >= 0) M32[fw${slot}] = x; ` +
      `else { ${path.locals}; if (${path.test}) { M32[p >>> 2] = x; fw${slot} = fr${slot} = p >>> 2; } else { ${slow} } } }`;
  }
  if (size === 4 && frame) {
    return `{ ${path.address}, x = ${value}; if (${pageHit('mwl', seg)}) M32[(mwp | (l & 4095)) >>> 2] = x; ` +
      `else { ${path.tlb}; if (${path.test}) { M32[p >>> 2] = x; mwl = l & -4096; mwp = t; } else { ${slow} } } }`;
  }
  if (siteMemos) {
    // As for the stack-frame page (mwl): a page stored to once holds no decoded code for the rest of the run.
    const k = siteMemoCount++;
    return `{ ${path.address}, x = ${value}; if (${pageHit(`ms${k}`, seg, size)}) ${a.view}[${memoIndex(`mp${k}`, size)}] = x; ` +
      `else { ${path.tlb}; if (${path.test}) { ${a.view}[${a.index}] = x; ms${k} = l & -4096; mp${k} = t; } else { ${slow} } } }`;
  }
  return `{ ${path.locals}, x = ${value}; if (${path.test}) ${a.view}[${a.index}] = x; else { ${slow} } }`;
}

/**
 * Site memos: in a one-block loop (which runs its accesses pass after pass), each load and store
 * that is neither a frame slot nor a stack-frame access remembers the page it last went to RAM
 * through the TLB (`msK` linear page, `mpK` the TLB value), like the stack-frame page (`mrl`), and
 * the next access to that page is one compare, with no TLB loads before the RAM access. Forgotten
 * with the frame slots (after handler calls). Not with paging off, where the TLB is not used
 * (directRam).
 */
let siteMemos = false;
let siteMemoCount = 0;
/** The RAM view index of `l` in the page whose TLB value is `memo`, for an access of `size` bytes. */
function memoIndex(memo: string, size: number): string {
  return viewIndex(`(${memo} | (l & 4095))`, size);
}

/**
 * Whether offset expression `ea` (from effectiveAddress) is ESP or EBP plus a displacement, without
 * an index: a stack-frame access. Compiled code keeps the last page such dword loads, and such
 * stores, went to RAM through the TLB (`mrl`/`mrp`, `mwl`/`mwp`: linear page, TLB value), and
 * takes the next access to that page with three tests instead of the TLB lookup. Nothing within a
 * block run changes a translation without a handler call (MOV CR3, INVLPG, a task switch...), after
 * which both are forgotten; no page becomes a code page without decoding, which compiled code does
 * not do; and a page reached through the write half of the TLB has its dirty bit set already.
 * The frames of C code with a frame pointer, and spilled registers, are most of the memory
 * operands of the guests' hot loops (the kernel's multi-precision arithmetic, busybox's sha256).
 */
function frameAccess(ea: string): boolean {
  return /R\[(8|10)\]/.test(ea) && !ea.includes('<<');
}

/**
 * Frame slots: the dwords at EBP + a constant displacement. While EBP, the segments and the
 * translations stay as they are, such an operand is the same dword of RAM every time, so compiled
 * code remembers its RAM index (`frN` after a load went straight to RAM, `fwN` after a store did,
 * which also allows loads) and the next access is one test. They are forgotten (-1) where EBP is
 * written and after every handler call (which may load a segment register or change a
 * translation: see {@link frameAccess}); a one-block loop keeps them from one pass to the next.
 * C code compiled with a frame pointer keeps its locals there, and in register-starved loops
 * (the kernel's multi-precision arithmetic) most operands are such locals.
 */
const frameSlots = new Map<string, number>();
/** The number of the frame slot of a dword access at offset `ea` of segment `seg`, or null when it is not one. */
function frameSlot(seg: number, ea: string): number | null {
  const match = /^\(\((-?\d+) \+ R\[10\]\) \| 0\)$/.exec(ea);
  if (match === null) return null;
  const key = `${seg}:${match[1]}`;
  let slot = frameSlots.get(key);
  if (slot === undefined) frameSlots.set(key, slot = frameSlots.size);
  return slot;
}
/** Marks where every frame slot is forgotten (replaced in {@link finish}). */
const FORGET_FRAME_SLOTS = '/*forget frame slots*/';

/**
 * The test that the `size`-byte access at linear `l` (offset `o` of segment `seg`) is in the
 * remembered page `memo`: aligned (so within that page) and within the segment's limit.
 */
function pageHit(memo: string, seg: number, size = 4): string {
  // A flat segment must still be flat: the page may have been remembered through another segment.
  if ((flatSegments & (1 << seg)) !== 0) {
    return `(l & -4096) === ${memo}${andAligned(size)} && ${directRam ? `dl${seg} !== 0` : `ur${seg} !== ${NEVER_HITS}`}`;
  }
  return `(l & -4096) === ${memo}${andAligned(size)} && (o >>> 0) + ${size - 1} <= sm${seg}`;
}

/**
 * Markers around every call on an inline slow path (accessor, PUSH/POP helper or handler). The
 * main loop replaces them with the instruction's bookkeeping (EIP, fault EIP, retired count), so
 * that an instruction whose RAM fast paths ran writes none of it; see {@link deferredBookkeeping}.
 */
const SLOW_ENTRY = '/*<*/', SLOW_EXIT = '/*>*/';

/**
 * What the instruction being compiled does to the lazy flags in CpuCore, for deferring their
 * stores: an ALU operation leaves its kind here (>= 0) with its lazy state in fa/fb/fv only, and
 * the compiled code writes that state to CpuCore (see `materialise` in compileBlock) only where
 * something can see it: before an instruction that reads or partly updates the lazy flags, before
 * a handler call, on every slow path, and on every way out of the block. An instruction that
 * replaces the whole lazy state (FLAGS_WRITTEN) makes a deferred state dead. A rotate by a
 * constant (FLAGS_ROTATED) replaces CF and OF only: its bits wait in `fr` and are applied after the
 * deferred state. FLAGS_NEEDED (the default) writes it first.
 */
const FLAGS_NEEDED = -1, FLAGS_KEPT = -2, FLAGS_WRITTEN = -3, FLAGS_ROTATED = -4;
let flagEffect = FLAGS_NEEDED;
/** Whether the instruction being compiled reads the lazy flags of CpuCore (a condition or carry not known from locals). */
let readsLazyFlags = false;

/** The index in `c.r8` of byte register `n` (AL CL DL BL AH CH DH BH). */
function byteReg(n: number): number {
  return ((n & 3) << 3) | (n >> 2);
}

/**
 * `op` (ADD...XOR) on the dword at `ea` with source `b`, written back: when the dword is plain,
 * writable RAM reachable through the write TLB (what a store needs, checked before the read, as the
 * handler's linW/readW32 do), it is read, computed and stored in place; otherwise `slow`, the
 * handler itself, does all of it. The lazy flags are stored either way, but not into the operand
 * locals, so what follows tests the flags through the lazy state.
 */
function readModifyWrite(seg: number, ea: string, op: number, b: string, slow: string): string | null {
  const compute = aluCode(op, 'M32[q]', b, (v) => `M32[q] = ${v};`, false);
  produced = null;
  return compute === null ? null : inPlace32(seg, ea, compute, slow);
}

/**
 * `compute` on the dword at `ea` in place (as `M32[q]`) when it is plain, writable RAM reachable
 * through the write TLB; otherwise `slow`, the handler, does the whole instruction.
 */
function inPlace32(seg: number, ea: string, compute: string, slow: string): string {
  const path = ramFastPath(4, seg, ea, true);
  return `{ ${path.locals}; if (${path.test}) { const q = p >>> 2; ${compute} } else { ${SLOW_ENTRY} ${slow} sl = 1; ${SLOW_EXIT} } }`;
}

/** PUSH of a 32-bit value (core.ts push32()): ESP moves only after the store succeeded. */
function push32(value: string): string {
  return `{ const v = ${value}; if (c.ss32 === true) { const s = (R[8] - 4) | 0; ${store(4, SS, 's', 'v', true)} R[8] = s; } else { ${SLOW_ENTRY} c.push32(v); sl = 1; ${SLOW_EXIT} } }`;
}
/** The dword at the top of the stack into the new local `m` (core.ts peek32(0)). */
function peek32(): string {
  return `let m; if (c.ss32 === true) ${load(4, SS, 'R[8]', false)} else { ${SLOW_ENTRY} m = c.peek32(0); sl = 1; ${SLOW_EXIT} }`;
}
/** POP of a dword into the new local `m` (core.ts pop32()): ESP moves after the load. */
function pop32(): string {
  return `let m; if (c.ss32 === true) { ${load(4, SS, 'R[8]', false)} R[8] = (R[8] + 4) | 0; } else { ${SLOW_ENTRY} m = c.pop32(); sl = 1; ${SLOW_EXIT} }`;
}

/** `body` applied to the source operand: the register expression, or `m` after a {@link load32} of the memory operand. */
function withSource(memory: boolean, seg: number, ea: string, body: (source: string) => string | null, size = 4): string | null {
  const code = body(memory ? 'm' : ea);
  return code === null ? null : memory ? `{ ${load(size, seg, ea)} ${code} }` : code;
}

/**
 * The flags of a 32-bit multiply with result `v` and overflow `overflow`: SF/ZF/PF stay lazy from
 * the result, CF = OF = overflow, AF = 0 (what mulFlags() leaves, without materialising every flag
 * through setArith()), deferred like an ALU operation's (MULTIPLIED).
 */
function multiplyFlags(v: string, overflow: string): string {
  flagEffect = MULTIPLIED;
  produced = AFTER_MULTIPLY;
  return `fv = ${v}; fc = ${overflow} ? 1 : 0;`;
}

/**
 * SHL/SHR/SAR of the 16-bit register at `c.r16[index]` by the constant `count` (shiftOp() with
 * size 1, its count cases decided here), or null for other counts and operations.
 */
function shift16(op: number, index: number, count: number): string | null {
  if (count === 0 || op < 4) return null;
  let code: string;
  if (op === 5) code = `const v = ${count >= 16 ? '0' : `a >>> ${count}`}, cf = ${count > 16 ? '0' : `(a >>> ${count - 1}) & 1`}, of = (a & 0x8000) !== 0;`;
  else if (op === 7) {
    code = `const sa = (a << 16) >> 16, v = (sa >> ${count >= 16 ? 15 : count}) & 0xffff, ` +
      `cf = ${count >= 16 ? '(sa < 0 ? 1 : 0)' : `(sa >> ${count - 1}) & 1`}, of = false;`;
  } else {
    code = count > 16 ? 'const v = 0, cf = 0, of = false;'
      : `const v = (a << ${count}) & 0xffff, cf = ${count === 16 ? 'a & 1' : `(a >>> ${16 - count}) & 1`}, of = ((v & 0x8000) !== 0 ? 1 : 0) !== cf;`;
  }
  flagEffect = FLAGS_WRITTEN;
  return `{ const a = c.r16[${index}]; ${code} c.r16[${index}] = v; c.setLazyShift(v, 1, cf, of); }`;
}

/** The memory operand's offset of slot `d` as an expression (32-bit addressing only), or null. */
function effectiveAddress(c: CpuCore, d: number): string | null {
  const f = c.dEa[d];
  if ((f & EA_A16) !== 0) return null;
  const base = f & 15, index = (f >> 4) & 15, scale = (f >> 8) & 3;
  const parts = [String(c.dDisp[d])];
  if (base !== EA_NONE) parts.push(`R[${base << 1}]`);
  if (index !== EA_NONE) parts.push(`(R[${index << 1}] << ${scale})`);
  return `((${parts.join(' + ')}) | 0)`;
}

/** Inline code for slot `d` (handler `h`), or null to call the handler. */
function inlineCode(c: CpuCore, d: number, h: number, handlerCall: () => string): string | null {
  const kind = INLINE_KIND[h];
  if (kind === 0) return null;
  const o32 = (c.dPfx[d] & P_O32) !== 0;
  if (!o32 && !ANY_OPERAND_SIZE.has(kind)) return null;
  const m = c.dRm[d], reg = ((m >> 3) & 7) << 1, rm = (m & 7) << 1, ext = c.dExt[d] << 1, seg = c.dSeg[d];
  const memory = m < 0xc0;
  if (FLAGS_UNTOUCHED[kind] !== 0) {
    produced = undefined;
    flagEffect = FLAGS_KEPT;
  }
  switch (kind) {
    case K_MOV_GV_EV: { // 16-bit forms: r16 index = r32 index * 2
      const dst = o32 ? `R[${reg}]` : `c.r16[${reg << 1}]`;
      if (!memory) return `${dst} = ${o32 ? `R[${rm}]` : `c.r16[${rm << 1}]`};`;
      const ea = effectiveAddress(c, d);
      return ea === null ? null : `{ ${load(o32 ? 4 : 2, seg, ea)} ${dst} = m; }`;
    }
    case K_MOV_EV_GV: {
      const src = o32 ? `R[${reg}]` : `c.r16[${reg << 1}]`;
      if (!memory) return `${o32 ? `R[${rm}]` : `c.r16[${rm << 1}]`} = ${src};`;
      const ea = effectiveAddress(c, d);
      return ea === null ? null : store(o32 ? 4 : 2, seg, ea, src);
    }
    case K_MOV_GB_EB: {
      const dst = `c.r8[${byteReg((m >> 3) & 7)}]`;
      if (!memory) return `${dst} = c.r8[${byteReg(m & 7)}];`;
      const ea = effectiveAddress(c, d);
      return ea === null ? null : `{ ${load(1, seg, ea)} ${dst} = m; }`;
    }
    case K_MOV_EB_GB: {
      const src = `c.r8[${byteReg((m >> 3) & 7)}]`;
      if (!memory) return `c.r8[${byteReg(m & 7)}] = ${src};`;
      const ea = effectiveAddress(c, d);
      return ea === null ? null : store(1, seg, ea, src);
    }
    case K_MOV_EV_IZ: { // C7 /0 only (other ModRM.reg values are #UD: the handler decides)
      if (((m >> 3) & 7) !== 0) return null;
      if (!memory) return `R[${rm}] = ${c.dImm[d]};`;
      const ea = effectiveAddress(c, d);
      return ea === null ? null : store32(seg, ea, String(c.dImm[d]));
    }
    case K_MOVSX_B: {
      if (!memory) return `R[${reg}] = (c.r8[${byteReg(m & 7)}] << 24) >> 24;`;
      const ea = effectiveAddress(c, d);
      return ea === null ? null : `{ ${load(1, seg, ea)} R[${reg}] = (m << 24) >> 24; }`;
    }
    case K_MOVSX_W: {
      if (!memory) return `R[${reg}] = (R[${rm}] << 16) >> 16;`;
      const ea = effectiveAddress(c, d);
      return ea === null ? null : `{ ${load(2, seg, ea)} R[${reg}] = (m << 16) >> 16; }`;
    }
    case K_LEA: {
      const ea = memory ? effectiveAddress(c, d) : null; // LEA with a register operand is #UD: the handler raises it
      return ea === null ? null : `R[${reg}] = ${ea};`;
    }
    case K_PUSH: return push32(`R[${ext}]`);
    case K_POP: return `{ ${pop32()} R[${ext}] = m; }`;
    case K_MOV_IMM: return `R[${ext}] = ${c.dImm[d]};`;
    case K_INC: case K_DEC: { // ADD/SUB 1 keeping CF (setLazyKeepCf())
      const op = kind === K_INC ? OP_ADD : OP_SUB, after = kind === K_INC ? AFTER_INC : AFTER_DEC;
      const v = `(a ${kind === K_INC ? '+' : '-'} 1) | 0`;
      if (known?.cf == null) {
        // CF from CpuCore: whatever is deferred is written first, then this one waits (CORE_CF).
        produced = after;
        readsLazyFlags = true;
        flagEffect = CORE_CF + op;
        return `{ const a = R[${ext}], v = ${v}; R[${ext}] = v; fa = a; fv = v; }`;
      }
      // CF known from locals: kept in fc, and the whole lazy state deferred.
      produced = { ...after, cf: 'fc !== 0' };
      flagEffect = KEEPS_CF + op;
      return `{ const a = R[${ext}], v = ${v}; R[${ext}] = v; fc = (${known.cf}) ? 1 : 0; fa = a; fb = 1; fv = v; }`;
    }
    case K_ALU_RM_REG: return aluCode(INLINE_OP[h], `R[${rm}]`, `R[${reg}]`, (v) => `R[${rm}] = ${v};`);
    case K_ALU_REG_RM: return aluCode(INLINE_OP[h], `R[${reg}]`, `R[${rm}]`, (v) => `R[${reg}] = ${v};`);
    case K_ALU_RM_IMM: return aluCode(INLINE_OP[h], `R[${rm}]`, String(c.dImm[d]), (v) => `R[${rm}] = ${v};`);
    case K_ALU_EAX_IMM: return aluCode(c.dExt[d], 'R[0]', String(c.dImm[d]), (v) => `R[0] = ${v};`); // ADD/OR/.../CMP EAX, imm32
    case K_CMP_EV_GV: { // memory forms only (the decoder specialised the 32-bit register forms)
      const ea = memory ? effectiveAddress(c, d) : null;
      if (ea === null) return null;
      if (c.dExt[d] !== 7) return readModifyWrite(seg, ea, c.dExt[d], `R[${reg}]`, handlerCall());
      return withSource(true, seg, ea, (src) => aluCode(7, src, `R[${reg}]`, () => ''));
    }
    case K_CMP_EV_IMM: {
      const ea = memory ? effectiveAddress(c, d) : null;
      if (ea === null) return null;
      if (((m >> 3) & 7) !== 7) return readModifyWrite(seg, ea, (m >> 3) & 7, String(c.dImm[d]), handlerCall());
      return withSource(true, seg, ea, (src) => aluCode(7, src, String(c.dImm[d]), () => ''));
    }
    case K_TEST: {
      if (!o32) { // TEST r16, r16 (alu() with size 1); the memory forms: the handler
        if (memory) return null;
        produced = null;
        flagEffect = FLAGS_WRITTEN;
        return `{ const a = c.r16[${rm << 1}], b = c.r16[${reg << 1}], v = a & b; ${lazyStore(OP_LOGIC, 'a', 'b', 'v', 1)} }`;
      }
      const ea = memory ? effectiveAddress(c, d) : `R[${rm}]`;
      return ea === null ? null : withSource(memory, seg, ea, (src) => aluCode(4, src, `R[${reg}]`, () => ''));
    }
    case K_MOVZX_B: { // byte registers: AL..BL are bits 0-7 of EAX..EBX, AH..BH bits 8-15
      if (!memory) return `R[${reg}] = (R[${(m & 3) << 1}] >>> ${(m & 4) !== 0 ? 8 : 0}) & 0xff;`;
      const ea = effectiveAddress(c, d);
      return ea === null ? null : `{ ${load(1, seg, ea)} R[${reg}] = m; }`;
    }
    case K_MOVZX_W: {
      if (!memory) return `R[${reg}] = R[${rm}] & 0xffff;`;
      const ea = effectiveAddress(c, d);
      return ea === null ? null : `{ ${load(2, seg, ea)} R[${reg}] = m; }`;
    }
    case K_CMOV: { // the source is read (and may fault) whatever the condition, as cmovcc() does
      const ea = memory ? effectiveAddress(c, d) : `R[${rm}]`;
      if (ea === null) return null;
      return withSource(memory, seg, ea, (src) => `{ const v = ${src}; if (${condition(c.dExt[d])}) R[${reg}] = v; }`);
    }
    case K_SETCC: { // register form: the byte register (setcc() writes 1 or 0 through wrEb)
      if (memory) return null;
      return `c.r8[${byteReg(m & 7)}] = ${condition(c.dExt[d])} ? 1 : 0;`;
    }
    case K_SHIFT: { // shifts and rotates of a 32-bit register (shiftOp()'s code for each)
      const op = (m >> 3) & 7;
      if (memory || op === 2 || op === 3) return null; // RCL/RCR: the handler
      if (!o32) return shift16(op, rm << 1, c.dExt[d] === 0 ? c.dImm[d]! & 31 : c.dExt[d] === 1 ? 1 : 0);
      if (c.dExt[d] !== 0 && c.dExt[d] !== 1) { // count in CL: SHL/SHR/SAR only, nothing happens for 0
        if (op < 4) return null;
        const shifted = op === 5 ? `const v = a >>> n; R[${rm}] = v; c.setLazyShift(v, 2, (a >>> (n - 1)) & 1, a < 0);`
          : op === 7 ? `const v = a >> n; R[${rm}] = v; c.setLazyShift(v, 2, (a >> (n - 1)) & 1, false);`
            : `const v = a << n, f = (a >>> (32 - n)) & 1; R[${rm}] = v; c.setLazyShift(v, 2, f, ((v < 0 ? 1 : 0) ^ f) !== 0);`;
        return `{ const n = c.r8[8] & 31; if (n !== 0) { const a = R[${rm}]; ${shifted} } }`;
      }
      const count = (c.dExt[d] === 0 ? c.dImm[d] : 1) & 31;
      if (count === 0) return null;
      // Rotates set CF and OF only: those two leave the lazy set, the others stay lazy.
      // Their CF and OF bits wait in `fr` with whatever lazy state is deferred (FLAGS_ROTATED).
      if (op === 0 || op === 1) flagEffect = FLAGS_ROTATED;
      if (op === 0) return `{ const a = R[${rm}], v = (a << ${count}) | (a >>> ${32 - count}), cf = v & 1; R[${rm}] = v; fr = cf | (((v >>> 31) ^ cf) !== 0 ? ${OF} : 0); }`;
      if (op === 1) return `{ const a = R[${rm}], v = (a >>> ${count}) | (a << ${32 - count}), cf = v >>> 31; R[${rm}] = v; fr = cf | ((cf ^ ((v >>> 30) & 1)) !== 0 ? ${OF} : 0); }`;
      // SHL/SHR/SAR by a non-zero constant: setLazyShift()'s state (OF in fa, CF in fb), deferred.
      flagEffect = OP_SHIFT;
      produced = AFTER_SHIFT;
      const [value, carry, overflow] = op === 5 ? [`a >>> ${count}`, `(a >>> ${count - 1}) & 1`, 'a < 0 ? 1 : 0']
        : op === 7 ? [`a >> ${count}`, `(a >> ${count - 1}) & 1`, '0']
          : [`a << ${count}`, `(a >>> ${32 - count}) & 1`, '(v >>> 31) ^ fb'];
      return `{ const a = R[${rm}], v = ${value}; R[${rm}] = v; fb = ${carry}; fa = ${overflow}; fv = v; }`;
    }
    case K_IMUL: { // IMUL r32, r/m32 (imul2()'s 32-bit code): CF = OF = the product does not fit
      const ea = memory ? effectiveAddress(c, d) : `R[${rm}]`;
      if (ea === null) return null;
      return withSource(memory, seg, ea, (src) => `{ const b = R[${reg}], a = ${src}, v = Math.imul(a, b); R[${reg}] = v; ${multiplyFlags('v', 'a * b !== v')} }`);
    }
    case K_MUL: { // MUL r/m32: EDX:EAX = EAX * src (mulu32() and mulFlags()): CF = OF = EDX != 0
      const ea = memory ? effectiveAddress(c, d) : `R[${rm}]`;
      if (ea === null) return null;
      return withSource(memory, seg, ea, (src) => `{ const a = R[0] >>> 0, b = (${src}) >>> 0; const aL = a & 0xffff, aH = a >>> 16, bL = b & 0xffff, bH = b >>> 16; ` +
        'const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH; const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff); ' +
        'const hi = (hh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) | 0, lo = ((ll & 0xffff) | (mid << 16)) | 0; ' +
        `R[0] = lo; R[4] = hi; ${multiplyFlags('lo', 'hi !== 0')} }`);
    }
    case K_ALU_GV_EV: {
      if (!memory) return null; // register forms were specialised by the decoder (or are 16-bit)
      const ea = effectiveAddress(c, d);
      const op = ea === null ? null : aluCode(c.dExt[d], `R[${reg}]`, 'm', (v) => `R[${reg}] = ${v};`);
      return ea === null || op === null ? null : `{ ${load32(seg, ea)} ${op} }`;
    }
    case K_BT_IMM: { // BT r/m32, imm8 (0F BA /4; BTS/BTR/BTC: the handler): CF = the bit, the rest untouched
      if (((m >> 3) & 7) !== 4) return null;
      const n = c.dImm[d]! & 31;
      const ea = memory ? effectiveAddress(c, d) : `R[${rm}]`;
      if (ea === null) return null;
      produced = AFTER_BT;
      return withSource(memory, seg, ea, (src) => `{ const f = (${src} >>> ${n}) & 1; c.flags = (c.flags & ${~CF}) | f; c.lazy &= ${~CF}; fc = f; }`);
    }
    case K_MOV_MOFFS: { // A0-A3: AL/EAX from or to [seg:moffs]
      const e = c.dExt[d]!;
      if ((c.dPfx[d]! & P_A32) === 0 || ((e & 1) !== 0 && !o32)) return null;
      const ea = `(${c.dDisp[d]} | 0)`;
      if ((e & 2) === 0) return (e & 1) === 0 ? `{ ${load(1, seg, ea)} c.r8[0] = m; }` : `{ ${load32(seg, ea)} R[0] = m; }`;
      return (e & 1) === 0 ? store(1, seg, ea, 'c.r8[0]') : store32(seg, ea, 'R[0]');
    }
    case K_ALU_EB_IMM: { // 80 /op r/m8, imm8: register forms, and CMP with memory (other memory forms: the handler)
      const op = (m >> 3) & 7, b = String(c.dImm[d]! & 0xff);
      if (!memory) {
        const r8 = `c.r8[${byteReg(m & 7)}]`;
        return byteAluCode(op, r8, b, (v) => `${r8} = ${v};`);
      }
      const ea = op === 7 ? effectiveAddress(c, d) : null;
      if (ea === null) return null;
      return `{ ${load(1, seg, ea)} ${byteAluCode(7, 'm', b, () => '')!} }`;
    }
    case K_PUSH_EV: { // FF /6: the operand is read (and may fault) before the push
      const ea = memory ? effectiveAddress(c, d) : `R[${rm}]`;
      if (ea === null) return null;
      return withSource(memory, seg, ea, (src) => push32(src));
    }
    case K_JMP_EV: { // FF /4: EIP from the operand, #GP(0) beyond CS.limit (the handler's go())
      flagEffect = FLAGS_NEEDED; // the #GP is not on a marked slow path
      const ea = memory ? effectiveAddress(c, d) : `R[${rm}]`;
      if (ea === null) return null;
      return withSource(memory, seg, ea, (src) => `{ const t = ${src}; if (${beyondCsLimit('t', 1)}) c.gp(0); c.eip = t; }`);
    }
    case K_TEST_EAX_IMM: return aluCode(4, 'R[0]', String(c.dImm[d]), () => '');
    case K_TEST_AL_IMM: return byteAluCode(4, 'c.r8[0]', String(c.dImm[d]! & 0xff), () => '');
    case K_TEST_EB_IMM: { // F6 /0 (and its alias /1)
      const b = String(c.dImm[d]! & 0xff);
      if (!memory) return byteAluCode(4, `c.r8[${byteReg(m & 7)}]`, b, () => '');
      const ea = effectiveAddress(c, d);
      const code = ea === null ? null : byteAluCode(4, 'm', b, () => '');
      return ea === null || code === null ? null : `{ ${load(1, seg, ea)} ${code} }`;
    }
    case K_NEG: { // F7 /3 on a register: 0 - r with SUB flags
      if (memory) return null;
      produced = AFTER_SUB;
      flagEffect = FLAGS_WRITTEN;
      return `{ const a = R[${rm}], v = (0 - a) | 0; R[${rm}] = v; ${lazyStore(OP_SUB, '0', 'a', 'v')} fa = 0; fb = a; fv = v; }`;
    }
    case K_NOT: return memory ? null : `R[${rm}] = ~R[${rm}];`; // F7 /2 on a register: no flags
    case K_BSWAP: return `{ const v = R[${ext}]; R[${ext}] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); }`;
    case K_ALU_AL_IMM: { // 04/0C/.../3C: op AL, imm8 (ADC/SBB: the handler)
      const op = c.dExt[d]!;
      return byteAluCode(op, 'c.r8[0]', String(c.dImm[d]! & 0xff), (v) => `c.r8[0] = ${v};`);
    }
    case K_ALU_GB_EB: { // 02/0A/.../3A: op r8, r/m8 (ADC/SBB: the handler)
      const dst = `c.r8[${byteReg((m >> 3) & 7)}]`, op = c.dExt[d]!;
      const ea = memory ? effectiveAddress(c, d) : `c.r8[${byteReg(m & 7)}]`;
      return ea === null ? null : withSource(memory, seg, ea, (src) => byteAluCode(op, dst, src, (v) => `${dst} = ${v};`), 1);
    }
    case K_TEST_EB_GB: { // 84: TEST r/m8, r8
      const ea = memory ? effectiveAddress(c, d) : `c.r8[${byteReg(m & 7)}]`;
      return ea === null ? null : withSource(memory, seg, ea, (src) => byteAluCode(4, src, `c.r8[${byteReg((m >> 3) & 7)}]`, () => ''), 1);
    }
    case K_NOP: return ''; // 90, 0F 1F /0 (its operand is not accessed), PAUSE
    case K_LEAVE: // ESP = EBP, then POP EBP (a 32-bit stack; otherwise the handler)
      return `{ if (c.ss32 === true) { let m; ${load(4, SS, 'R[10]', false)} R[8] = (R[10] + 4) | 0; R[10] = m; } ` +
        `else { ${SLOW_ENTRY} ${handlerCall()} sl = 1; ${SLOW_EXIT} } }`;
    case K_MOV_REG_IB: return `c.r8[${byteReg(c.dExt[d]!)}] = ${c.dImm[d]! & 0xff};`; // B0+r
    case K_INC_DEC_EV: { // FF /0, /1 on a dword in memory: in place when it is plain RAM, else the handler
      const ea = memory && o32 ? effectiveAddress(c, d) : null;
      if (ea === null) return null;
      const op = INLINE_OP[h] === 0 ? OP_ADD : OP_SUB;
      return inPlace32(seg, ea, `const a = M32[q], v = (a ${op === OP_ADD ? '+' : '-'} 1) | 0; M32[q] = v; c.setLazyKeepCf(${op}, a, v, 2);`, handlerCall());
    }
    case K_LODS: case K_SCAS: { // AC/AD, AE/AF without REP, 32-bit addressing (string.ts lods/scas for one element)
      // LODS: AL/EAX from [seg:ESI]; SCAS: CMP AL/EAX, [ES:EDI]. The index moves by the element size,
      // down when DF is set, after the load (a fault leaves it as it was). Byte or dword (o32) only.
      const pfx = c.dPfx[d]!;
      if ((pfx & P_A32) === 0 || (pfx & (P_REP | P_REPNE)) !== 0) return null;
      const size = c.dExt[d] === 0 ? 1 : 4;
      const segment = kind === K_SCAS ? ES : (pfx >> P_SEG_SHIFT) !== 0 ? (pfx >> P_SEG_SHIFT) - 1 : DS;
      const index = kind === K_SCAS ? 'R[14]' : 'R[12]';
      const move = `${index} = (${index} + ((c.flags & ${DF}) !== 0 ? ${-size} : ${size})) | 0;`;
      if (kind === K_LODS) return `{ ${load(size, segment, index)} ${size === 1 ? 'c.r8[0]' : 'R[0]'} = m; ${move} }`;
      const compare = size === 1 ? byteAluCode(7, 'c.r8[0]', 'm', () => '') : aluCode(7, 'R[0]', 'm', () => '');
      return compare === null ? null : `{ ${load(size, segment, index)} ${compare} ${move} }`;
    }
    case K_SAHF: { // SF ZF AF PF CF from AH (setArith(): the others stay lazy)
      const mask = SF | ZF | AF | PF | CF;
      return `{ const v = c.r8[1]; c.flags = (c.flags & ${~mask}) | (v & ${mask}); c.lazy &= ${~mask}; }`;
    }
    default: return null;
  }
}

/**
 * Compiles the block of `count` decoded instructions starting at pool slot `start`, for code whose
 * EIP wraps with `ipMask`. Returns null when code generation is not available.
 */
export function compileBlock(c: CpuCore, start: number, count: number, ipMask: number): CompiledBlock | null {
  if (!codegenAvailable) return null;
  directRam = compilesDirect(c);
  const wrap = (offset: number): string => ipMask === -1 ? `((e + ${offset}) | 0)` : `((e + ${offset}) & ${ipMask})`;
  // Where each instruction is, as an offset from the block's EIP: past a followed CALL, JMP or RET
  // (blocks.ts buildBlock) the block goes on at its target, a run of its own (`runOf`). Every
  // CALL/JMP rel/RET before the last instruction is followed (the builder ends the block at any other).
  // A Jcc the builder followed when taken (it does that only to a forward target in the block's first
  // page) is the one whose next instruction is not at its fall-through.
  const at = new Float64Array(count), runOf = new Int32Array(count), runBytes = new Int32Array(count);
  const takenFollowed = new Uint8Array(count);
  {
    const returns: number[] = [];
    for (let i = 0, offset = 0, run = 0; i < count; i++) {
      const d = start + i, kind = INLINE_KIND[c.dH[d]], end = offset + c.dLen[d];
      at[i] = offset;
      runOf[i] = run;
      runBytes[run] += c.dLen[d];
      offset = end;
      if (kind === K_JCC && i < count - 1 && c.dPhys[d + 1] !== c.dPhys[d]! + c.dLen[d]!) {
        if ((c.dPfx[d] & P_O32) === 0 || ipMask !== -1) return null; // the builder follows only 32-bit code
        takenFollowed[i] = 1;
        offset = end + c.dImm[d]!;
        run++;
        continue;
      }
      if (i === count - 1 || (kind !== K_CALL && kind !== K_JMP && kind !== K_RET)) continue;
      if (kind === K_RET) {
        const back = returns.pop();
        if (back === undefined || ipMask !== -1) return null; // not a block the builder follows through: leave it uncompiled
        offset = back;
      } else {
        if (kind === K_CALL) returns.push(end);
        offset = end + c.dImm[d]!;
      }
      run++;
    }
  }
  // A 32-bit Jcc/JMP in the block that jumps back to the block's first instruction (a one-block
  // loop, the shape of most inner loops) goes round inside the function while the caller's budget
  // `n` allows another pass of the whole block.
  const backEdge = new Uint8Array(count);
  let selfLoop = false;
  // A 32-bit Jcc forward to a later instruction of its run skips the ones in between inside the
  // function (`if (!taken) { ... }`) instead of leaving it: skipTo[i] is that instruction's index.
  const skipTo = new Int32Array(count);
  let skips = false;
  for (let i = 0; i < count; i++) {
    const d = start + i, kind = INLINE_KIND[c.dH[d]];
    const end = at[i]! + c.dLen[d];
    if ((kind === K_JCC || kind === K_JMP) && (c.dPfx[d] & P_O32) !== 0 && ipMask === -1 && end + c.dImm[d] === 0 && (kind === K_JCC || i === count - 1)) {
      backEdge[i] = 1;
      selfLoop = true;
    }
    if (kind !== K_JCC || (c.dPfx[d] & P_O32) === 0 || ipMask !== -1 || c.dImm[d]! <= 0) continue;
    const target = end + c.dImm[d]!;
    let j = i + 1;
    while (j < count - 1 && runOf[j] === runOf[i] && at[j]! < target) j++;
    if (j < count - 1 && runOf[j] === runOf[i] && at[j] === target) {
      skipTo[i] = j;
      skips = true;
    }
  }
  // A one-block loop is generated twice when its back edges leave an ALU result's flags deferred:
  // the second time the next pass starts with them still in the locals (`fk`, LOOP_CARRIED)
  // instead of writing CpuCore's lazy state at every back edge, and what the first generation
  // knew at the back edge is known at the loop head in both cases (`fk` chooses).
  let carriedOut: Carried | null | undefined;
  // The segments the block's instructions use, and whether an instruction of the loop (up to its
  // last back edge) is a handler call, which may load a segment register: a one-block loop without
  // one loads its segments' locals once, before the loop, instead of on every pass (`hoisted`, the
  // second generation).
  let segmentsSeen = 0, handlerCalls = 0;
  const lastBackEdge = backEdge.lastIndexOf(1);
  const generate = (carry: Carried | null, hoisted: number): { lines: string[]; used: number[] } => {
    carriedOut = undefined;
    segmentsSeen = 0;
    segmentsUsed = 0;
    handlerCalls = 0;
    // Instructions retired after k of them in block order: fewer by `sk`, those skipped so far.
    const after = (k: number): string => skips ? `${k} - sk` : String(k);
    // The kind of the ALU result whose lazy flags are still only in fa/fb/fv (-1: none): written
    // to CpuCore by materialise() wherever CpuCore's lazy state can be seen (see flagEffect).
    let pending = -1, rotated = false;
    const store = (kind: number): string =>
      carry !== null && kind === LOOP_CARRIED ? `if (fk !== 0) { ${deferredStore(carry.kind)}} ` : deferredStore(kind);
    const materialise = (kind = pending, rotate = rotated): string => (kind < 0 ? '' : store(kind)) +
      (rotate ? `c.flags = (c.flags & ${~(CF | OF)}) | fr; c.lazy &= ${~(CF | OF)}; ` : '');
    const flush = (): string => {
      const code = materialise();
      pending = -1;
      rotated = false;
      return code;
    };
    const leave = (k: number): string => {
      const exit = selfLoop ? `return done + ${after(k)};` : `return ${after(k)};`;
      return pending < 0 && !rotated ? exit : `{ ${materialise()}${exit} }`;
    };
    const used: number[] = [];
    const local = new Map<number, string>();
    // A one-block loop starts with an empty pass straight to its back edge (`first`). V8 can get a
    // function with a loop stuck entering it through its interpreter on every call and moving into
    // loop code it compiled on-stack at the first back edge (README, "A V8 trap"); the empty pass
    // makes that first back edge come before the block's work, so a stuck block runs none of it in
    // the interpreter. It costs nothing measurable otherwise.
    const lines: string[] = selfLoop
      ? [`let r = c.retired, done = 0, fa = 0, fb = 0, fv = 0, fc = 0, fo = 0, fr = 0, sl = 0, sk = 0, first = 1, fk = 0;`,
        'for (;;) { if (first !== 0) { first = 0; continue; }']
      : [`const r = c.retired; let fa = 0, fb = 0, fv = 0, fc = 0, fo = 0, fr = 0, sl = 0, sk = 0;`];
    // Open skips (innermost last): where each ends, and what its skipping path must do at the join.
    const open: Array<{ end: number; skipped: number; pending: number; rotated: boolean; known: KnownFlags | null; segments: number }> = [];
    // Segment locals loaded since the block (or loop pass) started or the last handler call.
    let segmentsLoaded = hoisted;
    if (hoisted !== 0) lines[0] += ` ${segmentLoads(hoisted)}`;
    known = null;
    if (carry !== null) {
      pending = LOOP_CARRIED;
      known = carry.atHead;
    }
    frameSlots.clear();
    siteMemoCount = 0;
    siteMemos = selfLoop && !directRam;
    flatSegments = flatSegmentsOf(c);
    // c.curEip, c.eip and c.retired are what faults, handlers and the run loop read. Instructions that
    // can do none of that (inline register-only code) leave them stale: the next instruction that
    // can fault or call out, or leaves the block, writes them first ("stale" since the last write).
    let stale = false;
    for (let i = 0; i < count; i++) {
      const d = start + i;
      const h = c.dH[d];
      const kind = INLINE_KIND[h];
      let offset = at[i]!;
      const eip = wrap(offset);
      while (open.length > 0 && open[open.length - 1]!.end === i) {
        // The join: both paths hand over their deferred flags, the skipping one counts what it
        // skipped, and only what both paths know stays known (the segments loaded before). When both
        // left the same kind deferred (each in the same locals), it stays deferred, and so does what
        // both know of it.
        const skip = open.pop()!;
        if (pending >= 0 && pending === skip.pending && !rotated && !skip.rotated) {
          lines.push(`} else { sk += ${skip.skipped}; }`);
          if (known === null || skip.known === null || JSON.stringify(known) !== JSON.stringify(skip.known)) known = null;
        } else {
          lines.push(`${flush()}} else { ${materialise(skip.pending, skip.rotated)}sk += ${skip.skipped}; }`);
          known = null;
        }
        segmentsLoaded &= skip.segments;
        stale = true;
      }
      // The instruction's own EIP (faults restart it); the first one of a block run was set by the run loop.
      const own = (): void => {
        if (i > 0 || selfLoop) lines.push(`c.curEip = ${eip};`);
        if (stale) lines.push(`c.retired = r + ${after(i)};`);
        stale = false;
      };
      const faultState = `c.curEip = ${eip}; c.retired = r + ${after(i)};`;
      offset += c.dLen[d];
      segmentsSeen |= segmentsUsed; // the instruction before's
      segmentsUsed = 0;
      if ((kind === K_CALL || kind === K_RET) && (c.dPfx[d] & P_O32) !== 0) {
        own();
        // CALL: push the return address, then the target (callRel(): the limit check first); RET
        // (retNear()): the target from the stack, checked, then ESP moves past it and the immediate.
        const target = kind === K_CALL
          ? `${branchTarget(`(${wrap(offset)} + ${c.dImm[d]}) | 0`)} ${push32(wrap(offset))}`
          : `${peek32()} ${branchTarget('m')} if (c.ss32 === true) R[8] = (R[8] + ${4 + c.dImm[d]}) | 0; else c.addSp(${4 + c.dImm[d]});`;
        const leaving = `c.eip = t; c.retired = r + ${after(i + 1)}; ${leave(i + 1)}`;
        if (i === count - 1) {
          lines.push(`c.eip = ${wrap(offset)}; ${flush()}${segmentLoads(segmentsUsed & ~segmentsLoaded)}{ ${unmarked(target)} ${leaving} }`);
          break; // an unfollowed CALL or RET ends its block
        }
        // Followed: on into the next run when the return address is the expected one, nothing
        // asked for attention (the push or pop took a slow path that wrote code...) and the run's page
        // still maps as it did (runEntry).
        const loads = segmentLoads(segmentsUsed & ~segmentsLoaded);
        segmentsLoaded |= segmentsUsed;
        const unexpected = kind === K_RET ? `t !== ${wrap(at[i + 1]!)} || ` : '';
        lines.push(`c.eip = ${wrap(offset)}; ${flush()}${loads}{ ${unmarked(target)} ` +
          `if (${unexpected}(sl !== 0 && c.chunkBreak === true) || ${runEntry(c, start + i + 1, c.dPhys[start]!, at[i + 1]!, runBytes[runOf[i + 1]!]!)}) { ${leaving} } }`);
        stale = true;
        continue;
      }
      if ((kind === K_JCC || kind === K_JMP) && (c.dPfx[d] & P_O32) !== 0) {
        // Taken: the target (a #GP(0) beyond CS.limit, as the handler's go()), retire, leave the block
        // (or, for the back edge of a one-block loop, go round again while the budget allows).
        readsLazyFlags = false;
        const test = kind === K_JCC ? condition(INLINE_OP[h]!) : '';
        const before = readsLazyFlags ? flush() : '';
        // The next pass of a one-block loop starts with nothing deferred, or with the carried state.
        let again = leave(i + 1);
        if (backEdge[i] !== 0) {
          noteCarried(pending, rotated);
          let carried = materialise(), leaving = '';
          if (carry !== null && !rotated && (pending === carry.kind || pending === LOOP_CARRIED)) {
            carried = pending === LOOP_CARRIED ? '' : 'fk = 1; ';
            leaving = materialise();
          } else if (carry !== null) carried += 'fk = 0; ';
          again = `${carried}done += ${after(i + 1)}; r += ${after(i + 1)};${skips ? ' sk = 0;' : ''} if (done + ${count} <= n && c.chunkBreak === false) continue; ${leaving}return done;`;
        }
        // Not taken, a Jcc leaves the bookkeeping stale like register-only code; taken, it writes it.
        const taken = `{ ${branchTarget(`(${wrap(offset)} + ${c.dImm[d]}) | 0`, `${faultState} ${materialise()}`)} c.eip = t; c.retired = r + ${after(i + 1)}; ${again} }`;
        if (kind === K_JMP && i === count - 1) {
          lines.push(before + taken);
          break; // an unfollowed JMP ends its block
        }
        if (kind === K_JMP || takenFollowed[i] !== 0) {
          // Followed: on into the run at its target while its page maps as it did. A Jcc followed
          // when taken first leaves the block at its fall-through when it is not taken.
          if (kind === K_JCC) lines.push(`${before}if (!(${test})) { c.eip = ${wrap(offset)}; c.retired = r + ${after(i + 1)}; ${leave(i + 1)} }`);
          lines.push(`${kind === K_JMP ? before : ''}{ ${branchTarget(`(${wrap(offset)} + ${c.dImm[d]}) | 0`, `${faultState} ${materialise()}`)} ` +
            `if (${runEntry(c, start + i + 1, c.dPhys[start]!, at[i + 1]!, runBytes[runOf[i + 1]!]!)}) { c.eip = t; c.retired = r + ${after(i + 1)}; ${leave(i + 1)} } }`);
          stale = true;
          continue;
        }
        const j = skipTo[i]!;
        if (j > 0 && (open.length === 0 || j <= open[open.length - 1]!.end)) {
          // Taken: hand over the deferred flags and count the skipped instructions at the join.
          open.push({ end: j, skipped: j - i - 1, pending, rotated, known, segments: segmentsLoaded });
          lines.push(`${before}if (!(${test})) {`);
          stale = true;
          continue;
        }
        lines.push(`${before}if (${test}) ${taken}`);
        stale = true;
        if (i === count - 1) lines.push(`c.eip = ${wrap(offset)}; c.retired = r + ${after(i + 1)};`);
        continue;
      }
      produced = null;
      flagEffect = FLAGS_NEEDED;
      readsLazyFlags = false;
      const handlerCall = (): string => {
        let name = local.get(h);
        if (name === undefined) {
          name = `h${used.length}`;
          local.set(h, name);
          used.push(h);
        }
        return `${name}(c, s + ${i});`;
      };
      let code = inlineCode(c, d, h, handlerCall);
      const inline = code !== null;
      if (code !== null && /\bR\[10\] = /.test(code)) code += ` ${FORGET_FRAME_SLOTS}`; // EBP moved: other frame slots
      // Deferred flags of an earlier instruction: written first if this one reads or partly updates
      // the lazy state, else only on its slow paths, and dead once it replaces the whole state.
      let slowFlags = '';
      if (code !== null) {
        if (produced !== undefined) known = produced;
        const before = flagEffect === FLAGS_NEEDED || readsLazyFlags ? flush() : '';
        slowFlags = materialise();
        code = before + segmentLoads(segmentsUsed & ~segmentsLoaded) + code;
        segmentsLoaded |= segmentsUsed;
        if (flagEffect >= 0 || flagEffect === FLAGS_WRITTEN) {
          pending = flagEffect >= 0 ? flagEffect : -1;
          rotated = false;
        } else if (flagEffect === FLAGS_ROTATED) rotated = true;
      }
      if (code !== null && i < count - 1 && registerOnly(c, d, kind)) {
        lines.push(code);
        stale = true;
        continue;
      }
      if (code !== null && i < count - 1 && deferredBookkeeping(kind)) {
        // The bookkeeping goes onto the slow paths: after them the instruction is complete (its
        // remaining inline code cannot fault), so the retired count already includes it.
        lines.push(code.replaceAll(SLOW_ENTRY, `${faultState} c.eip = ${wrap(offset)}; ${slowFlags}`).replaceAll(SLOW_EXIT, `c.retired = r + ${after(i + 1)};`));
        lines.push(`if (sl !== 0 && c.chunkBreak === true) ${leave(i + 1)}`);
        stale = true;
        continue;
      }
      if (code !== null) code = code.replaceAll(SLOW_ENTRY, slowFlags).replaceAll(SLOW_EXIT, '');
      own();
      if (code === null) {
        known = null;
        if (i < lastBackEdge) handlerCalls++;
        segmentsLoaded = 0; // the handler may have loaded a segment register
        // The handler may have changed translations (see frameAccess): forget the remembered pages.
        code = `${flush()}${handlerCall()} mrl = 1; mwl = 1; ${FORGET_FRAME_SLOTS}`;
      }
      lines.push(`c.eip = ${wrap(offset)}; ${code} c.retired = r + ${after(i + 1)};`);
      if (i === count - 1) break;
      if (KEEPS_EIP[h] === 0) lines.push(`if (c.eip !== (${wrap(offset)})) ${leave(i + 1)}`);
      const pure = PURE[h] !== 0 || (REGISTER_PURE[h] !== 0 && c.dRm[d] >= 0xc0);
      // Inline code can set chunkBreak only through its slow paths (accessor or handler calls),
      // which set `sl`: the common all-fast-path run skips loading the flag.
      if (!pure) lines.push(`if (${inline ? 'sl !== 0 && ' : ''}c.chunkBreak === true) ${leave(i + 1)}`);
    }
    segmentsSeen |= segmentsUsed; // the last instruction's
    lines.push(leave(count));
    if (selfLoop) lines.push('}');
    return { lines, used };
  };
  // What every back edge leaves deferred: one kind, the same at all of them, or nothing to carry.
  const noteCarried = (kind: number, rotate: boolean): void => {
    const state = kind >= 0 && kind < CORE_CF && !rotate && known !== null ? { kind, atHead: known } : null;
    if (carriedOut === undefined) carriedOut = state;
    else if (carriedOut === null || state === null || carriedOut.kind !== state.kind) carriedOut = null;
  };
  let generated = generate(null, 0);
  const hoisted = selfLoop && handlerCalls === 0 ? segmentsSeen : 0;
  if (carriedOut != null || hoisted !== 0) {
    const carry = carriedOut == null ? null : { kind: carriedOut.kind, atHead: carriedAtHead(carriedOut.atHead) };
    generated = generate(carry, hoisted);
  }
  return finish(generated.lines, generated.used, segmentsSeen | hoisted, c);
}

/** A deferred state carried round a one-block loop's back edge, with what is known of the flags there. */
interface Carried { kind: number; atHead: KnownFlags }
/**
 * What is known at the head of a loop that carries deferred flags: on a pass after the first, what
 * was known at the back edge (over the locals it left); on the first, CpuCore's lazy flags, which
 * then hold the state (nothing is deferred yet).
 */
function carriedAtHead(atBackEdge: KnownFlags): KnownFlags {
  const choose = (local: string | null, core: string): string | null => local === null ? null : `(fk !== 0 ? (${local}) : (${core}))`;
  const sf = 'c.getSF() !== 0', of = 'c.getOF() !== 0';
  return {
    cf: choose(atBackEdge.cf, 'c.getCF() !== 0'),
    zf: choose(atBackEdge.zf, 'c.getZF() !== 0'),
    sf: choose(atBackEdge.sf, sf),
    of: choose(atBackEdge.of, of),
    signedLess: choose(atBackEdge.signedLess, `(${sf}) !== (${of})`),
  };
}

/**
 * The locals every compiled block starts with: its entry EIP, the TLB halves of the current
 * privilege (CPL changes end the block), the memos of the stack-frame pages, and the fast-path base
 * and limit (see {@link segmentLoads}) of the segments in `segments` (bit per segment), the ones its
 * accesses use. The core and its arrays are bound when the block is created (CORE_VIEWS).
 * Declaring every segment's locals in every block cost bytecode (V8 runs a new function
 * unoptimised until it has run a number of interrupt ticks that grows with its bytecode length; a
 * Debian boot's compiled blocks have 5 % less without them) and stores on every call while V8 runs
 * the function unoptimised.
 */
function blockLocals(segments: number): string {
  let perSegment = '';
  for (let seg = 0; seg < 8; seg++) {
    if ((segments & (1 << seg)) !== 0) perSegment += `, sb${seg} = 0, sm${seg} = -1, ur${seg} = 0, uw${seg} = 0, dl${seg} = 0`;
  }
  return `const e = c.eip, UR = c.userKind << ${TLB_BITS}, UW = (c.userKind + 1) << ${TLB_BITS}, csf = SL[${CS}] === 4294967295; ` +
    `let mrl = 1, mrp = 0, mwl = 1, mwp = 0, gl = 0, gf = 0${perSegment};`;
}

/**
 * The test, over the target EIP `t`, that sends a followed transfer out of the block instead of
 * into the run at slot `d` (at `offset` from the block's EIP, `bytes` long): the run's bytes beyond
 * CS.limit (the run loop then raises the #GP where hardware would), and for a run in another linear
 * page than the block's first (which the run loop checked), that page no longer mapped to the
 * physical page it was decoded from (the fetch translation cache) or written since (its
 * generation). The same physical page seen through another linear page is checked too: that view
 * can be remapped while the block's own stays.
 */
function runEntry(c: CpuCore, d: number, home: number, offset: number, bytes: number): string {
  const limit = beyondCsLimit('t', bytes);
  const phys = c.dPhys[d]!;
  const inPage = (home & 4095) + offset; // the block's linear page offset is its physical one
  if (inPage >= 0 && inPage < 4096) return limit;
  const mask = (1 << FETCH_BITS) - 1;
  return `${limit} || (gl = (SB[${CS}] + t) | 0, gf = ((c.userKind >> 1) << ${FETCH_BITS}) | ((gl >>> 12) & ${mask}), ` +
    `FT[gf] !== ((gl & -4096) | 1) || FF[gf] !== ${(phys & -4096) | 0} || PG[${phys >>> 12}] !== ${c.dPageGen[d]})`;
}

/** Inline code with its slow-path markers removed (the bookkeeping was written before it). */
function unmarked(code: string): string {
  return code.replaceAll(SLOW_ENTRY, '').replaceAll(SLOW_EXIT, '');
}

/** `t` = the near branch target `target`, #GP(0) beyond CS.limit (the handlers' go()), after `faultState` (the bookkeeping a fault needs). */
function branchTarget(target: string, faultState = ''): string {
  return `const t = ${target}; if (${beyondCsLimit('t', 1)}) { ${faultState} c.gp(0); }`;
}

/**
 * Whether the `bytes` bytes at EIP `t` go past CS.limit. With the flat limit (4 GiB - 1, `csf`,
 * read once per call: CS changes only in a far transfer, after which the block is left) it is one
 * integer compare; the general test converts to doubles (the limit is a Float64Array element),
 * which took a tenth of the samples of the awk loop's busiest compiled block, with three of them.
 */
function beyondCsLimit(t: string, bytes: number): string {
  return `(csf ? (${t} >>> 0) > ${0xffffffff - (bytes - 1)} : (${t} >>> 0) + ${bytes - 1} > SL[${CS}])`;
}

/**
 * Whether the inline code of slot `d` (inline kind `kind`) touches no memory and calls nothing that
 * can fault or read EIP or the retired count: register and immediate forms, and LEA (which only
 * computes its address).
 */
function registerOnly(c: CpuCore, d: number, kind: number): boolean {
  switch (kind) {
    case K_PUSH: case K_POP: case K_CALL: case K_RET: case K_JCC: case K_JMP: case K_MOV_MOFFS: case K_PUSH_EV: case K_JMP_EV: case K_LODS: case K_SCAS: return false;
    case K_LEA: case K_MOV_IMM: case K_INC: case K_DEC: case K_ALU_EAX_IMM: case K_TEST_EAX_IMM: case K_TEST_AL_IMM: case K_BSWAP: case K_SAHF:
    case K_ALU_AL_IMM: case K_MOV_REG_IB: case K_NOP: return true;
    default: return c.dRm[d] >= 0xc0;
  }
}

/**
 * Whether inline kind `kind` calls out (or can fault) only on the slow paths its code marks with
 * SLOW_ENTRY/SLOW_EXIT: its fast path reads and writes registers, flags and RAM only, so EIP, the
 * fault EIP and the retired count need writing only there. Not control transfers (which set EIP
 * themselves) nor JMP r/m (its #GP is outside a slow path).
 */
function deferredBookkeeping(kind: number): boolean {
  return kind !== 0 && kind !== K_CALL && kind !== K_RET && kind !== K_JCC && kind !== K_JMP && kind !== K_JMP_EV;
}

/**
 * The core and the typed arrays of it that compiled code uses (registers, RAM views, TLB, code
 * pages, segment caches), bound as constants of the factory that creates each compiled block. They
 * never change for a core, and every compiled block is kept by its own core only (bFn,
 * compiledCache). Each factory makes exactly one closure, so V8 can treat them as constants: no
 * loads of the arrays' lengths and data pointers on every call, and no checks of the core's shape.
 * Passing them in as loads from the `c` argument measured 15 % slower on the Debian boot (26.2 s
 * against 22.3 s) and on the default guest's sha256 + awk (19.2 against 16.5 CPU seconds).
 */
const CORE_VIEWS = ['c', 'R', 'M32', 'M16', 'M8', 'TV', 'TT', 'CP', 'SB', 'SL', 'SC', 'FT', 'FF', 'PG'];

function finish(lines: string[], used: number[], segments: number, c: CpuCore): CompiledBlock | null {
  const params = [...CORE_VIEWS, ...used.map((_, i) => `h${i}`)];
  const slots = Array.from({ length: frameSlots.size }, (_, n) => n);
  const memos = Array.from({ length: siteMemoCount }, (_, n) => n);
  const forget = [...slots.map((n) => `fr${n} = -1; fw${n} = -1;`), ...memos.map((n) => `ms${n} = 1;`)].join(' ');
  lines = lines.map((line) => line.replaceAll(FORGET_FRAME_SLOTS, forget));
  if (slots.length > 0) lines[0] += ` let ${slots.map((n) => `fr${n} = -1, fw${n} = -1`).join(', ')};`;
  if (memos.length > 0) lines[0] += ` let ${memos.map((n) => `ms${n} = 1, mp${n} = 0`).join(', ')};`;
  try {
    // Generated from numbers only (see above). Named after the EIP it was compiled at (hex), so a
    // CPU profile of the host shows which guest code the time went to.
    const locals = registersInLocals(lines.slice(1).join('\n'));
    const first = `${blockLocals(segments)} ${lines[0]}`;
    const body = locals === null ? [first, ...lines.slice(1)].join('\n') : `${first} ${locals.declarations}\ntry {\n${locals.body}\n} ${locals.catchClause}`;
    const factory = new Function(...params, `'use strict'; return function block_${(c.eip >>> 0).toString(16)}(_core, n, s) {\n${body}\n};`) as
      (...handlers: unknown[]) => CompiledBlock;
    c.stats[CpuStat.BlocksCompiled]++;
    return factory(c, c.r32, c.ram32, c.ram16, c.ram, c.tlbVal, c.tlbTag, c.codePages, c.segBase, c.segLimit, c.segCheck, c.fetchTag, c.fetchFrame, c.pageGen, ...used.map((h) => HANDLERS[h]));
  } catch {
    codegenAvailable = false;
    return null;
  }
}
