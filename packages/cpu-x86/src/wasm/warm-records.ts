/**
 * The warm tier's record format and exit protocol, shared by the interpreter (wasm/warm-blocks.ts)
 * and the translator of hot blocks (wasm/hot-blocks.ts): the forms a slot record names, its fields,
 * the flag-state kinds both keep in locals, and what a WebAssembly block leaves for JavaScript.
 */
import { CF, OF } from '../constants.js';
import type { CpuCore } from '../core.js';
import { type Body, OP } from './emitter.js';
import { HOST } from './host-area.js';

/** Set in a warm block's result when it stopped before an instruction it did not run. */
export const BAIL = 0x10000;
/**
 * Set when it stopped after a handler it called (a branch, a fault-free EIP change, a chunk break):
 * EIP, the retired count and the flags are in the core already, and the exit record is not used.
 */
export const IN_CORE = 0x100000;
/** Why a block stopped (bits 17-19 of its result), for statistics. */
export const BAIL_UNSUPPORTED = 1, BAIL_SEGMENT = 2, BAIL_ACCESS = 3, BAIL_STACK16 = 4, BAIL_LIMIT = 5, BAIL_BUDGET = 6;

/** Exit record (Int32 indexes from HOST.exit): where the block left EIP and its lazy flags. */
export const X_EIP = 0, X_KIND = 1, X_OP = 2, X_DST = 3, X_SRC = 4, X_RES = 5, X_CF = 6, X_SIZE = 7;
/**
 * The block running now (set by the run loop for the first, by the dispatcher for those it goes on
 * to): its first EIP, its first pool slot, and the instructions the blocks before it in this call retired.
 */
export const X_BLOCK_EIP = 8, X_BLOCK_SLOT = 9, X_BLOCK_DONE = 10;
/**
 * Flags the block set outright over whatever the lazy state says (ROL/ROR's CF and OF, IMUL's): their
 * EFLAGS mask (0: none) and values.
 */
export const X_SET_MASK = 11, X_SET_BITS = 12;
/**
 * The fetch epoch of the dispatcher's call (CpuCore.fetchEpoch, written at its entry): a translated
 * region goes on to its blocks in other pages only in the epoch it was made in.
 */
export const X_EPOCH = 13;
/** X_KIND: flags untouched; setLazy(op, dst, src, res, size); the same with CF known (INC/DEC). */
export const FLAGS_KEPT = 0, FLAGS_LAZY = 1, FLAGS_LAZY_KEEP_CF = 2;

/**
 * Forms of a slot record (R_KIND). Register operands are host addresses (R_A, R_B: a dword register
 * at its 8-byte slot, a byte register at its byte); memory operands are R_DISP + [R_BASE] +
 * ([R_INDEX] << R_SCALE) in segment R_SEG, where "no base" and "no index" name HOST.zero.
 */
export const K_HANDLER = 0, K_STOP = 1, K_NOP = 2;
export const K_MOV_RR = 3, K_MOV_LOAD = 4, K_MOV_STORE = 5, K_MOV_RI = 6, K_MOV_MI = 7, K_LEA = 8;
export const K_MOVB_RR = 9, K_MOVB_LOAD = 10, K_MOVB_STORE = 11, K_MOVB_RI = 12, K_MOVB_MI = 13;
export const K_MOVX_R = 14, K_MOVX_M = 15, K_PUSH = 16, K_POP = 17, K_INCDEC = 18, K_SHIFT = 19;
export const K_ALU_RR = 20, K_ALU_RI = 21, K_ALU_LOAD = 22, K_ALU_RMW = 23, K_ALU_MI = 24;
export const K_BALU_RR = 25, K_BALU_RI = 26, K_BALU_LOAD = 27, K_BALU_MI = 28;
export const K_SETCC_R = 29, K_SETCC_M = 30, K_CMOV_R = 31, K_CMOV_M = 32;
export const K_JCC = 33, K_JMP = 34, K_CALL = 35, K_RET = 36, K_ROT = 37, K_IMUL_R = 38, K_IMUL_M = 39;
export const K_MOVW_RR = 40, K_MOVW_LOAD = 41, K_MOVW_STORE = 42, K_INCDEC_M = 43, K_NOT_R = 44, K_NOT_M = 45, K_NEG_R = 46, K_NEG_M = 47;
export const K_PUSH_M = 48, K_PUSH_I = 49, K_LEAVE = 50, K_BSWAP = 51, K_MUL_R = 52, K_MUL_M = 53, K_BALU_RMW = 54, K_SHIFT_DOUBLE = 55, K_DIV_R = 56, K_DIV_M = 57, K_CMPXCHG_R = 58, K_CMPXCHG_M = 59;
export const KINDS = 60;
/** Forms that read EFLAGS (a condition, or INC/DEC's carry) and forms that set all six. */
export const READS_FLAGS = new Set([K_JCC, K_SETCC_R, K_SETCC_M, K_CMOV_R, K_CMOV_M, K_INCDEC, K_INCDEC_M]);
export const SETS_FLAGS = new Set([K_ALU_RR, K_ALU_RI, K_ALU_LOAD, K_ALU_RMW, K_ALU_MI, K_BALU_RR, K_BALU_RI, K_BALU_LOAD, K_BALU_MI, K_BALU_RMW, K_SHIFT_DOUBLE, K_SHIFT, K_INCDEC,
  K_IMUL_R, K_IMUL_M, K_INCDEC_M, K_NEG_R, K_NEG_M, K_MUL_R, K_MUL_M, K_CMPXCHG_R, K_CMPXCHG_M]);

/** Forms of the ALU operations (InterpreterBuilder.alu()): their record's R_OP is the operation (ModRM.reg order, 8 TEST). */
export const ALU_FORMS = new Set([K_ALU_RR, K_ALU_RI, K_ALU_LOAD, K_ALU_RMW, K_ALU_MI, K_BALU_RR, K_BALU_RI, K_BALU_LOAD, K_BALU_MI, K_BALU_RMW]);

/** Slot record fields (byte offsets in a WARM_RECORD-byte record). */
export const R_KIND = 0, R_OP = 1, R_LEN = 2, R_SEG = 3, R_A = 4, R_B = 6, R_BASE = 8, R_INDEX = 10, R_SCALE = 12, R_FK = 13, R_STORE = 14, R_WANT = 15;
/** Shifts and rotates keep "count from CL" in R_SCALE (they have no memory operand). */
export const R_BY_CL = R_SCALE;
export const R_DISP = 16, R_IMM = 20;
/** In a block's first record: 1 + the table index of its translation (wasm/hot-blocks.ts), 0 for none. */
export const R_FN = 24;

/**
 * What the flags are at the instruction being run (a local of the interpreter): set by which kind
 * of operation, or untouched (then EFLAGS come in as a parameter or from the last handler call).
 * F_SHIFT keeps OF in fa and CF in fb (setLazyShift()). F_ADC and F_SBB are ADC and SBB with a carry
 * in of 1 (with 0 they are F_ADD and F_SUB), as the core's OP_ADC and OP_SBB.
 */
export const F_NONE = 0, F_ADD = 1, F_SUB = 2, F_LOGIC = 3, F_INC = 4, F_DEC = 5, F_SHIFT = 6, F_ADC = 7, F_SBB = 8;
/** Bits of EFLAGS. */
export const CF_BIT = 0, PF_BIT = 2, ZF_BIT = 6, SF_BIT = 7, OF_BIT = 11;
/** ALU operations of a record's R_OP (ModRM.reg order; 8 is TEST). ADC (2) and SBB (3) add or subtract the carry too. */
export const ALU_ADC = 2, ALU_SBB = 3, ALU_TEST = 8;
export const ALU_CODE = [OP.i32Add, OP.i32Or, OP.i32Add, OP.i32Sub, OP.i32And, OP.i32Sub, OP.i32Xor, OP.i32Sub, OP.i32And];
/** After CMP/SUB: the comparison of the operands that decides condition cc (0: through the flags). */
export const SUB_CONDITION = [0, 0, OP.i32LtU, OP.i32GeU, OP.i32Eq, OP.i32Ne, OP.i32LeU, OP.i32GtU, 0, 0, 0, 0, OP.i32LtS, OP.i32GeS, OP.i32LeS, OP.i32GtS];

/** Host address of dword register r and of byte register r (AL, CL, DL, BL, AH, CH, DH, BH). */
export const dwordReg = (r: number): number => HOST.regs + r * 8;
export const byteReg = (r: number): number => HOST.regs + (r & 3) * 8 + (r >> 2);
/** The kind of flags an ALU operation leaves. */
export const aluFlags = (op: number): number => (op === 0 || op === ALU_ADC ? F_ADD : op === 5 || op === 7 || op === ALU_SBB ? F_SUB : F_LOGIC);

/** Typed views of the slot records. */
export interface Records { readonly u8: Uint8Array; readonly u16: Uint16Array; readonly i32: Int32Array }

/**
 * IMUL's CF and OF as EFLAGS bits into local `setBits`: both set when the signed product of locals
 * `fa` and `fb` does not fit in 32 bits (local `fv` holds its low half). Local `scratch` is clobbered.
 */
export function imulOverflow(b: Body, fa: number, fb: number, fv: number, scratch: number, setBits: number): void {
  b.get(fa).op(OP.i64ExtendI32S).get(fb).op(OP.i64ExtendI32S).op(OP.i64Mul);
  b.get(fv).op(OP.i64ExtendI32S).op(OP.i64Ne).set(scratch);
  b.i32(CF | OF).i32(0).get(scratch).op(OP.select).set(setBits);
}

/** CpuCore.bWarm of a block entry: warm (its records are written); not yet; nothing for the interpreter to run (until the entry is rebuilt). */
export const WARM_READY = 0, WARM_NONE = -1, WARM_NOTHING = -2;

/**
 * The instructions of block entry `b` that the block loop runs (its `bLinear` part, never more than
 * its count): those a warm block's records cover and a translation's head runs before its first
 * followed transfer.
 */
export function blockLoopPart(c: CpuCore, b: number): number {
  return Math.min(c.bCount[b]!, c.bLinear[b]!);
}
