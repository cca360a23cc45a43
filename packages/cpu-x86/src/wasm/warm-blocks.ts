/**
 * Warm blocks in WebAssembly: a block that has run WARM_RUNS times in the block loop, but not yet
 * the compile threshold of the JavaScript block compiler, runs in an interpreter written in
 * WebAssembly. Nothing is generated per block: when a block becomes warm, each of its decoded
 * instructions gets a small record in the host area (the form to run and its operands, as host
 * addresses of registers and immediates), and one WebAssembly function walks those records.
 *
 * Why an interpreter and not translated code: the first version of this tier translated each warm
 * block into a WebAssembly function of its own. With a hundred blocks it ran 6.4 ns an instruction
 * against the block loop's 13-17, but with 4,000 distinct blocks 25 ns and with 16,000 50 ns,
 * slower than the block loop (18-24 ns): a Linux boot's warm code is thousands of blocks that each
 * run a few thousand times, so their machine code (about 450 bytes of WebAssembly per 9-instruction
 * block, several times that in machine code) ran from outside the host's caches and mostly in V8's
 * baseline tier, which optimises a function only after thousands of calls. The interpreter is one
 * function, optimised once, and its records take 32 bytes an instruction: 4.5 ns an instruction in
 * a prototype whatever the number of blocks.
 *
 * The function works on the state in the memory's host area (wasm/host-area.ts: registers, segment
 * caches, data TLB, code-page marks, the records) and on RAM after it; the JavaScript fields it
 * cannot see come in as parameters (EIP, the privilege's TLB part, EFLAGS when the block reads flags
 * it did not set, whether the stack is 32-bit) and go out through the exit record (EIP and the
 * lazy-flag state the block left). Instructions it does not run itself call their handlers through
 * an import. It never faults: where an access is not the plain case (TLB miss, not RAM, a code page,
 * a page crossing, a segment that is not flat, a branch beyond CS.limit), it returns at that
 * instruction before doing any of its work, with BAIL set, and the run loop runs the rest of the
 * block in the block loop, where the handlers do whatever the hardware does, faults included.
 *
 * Results: the low 16 bits are the instructions retired; BAIL says the block stopped before
 * instruction that number (EIP is that instruction's), else EIP is where the block went.
 */
import { ARITH, CF, CS, DF, EA_A16, EA_NONE, OF, OP_ADC, OP_ADD, OP_LOGIC, OP_SBB, OP_SHIFT, OP_SUB, P_A32, P_O32, SS } from '../constants.js';
import type { CpuCore } from '../core.js';
import { HANDLERS, handlerKinds } from '../decoder/decode.js';
import {
  ALU_EVGV_R32, ALU_GRP1_R32, ALU_GVEV_R32, aluALIb, aluAXIz, aluEbGb, aluEvGv, aluGbEb, aluGvEv, decEv, decReg, divEv, grp1Eb, grp1Ev, grp2Ev, imulGvEv,
  imulGvEvI, incEv, incReg, mulEv, negEv, notEv, shxd, testALIb, testAXIz, testEbGb, testEbIb, testEvGv, testEvIz,
} from '../exec/alu.js';
import { callRel, JCC, jmpRel, nop, retNear } from '../exec/control.js';
import {
  bswap, cmovcc, cmpxchgEvGv, lea, leave, movEbGb, movEbIb, movEvGv, movEvIz, movGbEb, movGvEv, movMoffs, movRegIb, movRegIz, movsxb, movsxw, movzxb, movzxw,
  popReg, pushEv, pushImm, pushReg, setcc,
} from '../exec/data.js';
import { Body, functionTypeIndex, OP, wasmModule, type WasmFunction } from './emitter.js';
import { HotTranslator } from './hot-blocks.js';
import { HOST, WARM_JUMP_BITS, WARM_RECORD, WARM_SLOTS } from './host-area.js';
import { CpuStat } from '../stats.js';
import {
  BAIL, IN_CORE, BAIL_UNSUPPORTED, BAIL_SEGMENT, BAIL_ACCESS, BAIL_STACK16, BAIL_LIMIT, X_EIP, X_KIND, X_OP, X_DST, X_SRC, X_RES, X_CF, X_SIZE,
  X_BLOCK_EIP, X_BLOCK_SLOT, X_BLOCK_DONE, X_SET_MASK, X_SET_BITS, FLAGS_KEPT, FLAGS_LAZY, FLAGS_LAZY_KEEP_CF,
  K_HANDLER, K_STOP, K_NOP, K_MOV_RR, K_MOV_LOAD, K_MOV_STORE, K_MOV_RI, K_MOV_MI, K_LEA, K_MOVB_RR, K_MOVB_LOAD, K_MOVB_STORE, K_MOVB_RI, K_MOVB_MI,
  K_MOVX_R, K_MOVX_M, K_PUSH, K_POP, K_INCDEC, K_SHIFT, K_ALU_RR, K_ALU_RI, K_ALU_LOAD, K_ALU_RMW, K_ALU_MI, K_BALU_RR, K_BALU_RI, K_BALU_LOAD, K_BALU_MI,
  K_SETCC_R, K_SETCC_M, K_CMOV_R, K_CMOV_M, K_JCC, K_JMP, K_CALL, K_RET, K_ROT, K_IMUL_R, K_IMUL_M, K_MOVW_RR, K_MOVW_LOAD, K_MOVW_STORE, K_INCDEC_M,
  K_NOT_R, K_NOT_M, K_NEG_R, K_NEG_M, K_PUSH_M, K_PUSH_I, K_LEAVE, K_BSWAP, K_MUL_R, K_MUL_M, K_BALU_RMW, K_SHIFT_DOUBLE, K_DIV_R, K_DIV_M, K_CMPXCHG_R,
  K_CMPXCHG_M, KINDS, READS_FLAGS, SETS_FLAGS, ALU_FORMS, R_KIND, R_OP, R_LEN, R_SEG, R_A, R_B, R_BASE, R_INDEX, R_SCALE, R_FK, R_STORE, R_WANT, R_BY_CL,
  R_DISP, R_IMM, R_FN, F_NONE, F_ADD, F_SUB, F_LOGIC, F_INC, F_DEC, F_SHIFT, F_ADC, F_SBB, CF_BIT, PF_BIT, ZF_BIT, SF_BIT, OF_BIT, ALU_ADC, ALU_SBB, ALU_TEST,
  ALU_CODE, SUB_CONDITION, dwordReg, byteReg, aluFlags, imulOverflow, type Records, WARM_READY, WARM_NONE, WARM_NOTHING, X_EPOCH, blockLoopPart,
} from './warm-records.js';
export { WARM_READY, WARM_NONE, WARM_NOTHING, BAIL, IN_CORE, X_EIP, X_KIND, X_OP, X_DST, X_SRC, X_RES, X_CF, X_SIZE, X_BLOCK_EIP, X_BLOCK_SLOT, X_BLOCK_DONE, X_SET_MASK, X_SET_BITS, FLAGS_KEPT, FLAGS_LAZY, FLAGS_LAZY_KEEP_CF } from './warm-records.js';

/**
 * The dispatcher's entry: (first pool slot of the block, its instructions, EIP of its first
 * instruction, CpuCore.userKind, EFLAGS or 0, 32-bit stack, CpuCore.fetchEpoch, most instructions to
 * run) -> result. It goes on from warm block to warm block through its jump cache (WarmTier.remember)
 * while the next one is there.
 */
export type WarmRun = (slot: number, count: number, eip: number, userKind: number, flags: number, ss32: number, epoch: number, budget: number) => number;

/** Block-loop runs of a block before it runs in the interpreter, by default (CpuOptions.warmThreshold). */
export const WARM_RUNS = 32;
/** Jump-cache entry (Int32 offsets): linear EIP, fetch epoch, instructions | READS_FLAGS, first pool slot. */
const WJ_LIN = 0, WJ_EPOCH = 1, WJ_INFO = 3, WJ_SLOT = 4;
const WJ_BITS = WARM_JUMP_BITS, WJ_READS_FLAGS = 0x10000;
/** The Int32 index of linear address `lin`'s entry in the dispatcher's jump cache (as dispatchLoop() hashes it). */
function jumpEntry(lin: number): number {
  return ((lin ^ (lin >>> WJ_BITS)) & ((1 << WJ_BITS) - 1)) << 3;
}
/**
 * Chained runs of a warm block after which the dispatcher leaves it to the run loop, which then
 * compiles it (WarmTier.chainedOut): it is as hot as the compile threshold asks.
 */
const CHAIN_LIMIT = 16384;

// Instruction forms the interpreter runs itself (by handler; the slot record refines them by operand form).
const W_MOV_GV_EV = 1, W_MOV_EV_GV = 2, W_LEA = 3, W_PUSH = 4, W_POP = 5, W_MOV_IMM = 6, W_INC = 7, W_DEC = 8;
const W_ALU_RM_REG = 9, W_ALU_REG_RM = 10, W_ALU_RM_IMM = 11, W_ALU_GV_M = 12, W_ALU_M_GV = 13, W_ALU_M_IMM = 14;
const W_TEST = 15, W_MOVZX_B = 16, W_MOVZX_W = 17, W_MOVSX_B = 18, W_MOVSX_W = 19, W_JCC = 20, W_JMP = 21;
const W_CALL = 22, W_RET = 23, W_MOV_EV_IZ = 24, W_NOP = 25, W_ALU_EAX_IMM = 26, W_TEST_EAX_IMM = 27;
const W_SHIFT = 28, W_MOV_GB_EB = 29, W_MOV_EB_GB = 30, W_MOV_EB_IB = 31, W_MOV_REG_IB = 32, W_BYTE_ALU_IMM = 33;
const W_BYTE_ALU_AL = 34, W_BYTE_ALU_GB_EB = 35, W_TEST_EB_GB = 36, W_TEST_EB_IB = 37, W_TEST_AL = 38, W_SETCC = 39, W_CMOV = 40;
const W_MOV_MOFFS = 41, W_IMUL = 42, W_IMUL_IMM = 43, W_INC_EV = 44, W_DEC_EV = 45, W_NOT = 46, W_NEG = 47, W_PUSH_EV = 48;
const W_PUSH_IMM = 49, W_LEAVE = 50, W_BSWAP = 51, W_TEST_IMM = 52, W_MUL = 53, W_BYTE_ALU_EB_GB = 54, W_SHIFT_DOUBLE = 55, W_DIV = 56, W_CMPXCHG = 57;
/**
 * KIND: what each handler is here; ALU_OP: the ALU operation (ModRM.reg order: add or adc sbb and
 * sub xor cmp) of the specialised register handlers, or the Jcc condition.
 */
const { kind: KIND, op: ALU_OP, set } = handlerKinds('warm-blocks');
{
  set(movGvEv, W_MOV_GV_EV); set(movEvGv, W_MOV_EV_GV); set(lea, W_LEA); set(pushReg, W_PUSH); set(popReg, W_POP);
  set(movRegIz, W_MOV_IMM); set(incReg, W_INC); set(decReg, W_DEC);
  for (let op = 0; op < 8; op++) {
    set(ALU_EVGV_R32[op], W_ALU_RM_REG, op); set(ALU_GVEV_R32[op], W_ALU_REG_RM, op); set(ALU_GRP1_R32[op], W_ALU_RM_IMM, op);
  }
  set(aluGvEv, W_ALU_GV_M); set(aluEvGv, W_ALU_M_GV); set(grp1Ev, W_ALU_M_IMM); set(testEvGv, W_TEST);
  set(movzxb, W_MOVZX_B); set(movzxw, W_MOVZX_W); set(movsxb, W_MOVSX_B); set(movsxw, W_MOVSX_W);
  for (let cc = 0; cc < 16; cc++) set(JCC[cc], W_JCC, cc);
  set(jmpRel, W_JMP); set(callRel, W_CALL); set(retNear, W_RET); set(movEvIz, W_MOV_EV_IZ); set(nop, W_NOP);
  set(aluAXIz, W_ALU_EAX_IMM); set(testAXIz, W_TEST_EAX_IMM); set(grp2Ev, W_SHIFT);
  set(movGbEb, W_MOV_GB_EB); set(movEbGb, W_MOV_EB_GB); set(movEbIb, W_MOV_EB_IB); set(movRegIb, W_MOV_REG_IB);
  set(grp1Eb, W_BYTE_ALU_IMM); set(aluALIb, W_BYTE_ALU_AL); set(aluGbEb, W_BYTE_ALU_GB_EB); set(aluEbGb, W_BYTE_ALU_EB_GB); set(testEbGb, W_TEST_EB_GB);
  set(testEbIb, W_TEST_EB_IB); set(testALIb, W_TEST_AL); set(setcc, W_SETCC); set(cmovcc, W_CMOV); set(movMoffs, W_MOV_MOFFS);
  set(imulGvEv, W_IMUL); set(imulGvEvI, W_IMUL_IMM); set(incEv, W_INC_EV); set(decEv, W_DEC_EV); set(notEv, W_NOT); set(negEv, W_NEG);
  set(pushEv, W_PUSH_EV); set(pushImm, W_PUSH_IMM); set(leave, W_LEAVE); set(bswap, W_BSWAP); set(testEvIz, W_TEST_IMM); set(mulEv, W_MUL); set(shxd, W_SHIFT_DOUBLE); set(divEv, W_DIV); set(cmpxchgEvGv, W_CMPXCHG);
}
/**
 * Handlers the interpreter may call for an instruction it does not run itself (the run loop's checks
 * after a handler are made by WarmTier.callHandler). HLT is left to the block loop, which stops on it.
 */
const CALLABLE = new Uint8Array(HANDLERS.length).fill(1);
CALLABLE[HANDLERS.findIndex((h) => h.name === 'hlt')] = 0;
/** Kinds that are byte operations (their size is fixed; the rest need a 32-bit operand size). */
const BYTE_FORMS = new Set([W_BYTE_ALU_EB_GB, W_MOV_GB_EB, W_MOV_EB_GB, W_MOV_EB_IB, W_MOV_REG_IB, W_BYTE_ALU_IMM, W_BYTE_ALU_AL, W_BYTE_ALU_GB_EB,
  W_TEST_EB_GB, W_TEST_EB_IB, W_TEST_AL, W_SETCC, W_NOP]);
/** Forms whose ModRM memory form reads or writes memory (LEA only computes the address). */
const MEMORY_FORMS = new Set([W_CMPXCHG, W_DIV, W_SHIFT_DOUBLE, W_BYTE_ALU_EB_GB, W_MUL, W_MOV_GV_EV, W_MOV_EV_GV, W_MOV_EV_IZ, W_ALU_GV_M, W_ALU_M_GV, W_ALU_M_IMM, W_TEST, W_MOVZX_B, W_MOVZX_W,
  W_MOVSX_B, W_MOVSX_W, W_SHIFT, W_MOV_GB_EB, W_MOV_EB_GB, W_MOV_EB_IB, W_BYTE_ALU_IMM, W_BYTE_ALU_GB_EB, W_TEST_EB_GB, W_TEST_EB_IB,
  W_SETCC, W_CMOV, W_IMUL, W_IMUL_IMM, W_INC_EV, W_DEC_EV, W_NOT, W_NEG, W_PUSH_EV, W_TEST_IMM]);


/** Whether the interpreter runs slot `d` (handler form `kind`) itself. */
function supported(c: CpuCore, d: number, kind: number): boolean {
  if (kind === 0) return false;
  const m = c.dRm[d]!, reg = (m >> 3) & 7;
  const memory = m < 0xc0 && MEMORY_FORMS.has(kind);
  // (MOV r/m16, r16 and r16, r/m16 are run too.)
  const word = kind === W_MOV_GV_EV || kind === W_MOV_EV_GV;
  if (!BYTE_FORMS.has(kind) && (c.dPfx[d]! & P_O32) === 0 && kind !== W_MOV_MOFFS && !word) return false;
  if ((memory || (kind === W_LEA && m < 0xc0)) && (c.dEa[d]! & EA_A16) !== 0) return false; // 16-bit addressing: the handler
  switch (kind) {
    case W_ALU_GV_M: case W_ALU_M_GV: case W_ALU_M_IMM: return memory;
    case W_MOV_EV_IZ: case W_MOV_EB_IB: return reg === 0;
    case W_LEA: return m < 0xc0;
    case W_SHIFT_DOUBLE: // SHLD/SHRD of a 32-bit register, by CL or by a constant other than 0
      return !memory && ((c.dExt[d]! & 2) !== 0 || (c.dImm[d]! & 31) !== 0);
    case W_SHIFT: // ROL/ROR/SHL/SHR/SAR of a register, by CL or by a constant other than 0 (RCL/RCR: the handler)
      return !memory && reg !== 2 && reg !== 3 && (c.dExt[d] === 2 || ((c.dExt[d] === 1 ? 1 : c.dImm[d]!) & 31) !== 0);
    case W_MOV_MOFFS: { // A0-A3 with a 32-bit address; the dword forms need a 32-bit operand size
      const e = c.dExt[d]!;
      return (c.dPfx[d]! & P_A32) !== 0 && ((e & 1) === 0 || (c.dPfx[d]! & P_O32) !== 0);
    }
    default: return true;
  }
}


/** Writes slot `d`'s record; returns its form. */
function writeRecord(c: CpuCore, d: number, rec: Records): number {
  const h = c.dH[d]!, kind = KIND[h]!, r = d * WARM_RECORD, { u8, u16, i32 } = rec;
  u8[r + R_LEN] = c.dLen[d]!;
  u8[r + R_WANT] = 0;
  i32[(r + R_FN) >> 2] = 0;
  if (!supported(c, d, kind)) return (u8[r + R_KIND] = CALLABLE[h] === 0 ? K_STOP : K_HANDLER);
  const m = c.dRm[d]!, reg = (m >> 3) & 7, rm = m & 7, memory = m < 0xc0, imm = c.dImm[d]!;
  let form = K_NOP, op = 0, a = 0, b = 0;
  if (memory || kind === W_MOV_MOFFS) {
    const f = kind === W_MOV_MOFFS ? EA_NONE | (EA_NONE << 4) : c.dEa[d]!;
    const base = f & 15, index = (f >> 4) & 15;
    u16[(r + R_BASE) >> 1] = base === EA_NONE ? HOST.zero : dwordReg(base);
    u16[(r + R_INDEX) >> 1] = index === EA_NONE ? HOST.zero : dwordReg(index);
    u8[r + R_SCALE] = (f >> 8) & 3;
    u8[r + R_SEG] = c.dSeg[d]!;
    i32[(r + R_DISP) >> 2] = c.dDisp[d]!;
  }
  let value = imm;
  const alu = (o: number, f: number): void => { op = o; form = f; };
  switch (kind) {
    case W_NOP: break;
    case W_MOV_GV_EV: case W_MOV_EV_GV: {
      // 16-bit operands write the low half of a register (its first two bytes) and leave the rest.
      const o32 = (c.dPfx[d]! & P_O32) !== 0, load = kind === W_MOV_GV_EV;
      form = memory ? (load ? (o32 ? K_MOV_LOAD : K_MOVW_LOAD) : (o32 ? K_MOV_STORE : K_MOVW_STORE)) : (o32 ? K_MOV_RR : K_MOVW_RR);
      a = dwordReg(load ? reg : rm); b = dwordReg(load ? rm : reg);
      break;
    }
    case W_INC_EV: case W_DEC_EV: form = memory ? K_INCDEC_M : K_INCDEC; op = kind === W_INC_EV ? 0 : 1; a = dwordReg(rm); break;
    case W_NOT: form = memory ? K_NOT_M : K_NOT_R; a = dwordReg(rm); break;
    case W_NEG: form = memory ? K_NEG_M : K_NEG_R; a = dwordReg(rm); break;
    case W_PUSH_EV: form = memory ? K_PUSH_M : K_PUSH; b = dwordReg(rm); break;
    case W_PUSH_IMM: form = K_PUSH_I; break;
    case W_LEAVE: form = K_LEAVE; break;
    case W_BSWAP: form = K_BSWAP; a = dwordReg(c.dExt[d]!); break;
    case W_TEST_IMM: alu(ALU_TEST, memory ? K_ALU_MI : K_ALU_RI); a = dwordReg(rm); break;
    case W_MOV_EV_IZ: form = memory ? K_MOV_MI : K_MOV_RI; a = dwordReg(rm); break;
    case W_MOV_IMM: form = K_MOV_RI; a = dwordReg(c.dExt[d]!); break;
    case W_LEA: form = K_LEA; a = dwordReg(reg); break;
    case W_MOV_GB_EB: form = memory ? K_MOVB_LOAD : K_MOVB_RR; a = byteReg(reg); b = byteReg(rm); break;
    case W_MOV_EB_GB: form = memory ? K_MOVB_STORE : K_MOVB_RR; a = byteReg(rm); b = byteReg(reg); break;
    case W_MOV_EB_IB: form = memory ? K_MOVB_MI : K_MOVB_RI; a = byteReg(rm); value = imm & 0xff; break;
    case W_MOV_REG_IB: form = K_MOVB_RI; a = byteReg(c.dExt[d]!); value = imm & 0xff; break;
    case W_MOV_MOFFS: {
      const e = c.dExt[d]!, dword = (e & 1) !== 0;
      form = (e & 2) === 0 ? (dword ? K_MOV_LOAD : K_MOVB_LOAD) : (dword ? K_MOV_STORE : K_MOVB_STORE);
      a = b = HOST.regs; // EAX or AL
      break;
    }
    case W_MOVZX_B: case W_MOVSX_B: case W_MOVZX_W: case W_MOVSX_W: {
      const word = kind === W_MOVZX_W || kind === W_MOVSX_W;
      op = (word ? 2 : 0) | (kind === W_MOVSX_B || kind === W_MOVSX_W ? 1 : 0);
      form = memory ? K_MOVX_M : K_MOVX_R; a = dwordReg(reg); b = word ? dwordReg(rm) : byteReg(rm);
      break;
    }
    case W_CMOV: form = memory ? K_CMOV_M : K_CMOV_R; op = c.dExt[d]!; a = dwordReg(reg); b = dwordReg(rm); break;
    case W_SETCC: form = memory ? K_SETCC_M : K_SETCC_R; op = c.dExt[d]!; a = byteReg(rm); break;
    case W_PUSH: form = K_PUSH; b = dwordReg(c.dExt[d]!); break;
    case W_POP: form = K_POP; a = dwordReg(c.dExt[d]!); break;
    case W_INC: case W_DEC: form = K_INCDEC; op = kind === W_INC ? 0 : 1; a = dwordReg(c.dExt[d]!); break;
    case W_SHIFT:
      form = reg < 2 ? K_ROT : K_SHIFT; op = reg === 6 ? 4 : reg; a = dwordReg(rm); value = (c.dExt[d] === 1 ? 1 : imm) & 31;
      u8[r + R_BY_CL] = c.dExt[d] === 2 ? 1 : 0;
      break;
    case W_MUL: form = memory ? K_MUL_M : K_MUL_R; b = dwordReg(rm); break; // EDX:EAX = EAX * r/m32
    case W_DIV: form = memory ? K_DIV_M : K_DIV_R; b = dwordReg(rm); break; // EAX, EDX = EDX:EAX / r/m32, remainder
    case W_CMPXCHG: form = memory ? K_CMPXCHG_M : K_CMPXCHG_R; a = dwordReg(rm); b = dwordReg(reg); break; // r/m32 = r32 if EAX = r/m32, else EAX = r/m32
    case W_SHIFT_DOUBLE: // SHLD (R_OP 0) / SHRD (R_OP 1) r/m32 (register), r32 by CL or a constant
      form = K_SHIFT_DOUBLE; op = c.dExt[d]! & 1; a = dwordReg(rm); b = dwordReg(reg); value = imm & 31;
      u8[r + R_BY_CL] = (c.dExt[d]! & 2) !== 0 ? 1 : 0;
      break;
    case W_IMUL: case W_IMUL_IMM: // reg = r/m * (reg, or the immediate: R_OP 1)
      form = memory ? K_IMUL_M : K_IMUL_R; op = kind === W_IMUL ? 0 : 1; a = dwordReg(reg); b = dwordReg(rm);
      break;
    case W_ALU_RM_REG: alu(ALU_OP[h]!, K_ALU_RR); a = dwordReg(rm); b = dwordReg(reg); break;
    case W_ALU_REG_RM: alu(ALU_OP[h]!, K_ALU_RR); a = dwordReg(reg); b = dwordReg(rm); break;
    case W_ALU_RM_IMM: alu(ALU_OP[h]!, K_ALU_RI); a = dwordReg(rm); break;
    case W_ALU_EAX_IMM: alu(c.dExt[d]!, K_ALU_RI); a = dwordReg(0); break;
    case W_TEST_EAX_IMM: alu(ALU_TEST, K_ALU_RI); a = dwordReg(0); break;
    case W_TEST: alu(ALU_TEST, memory ? K_ALU_LOAD : K_ALU_RR); a = dwordReg(memory ? reg : rm); b = dwordReg(reg); break;
    case W_ALU_GV_M: alu(c.dExt[d]!, K_ALU_LOAD); a = dwordReg(reg); break;
    case W_ALU_M_GV: alu(c.dExt[d]!, K_ALU_RMW); b = dwordReg(reg); break;
    case W_ALU_M_IMM: alu(reg, K_ALU_MI); break;
    case W_BYTE_ALU_IMM: alu(reg, memory ? K_BALU_MI : K_BALU_RI); a = byteReg(rm); value = imm & 0xff; break;
    case W_TEST_EB_IB: alu(ALU_TEST, memory ? K_BALU_MI : K_BALU_RI); a = byteReg(rm); value = imm & 0xff; break;
    case W_BYTE_ALU_AL: alu(c.dExt[d]!, K_BALU_RI); a = byteReg(0); value = imm & 0xff; break;
    case W_TEST_AL: alu(ALU_TEST, K_BALU_RI); a = byteReg(0); value = imm & 0xff; break;
    case W_BYTE_ALU_GB_EB: alu(c.dExt[d]!, memory ? K_BALU_LOAD : K_BALU_RR); a = byteReg(reg); b = byteReg(rm); break;
    case W_BYTE_ALU_EB_GB: alu(c.dExt[d]!, memory ? K_BALU_RMW : K_BALU_RR); a = byteReg(rm); b = byteReg(reg); break; // r/m8 = r/m8 OP r8
    case W_TEST_EB_GB: alu(ALU_TEST, memory ? K_BALU_LOAD : K_BALU_RR); a = byteReg(memory ? reg : rm); b = byteReg(reg); break;
    case W_JCC: form = K_JCC; op = ALU_OP[h]!; break;
    case W_JMP: form = K_JMP; break;
    case W_CALL: form = K_CALL; break;
    case W_RET: form = K_RET; break;
    default: throw new Error(`warm-blocks: form ${kind} has no record`);
  }
  u8[r + R_KIND] = form;
  u8[r + R_OP] = op;
  u16[(r + R_A) >> 1] = a;
  u16[(r + R_B) >> 1] = b;
  i32[(r + R_IMM) >> 2] = value;
  const aluForm = ALU_FORMS.has(form);
  u8[r + R_FK] = aluForm ? aluFlags(op) : 0;
  u8[r + R_STORE] = aluForm && op !== 7 && op !== ALU_TEST ? 1 : 0;
  return form;
}

// ---- the WebAssembly module: function indexes (the handler import first) ----
const F_HANDLER = 0, H_READ = 1, H_WRITE = 2, H_LEAVE = 3, H_FLAG = 4, H_COND = 5, F_INTERP = 6, H_EXIT_FLAGS = 7;

/**
 * READ/WRITE(lin, size, part): the RAM offset (from 0 at the start of RAM) of a `size`-byte access
 * at linear `lin` through TLB part `part` (its byte offset, the privilege's read or write part), or
 * -1 when it is not the plain case: it crosses a page, misses the TLB, is not RAM, or (WRITE) lands
 * on a page holding decoded code.
 */
function accessHelper(write: boolean): WasmFunction {
  const b = new Body();
  const lin = 0, size = 1, part = 2, index = 3, value = 4;
  b.get(lin).i32(4095).op(OP.i32And).i32(4096).get(size).op(OP.i32Sub).op(OP.i32GtU);
  b.if().i32(-1).op(OP.return).end();
  b.get(part).get(lin).i32(12).op(OP.i32ShrU).i32(1023).op(OP.i32And).op(OP.i32Or).i32(2).op(OP.i32Shl).set(index);
  b.get(index).mem(OP.i32Load, 2, HOST.tlbTag).get(lin).i32(-4096).op(OP.i32And).i32(1).op(OP.i32Or).op(OP.i32Ne);
  b.get(index).mem(OP.i32Load, 2, HOST.tlbVal).tee(value).i32(1).op(OP.i32And).op(OP.i32Or);
  if (write) b.get(value).i32(12).op(OP.i32ShrU).mem(OP.i32Load8u, 0, HOST.codePages).op(OP.i32Or);
  b.if().i32(-1).op(OP.return).end();
  b.get(value).get(lin).i32(4095).op(OP.i32And).op(OP.i32Or);
  return { params: 3, locals: 2, body: b };
}

/** The flag-state arguments every flag helper takes, in order: fk, fbyte, fa, fb, fv, cf, setMask, setBits. */
const FLAG_ARGS = 8;

/**
 * LEAVE(eip, fk, fbyte, fa, fb, fv, cf, setMask, setBits): EIP into the exit record, and the
 * lazy-flag state described by the rest (none when fk is F_NONE: the record still holds what the
 * blocks before this one in the call left, or what the last handler call found), with the flags set
 * outright over it. Returns 0.
 */
function leaveHelper(): WasmFunction {
  const b = new Body(), x = HOST.exit;
  const eip = 0, fk = 1, fbyte = 2, fa = 3, fb = 4, fv = 5, cf = 6, setMask = 7, setBits = 8, shift = 9, keep = 10, op = 11;
  const store = (field: number, value: () => void): void => { b.i32(0); value(); b.mem(OP.i32Store, 2, x + field * 4); };
  store(X_EIP, () => b.get(eip));
  b.get(fk).get(setMask).op(OP.i32Or).op(OP.i32Eqz).if().i32(0).op(OP.return).end();
  store(X_SET_MASK, () => b.get(setMask));
  store(X_SET_BITS, () => b.get(setBits));
  b.get(fk).op(OP.i32Eqz).if().i32(0).op(OP.return).end();
  b.i32(24).i32(0).get(fbyte).op(OP.select).set(shift);
  b.get(fk).i32(F_INC).op(OP.i32Eq).get(fk).i32(F_DEC).op(OP.i32Eq).op(OP.i32Or).set(keep);
  store(X_KIND, () => b.i32(FLAGS_LAZY_KEEP_CF).i32(FLAGS_LAZY).get(keep).op(OP.select));
  store(X_OP, () => {
    b.i32(OP_ADD);
    b.i32(OP_LOGIC).i32(OP_SHIFT).i32(OP_SUB).get(fk).i32(F_SHIFT).op(OP.i32Eq).op(OP.select).get(fk).i32(F_LOGIC).op(OP.i32Eq).op(OP.select);
    b.get(fk).i32(F_ADD).op(OP.i32Eq).get(fk).i32(F_INC).op(OP.i32Eq).op(OP.i32Or).op(OP.select).set(op);
    b.i32(OP_SBB).i32(OP_ADC).get(op).get(fk).i32(F_ADC).op(OP.i32Eq).op(OP.select).get(fk).i32(F_SBB).op(OP.i32Eq).op(OP.select);
  });
  store(X_DST, () => b.get(fa).get(shift).op(OP.i32ShrU));
  store(X_SRC, () => b.get(fb).get(shift).op(OP.i32ShrU));
  store(X_RES, () => b.get(fv).get(shift).op(OP.i32ShrU));
  store(X_SIZE, () => b.i32(0).i32(2).get(fbyte).op(OP.select));
  store(X_CF, () => b.get(cf).i32(0).get(keep).op(OP.select));
  b.i32(0);
  return { params: 1 + FLAG_ARGS, locals: 3, body: b };
}

/** FLAG(bit, fk, fbyte, fa, fb, fv, cf, setMask, setBits, flags): flag `bit` of EFLAGS (0 or 1) as the flag state says. */
function flagHelper(): WasmFunction {
  const b = new Body();
  const bit = 0, fk = 1, fbyte = 2, fa = 3, fb = 4, fv = 5, cf = 6, setMask = 7, setBits = 8, flags = 9;
  const is = (local: number, value: number): Body => b.get(local).i32(value).op(OP.i32Eq);
  const ret = (value: () => void): void => { value(); b.op(OP.return); };
  b.get(setMask).get(bit).op(OP.i32ShrU).i32(1).op(OP.i32And).if(); ret(() => b.get(setBits).get(bit).op(OP.i32ShrU).i32(1).op(OP.i32And)); b.end();
  b.get(fk).op(OP.i32Eqz).if(); ret(() => b.get(flags).get(bit).op(OP.i32ShrU).i32(1).op(OP.i32And)); b.end();
  is(fk, F_INC); is(fk, F_DEC); b.op(OP.i32Or).if();
  is(bit, CF_BIT).if(); ret(() => b.get(cf)); b.end();
  is(bit, OF_BIT).if(); ret(() => b.get(fv).i32(-0x80000000).i32(0x7fffffff).get(fk).i32(F_INC).op(OP.i32Eq).op(OP.select).op(OP.i32Eq)); b.end();
  b.end();
  is(fk, F_SHIFT).if();
  is(bit, CF_BIT).if(); ret(() => b.get(fb)); b.end();
  is(bit, OF_BIT).if(); ret(() => b.get(fa)); b.end();
  b.end();
  is(bit, ZF_BIT).if(); ret(() => b.get(fv).op(OP.i32Eqz)); b.end();
  is(bit, SF_BIT).if(); ret(() => b.get(fv).i32(31).op(OP.i32ShrU)); b.end();
  is(bit, PF_BIT).if();
  ret(() => b.get(fv).i32(24).i32(0).get(fbyte).op(OP.select).op(OP.i32ShrU).i32(0xff).op(OP.i32And).op(OP.i32Popcnt).i32(1).op(OP.i32And).op(OP.i32Eqz));
  b.end();
  is(bit, CF_BIT).if();
  is(fk, F_ADD).if(); ret(() => b.get(fv).get(fa).op(OP.i32LtU)); b.end();
  is(fk, F_SUB).if(); ret(() => b.get(fa).get(fb).op(OP.i32LtU)); b.end();
  // With a carry in, the result wraps to the first operand or below (ADC), or the first is at most the second (SBB).
  is(fk, F_ADC).if(); ret(() => b.get(fv).get(fa).op(OP.i32LeU)); b.end();
  is(fk, F_SBB).if(); ret(() => b.get(fa).get(fb).op(OP.i32LeU)); b.end();
  ret(() => b.i32(0));
  b.end();
  // OF
  is(fk, F_ADD); is(fk, F_ADC); b.op(OP.i32Or).if();
  ret(() => b.get(fa).get(fv).op(OP.i32Xor).get(fb).get(fv).op(OP.i32Xor).op(OP.i32And).i32(31).op(OP.i32ShrU)); b.end();
  is(fk, F_SUB); is(fk, F_SBB); b.op(OP.i32Or).if();
  ret(() => b.get(fa).get(fb).op(OP.i32Xor).get(fa).get(fv).op(OP.i32Xor).op(OP.i32And).i32(31).op(OP.i32ShrU)); b.end();
  b.i32(0);
  return { params: 2 + FLAG_ARGS, locals: 0, body: b };
}

/**
 * `count` cases on the value `selector` pushes (0..count-1; anything else runs the last): each case
 * runs and then leaves the switch. Cases must not branch out of it (they may return).
 */
function switchOn(b: Body, count: number, selector: () => void, cases: ReadonlyArray<() => void>): void {
  b.block();
  for (let k = 0; k < count; k++) b.block();
  selector();
  b.brTable(Array.from({ length: count }, (_, k) => k), count - 1);
  for (let k = 0; k < count; k++) {
    b.end();
    cases[k]!();
    if (k < count - 1) b.br(count - 1 - k);
  }
  b.end();
}

/** COND(cc, fk, fbyte, fa, fb, fv, cf, setMask, setBits, flags): condition `cc` (Jcc order) as the flag state says (0 or 1). */
function condHelper(): WasmFunction {
  const b = new Body();
  // Parameters: cc, then the FLAG arguments (fk 1, fbyte 2, fa 3, fb 4, fv 5, cf 6, setMask 7, setBits 8, flags 9).
  const cc = 0, fk = 1, fa = 3, fb = 4, setMask = 7, v = 10;
  const flag = (bit: number): void => {
    b.i32(bit);
    for (let k = 1; k <= FLAG_ARGS + 1; k++) b.get(k);
    b.call(H_FLAG);
  };
  // After CMP/SUB the unsigned and signed orders of the operands decide directly.
  b.get(fk).i32(F_SUB).op(OP.i32Eq).get(setMask).op(OP.i32Eqz).op(OP.i32And).if();
  switchOn(b, 16, () => b.get(cc), SUB_CONDITION.map((code) => () => {
    if (code !== 0) b.get(fa).get(fb).op(code).op(OP.return);
  }));
  b.end();
  switchOn(b, 8, () => b.get(cc).i32(1).op(OP.i32ShrU), [
    () => { flag(OF_BIT); b.set(v); },
    () => { flag(CF_BIT); b.set(v); },
    () => { flag(ZF_BIT); b.set(v); },
    () => { flag(CF_BIT); flag(ZF_BIT); b.op(OP.i32Or).set(v); },
    () => { flag(SF_BIT); b.set(v); },
    () => { flag(PF_BIT); b.set(v); },
    () => { flag(SF_BIT); flag(OF_BIT); b.op(OP.i32Xor).set(v); },
    () => { flag(ZF_BIT); flag(SF_BIT); flag(OF_BIT); b.op(OP.i32Xor).op(OP.i32Or).set(v); },
  ]);
  b.get(v).get(cc).i32(1).op(OP.i32And).op(OP.i32Xor);
  return { params: 2 + FLAG_ARGS, locals: 1, body: b };
}

// The interpreter's parameters and locals.
const P_EIP = 0, P_UK = 1, P_FLAGS = 2, P_SS32 = 3, P_SLOT = 4, P_COUNT = 5;
const L_I = 6, L_R = 7, L_OFF = 8, L_NEXT = 9, L_FK = 10, L_FBYTE = 11, L_FA = 12, L_FB = 13, L_FV = 14, L_CF = 15;
const L_LIN = 16, L_P = 17, L_V = 18, L_T = 19, L_READ = 20, L_WRITE = 21, L_SP = 22, L_SEG = 23, L_SET_MASK = 24, L_SET_BITS = 25;
const INTERP_LOCALS = 26 - 6;

/**
 * INTERP(eip, userKind, flags, ss32, slot, count): runs the `count` instructions whose records start
 * at pool slot `slot` (the block at `eip`), as the block loop would, and returns the result.
 */
class InterpreterBuilder {
  readonly b = new Body();

  constructor(private readonly ramBase: number) {}

  build(): WasmFunction {
    const b = this.b;
    b.get(P_UK).i32(10).op(OP.i32Shl).set(L_READ);
    b.get(P_UK).i32(1).op(OP.i32Add).i32(10).op(OP.i32Shl).set(L_WRITE);
    b.get(P_SLOT).i32(5).op(OP.i32Shl).set(L_R);
    b.loop();
    b.get(L_OFF); this.rec8(R_LEN); b.op(OP.i32Add).set(L_NEXT);
    const cases: Array<() => void> = [];
    cases[K_HANDLER] = () => this.handlerCall();
    cases[K_STOP] = () => this.bail(BAIL_UNSUPPORTED);
    cases[K_NOP] = () => {};
    cases[K_MOV_RR] = () => this.setA(() => this.regB());
    cases[K_MOV_LOAD] = () => { this.access(4, false); this.setA(() => this.ram(4)); };
    cases[K_MOV_STORE] = () => { this.access(4, true); this.storeRam(4, () => this.regB()); };
    cases[K_MOV_RI] = () => this.setA(() => this.rec32(R_IMM));
    cases[K_MOV_MI] = () => { this.access(4, true); this.storeRam(4, () => this.rec32(R_IMM)); };
    cases[K_LEA] = () => this.setA(() => this.address());
    cases[K_MOVB_RR] = () => this.setByteA(() => this.byteB());
    cases[K_MOVB_LOAD] = () => { this.access(1, false); this.setByteA(() => this.ram(1)); };
    cases[K_MOVB_STORE] = () => { this.access(1, true); this.storeRam(1, () => this.byteB()); };
    cases[K_MOVB_RI] = () => this.setByteA(() => this.rec32(R_IMM));
    cases[K_MOVB_MI] = () => { this.access(1, true); this.storeRam(1, () => this.rec32(R_IMM)); };
    cases[K_MOVX_R] = () => this.movx(false);
    cases[K_MOVX_M] = () => this.movx(true);
    cases[K_PUSH] = () => this.push(() => this.regB());
    cases[K_POP] = () => this.pop();
    cases[K_INCDEC] = () => this.incDec();
    cases[K_SHIFT] = () => this.shift();
    cases[K_ALU_RR] = () => this.alu(false, () => this.regA(), () => this.regB(), (v) => this.setA(v));
    cases[K_ALU_RI] = () => this.alu(false, () => this.regA(), () => this.rec32(R_IMM), (v) => this.setA(v));
    cases[K_ALU_LOAD] = () => { this.access(4, false); b.get(L_P).mem(OP.i32Load, 0, this.ramBase).set(L_V); this.alu(false, () => this.regA(), () => b.get(L_V), (v) => this.setA(v)); };
    cases[K_ALU_RMW] = () => this.memoryAlu(4, () => this.regB());
    cases[K_ALU_MI] = () => this.memoryAlu(4, () => this.rec32(R_IMM));
    cases[K_BALU_RR] = () => this.alu(true, () => this.byteA(), () => this.byteB(), (v) => this.setByteA(v));
    cases[K_BALU_RI] = () => this.alu(true, () => this.byteA(), () => this.rec32(R_IMM), (v) => this.setByteA(v));
    cases[K_BALU_LOAD] = () => { this.access(1, false); b.get(L_P).mem(OP.i32Load8u, 0, this.ramBase).set(L_V); this.alu(true, () => this.byteA(), () => b.get(L_V), (v) => this.setByteA(v)); };
    cases[K_BALU_MI] = () => this.memoryAlu(1, () => this.rec32(R_IMM));
    cases[K_BALU_RMW] = () => this.memoryAlu(1, () => this.byteB());
    cases[K_SHIFT_DOUBLE] = () => this.shiftDouble();
    cases[K_DIV_R] = () => this.div(false);
    cases[K_DIV_M] = () => this.div(true);
    cases[K_CMPXCHG_R] = () => this.cmpxchg(false);
    cases[K_CMPXCHG_M] = () => this.cmpxchg(true);
    cases[K_SETCC_R] = () => { this.condition(); b.set(L_V); this.setByteA(() => b.get(L_V)); };
    cases[K_SETCC_M] = () => { this.access(1, true); this.condition(); b.set(L_V); this.storeRam(1, () => b.get(L_V)); };
    cases[K_CMOV_R] = () => { this.regB(); b.set(L_V); this.condition(); b.if(); this.setA(() => b.get(L_V)); b.end(); };
    cases[K_CMOV_M] = () => { this.access(4, false); b.get(L_P).mem(OP.i32Load, 0, this.ramBase).set(L_V); this.condition(); b.if(); this.setA(() => b.get(L_V)); b.end(); };
    cases[K_JCC] = () => { this.condition(); b.if(); this.target(); this.leave(() => b.get(L_I).i32(1).op(OP.i32Add), () => b.get(L_T)); b.end(); };
    cases[K_JMP] = () => { this.target(); this.leave(() => b.get(L_I).i32(1).op(OP.i32Add), () => b.get(L_T)); };
    cases[K_CALL] = () => this.call();
    cases[K_RET] = () => this.ret();
    cases[K_ROT] = () => this.rotate();
    cases[K_IMUL_R] = () => this.imul(false);
    cases[K_IMUL_M] = () => this.imul(true);
    cases[K_MOVW_RR] = () => { this.rec16(R_A); this.rec16(R_B).mem(OP.i32Load16u, 1, 0); b.mem(OP.i32Store16, 1, 0); };
    cases[K_MOVW_LOAD] = () => { this.access(2, false); this.rec16(R_A); this.ram(2); b.mem(OP.i32Store16, 1, 0); };
    cases[K_MOVW_STORE] = () => { this.access(2, true); this.storeRam(2, () => this.rec16(R_B).mem(OP.i32Load16u, 1, 0)); };
    cases[K_INCDEC_M] = () => { this.access(4, true); this.incDec(() => this.ram(4), (v) => this.storeRam(4, v)); };
    cases[K_NOT_R] = () => this.setA(() => { this.regA(); b.i32(-1).op(OP.i32Xor); });
    cases[K_NOT_M] = () => { this.access(4, true); this.storeRam(4, () => { this.ram(4); b.i32(-1).op(OP.i32Xor); }); };
    cases[K_NEG_R] = () => this.neg(() => this.regA(), (v) => this.setA(v));
    cases[K_NEG_M] = () => { this.access(4, true); this.neg(() => this.ram(4), (v) => this.storeRam(4, v)); };
    cases[K_PUSH_M] = () => { this.access(4, false); this.ram(4); b.set(L_V); this.push(() => b.get(L_V)); };
    cases[K_PUSH_I] = () => this.push(() => this.rec32(R_IMM));
    cases[K_LEAVE] = () => this.leaveFrame();
    cases[K_BSWAP] = () => this.setA(() => this.bswap());
    cases[K_MUL_R] = () => this.mul(false);
    cases[K_MUL_M] = () => this.mul(true);
    switchOn(b, KINDS, () => this.rec8(R_KIND), cases);
    b.get(L_NEXT).set(L_OFF);
    b.get(L_R).i32(WARM_RECORD).op(OP.i32Add).set(L_R);
    b.get(L_I).i32(1).op(OP.i32Add).tee(L_I).get(P_COUNT).op(OP.i32LtU).op(OP.brIf).code.unsigned(0);
    b.end();
    this.leave(() => b.get(P_COUNT), () => this.eipPlus(L_OFF));
    b.i32(0); // not reached (leave returns)
    return { params: 6, locals: INTERP_LOCALS, body: b };
  }

  private rec8(field: number): Body { return this.b.get(L_R).mem(OP.i32Load8u, 0, HOST.warmSlots + field); }
  private rec16(field: number): Body { return this.b.get(L_R).mem(OP.i32Load16u, 1, HOST.warmSlots + field); }
  private rec32(field: number): Body { return this.b.get(L_R).mem(OP.i32Load, 2, HOST.warmSlots + field); }
  private regA(): void { this.rec16(R_A).mem(OP.i32Load, 2, 0); }
  private regB(): void { this.rec16(R_B).mem(OP.i32Load, 2, 0); }
  private byteA(): void { this.rec16(R_A).mem(OP.i32Load8u, 0, 0); }
  private byteB(): void { this.rec16(R_B).mem(OP.i32Load8u, 0, 0); }
  private setA(value: () => void): void { this.rec16(R_A); value(); this.b.mem(OP.i32Store, 2, 0); }
  private setByteA(value: () => void): void { this.rec16(R_A); value(); this.b.mem(OP.i32Store8, 0, 0); }
  private eipPlus(local: number): Body { return this.b.get(P_EIP).get(local).op(OP.i32Add); }
  /** Pushes the loaded RAM value at L_P. */
  private ram(size: number): void { this.b.get(L_P).mem(size === 4 ? OP.i32Load : size === 2 ? OP.i32Load16u : OP.i32Load8u, 0, this.ramBase); }
  private storeRam(size: number, value: () => void): void {
    this.b.get(L_P); value(); this.b.mem(size === 4 ? OP.i32Store : size === 2 ? OP.i32Store16 : OP.i32Store8, 0, this.ramBase);
  }

  /** Pushes the effective address of the record's memory operand. */
  private address(): void {
    this.rec32(R_DISP);
    this.rec16(R_BASE).mem(OP.i32Load, 2, 0).op(OP.i32Add);
    this.rec16(R_INDEX).mem(OP.i32Load, 2, 0);
    this.rec8(R_SCALE).op(OP.i32Shl).op(OP.i32Add);
  }
  /** A segment that is not flat (special checks, or a limit below 4 GiB - 1) bails out; else pushes its base. */
  private segment(seg: () => void): void {
    const b = this.b;
    seg(); b.set(L_SEG);
    b.get(L_SEG).i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, HOST.segCheck);
    b.get(L_SEG).i32(3).op(OP.i32Shl).mem(OP.f64Load, 3, HOST.segLimit).f64(4294967295).op(OP.f64Ne).op(OP.i32Or);
    b.if(); this.bail(BAIL_SEGMENT); b.end();
    b.get(L_SEG).i32(2).op(OP.i32Shl).mem(OP.i32Load, 2, HOST.segBase);
  }
  /**
   * The RAM offset of the record's `size`-byte memory operand into L_P when it is the plain case
   * (linear address from `lin`, else the record's operand), else a bail out before the instruction.
   */
  private access(size: number | (() => void), write: boolean, lin?: () => void, seg?: () => void): void {
    const b = this.b;
    if (lin !== undefined) lin(); else this.address();
    this.segment(seg ?? (() => this.rec8(R_SEG)));
    b.op(OP.i32Add).tee(L_LIN);
    if (typeof size === 'number') b.i32(size); else size();
    b.get(write ? L_WRITE : L_READ).call(write ? H_WRITE : H_READ).tee(L_P).i32(0).op(OP.i32LtS);
    b.if(); this.bail(BAIL_ACCESS); b.end();
  }

  /** The flag-state locals, as the helpers take them. */
  private flagArgs(): void {
    const b = this.b;
    b.get(L_FK).get(L_FBYTE).get(L_FA).get(L_FB).get(L_FV).get(L_CF).get(L_SET_MASK).get(L_SET_BITS);
  }
  /** Pushes the record's condition (R_OP, Jcc order): 0 or 1. */
  private condition(): void {
    this.rec8(R_OP); this.flagArgs(); this.b.get(P_FLAGS).call(H_COND);
  }
  /** Returns `result`, EIP from `eip`, the flags into the exit record. */
  private leave(result: () => void, eip: () => void): void {
    const b = this.b;
    eip(); this.flagArgs(); b.call(H_LEAVE).op(OP.drop);
    result(); b.op(OP.return);
  }
  /** Returns before this instruction: nothing of it done. */
  private bail(why: number): void {
    this.leave(() => this.b.get(L_I).i32(BAIL | (why << 17)).op(OP.i32Or), () => this.eipPlus(L_OFF));
  }

  /**
   * An instruction the interpreter does not run: its handler, called through the import
   * (WarmTier.callHandler) with the lazy flags handed over in the exit record. It returns EFLAGS
   * (when the record says a later instruction reads them), or -1 when the block must stop after it
   * (EIP moved off the fall-through, a chunk break): then the core has everything.
   */
  private handlerCall(): void {
    const b = this.b;
    this.eipPlus(L_OFF); this.flagArgs(); b.call(H_LEAVE).op(OP.drop);
    b.get(L_I).get(L_OFF).get(L_NEXT); this.rec8(R_WANT); b.call(F_HANDLER).tee(P_FLAGS).i32(-1).op(OP.i32Eq);
    b.if().get(L_I).i32(1 | IN_CORE).op(OP.i32Add).op(OP.return).end();
    b.i32(F_NONE).set(L_FK);
    b.i32(0).set(L_SET_MASK);
  }

  /** `a OP b` (OP from the record), the lazy state left in fa/fb/fv; bytes in the top byte. */
  private alu(byte: boolean, a: () => void, source: () => void, store: (v: () => void) => void): void {
    const b = this.b;
    // ADC and SBB: the carry in (CF as the flag state has it before this instruction) into L_T, at
    // the operands' bit 0 (bit 24 for bytes, which are in the top byte); 0 for the other operations.
    this.rec8(R_OP).i32(-2).op(OP.i32And).i32(ALU_ADC).op(OP.i32Eq).if();
    b.i32(CF_BIT); this.flagArgs(); b.get(P_FLAGS).call(H_FLAG);
    if (byte) b.i32(24).op(OP.i32Shl);
    b.set(L_T);
    b.else().i32(0).set(L_T).end();
    a(); if (byte) b.i32(24).op(OP.i32Shl); b.set(L_FA);
    source(); if (byte) b.i32(24).op(OP.i32Shl); b.set(L_FB);
    switchOn(b, 9, () => this.rec8(R_OP), ALU_CODE.map((code, op) => () => {
      b.get(L_FA).get(L_FB).op(code);
      if (op === ALU_ADC) b.get(L_T).op(OP.i32Add); else if (op === ALU_SBB) b.get(L_T).op(OP.i32Sub);
      b.set(L_FV);
    }));
    this.rec8(R_FK).set(L_FK);
    // With a carry in, ADC and SBB leave flags of their own kind (F_ADD and F_SUB with none).
    b.get(L_T).if().i32(F_ADC).i32(F_SBB); this.rec8(R_OP).i32(ALU_ADC).op(OP.i32Eq); b.op(OP.select).set(L_FK).end();
    b.i32(byte ? 1 : 0).set(L_FBYTE);
    b.i32(0).set(L_SET_MASK);
    this.rec8(R_STORE).if();
    store(() => { b.get(L_FV); if (byte) b.i32(24).op(OP.i32ShrU); });
    b.end();
  }
  /** OP on the record's memory operand and `source`: CMP and TEST only read it; the rest write it back. */
  private memoryAlu(size: number, source: () => void): void {
    const b = this.b;
    // Through the write half of the TLB when the result is stored (its pages are readable too).
    this.rec8(R_STORE).if();
    this.access(size, true);
    b.else();
    this.access(size, false);
    b.end();
    this.alu(size === 1, () => this.ram(size), source, (v) => this.storeRam(size, v));
  }

  private movx(memory: boolean): void {
    const b = this.b;
    // R_OP: bit 1 word source, bit 0 sign-extended.
    if (memory) {
      this.access(() => { this.rec8(R_OP).i32(1).op(OP.i32ShrU).i32(1).op(OP.i32Add); }, false);
      this.rec8(R_OP).i32(2).op(OP.i32And).if();
      b.get(L_P).mem(OP.i32Load16u, 0, this.ramBase).set(L_V);
      b.else();
      b.get(L_P).mem(OP.i32Load8u, 0, this.ramBase).set(L_V);
      b.end();
    } else {
      this.rec8(R_OP).i32(2).op(OP.i32And).if();
      this.rec16(R_B).mem(OP.i32Load16u, 1, 0).set(L_V);
      b.else();
      this.byteB(); b.set(L_V);
      b.end();
    }
    // Sign extension: shift the value's top bit to bit 31 and back (24 for bytes, 16 for words).
    this.rec8(R_OP).i32(1).op(OP.i32And).if();
    b.i32(16).i32(24); this.rec8(R_OP).i32(2).op(OP.i32And); b.op(OP.select).set(L_T);
    b.get(L_V).get(L_T).op(OP.i32Shl).get(L_T).op(OP.i32ShrS).set(L_V);
    b.end();
    this.setA(() => b.get(L_V));
  }

  /** The stack must be 32-bit; pushes SS's base (a stack segment that is not flat bails out). */
  private stack(): void {
    const b = this.b;
    b.get(P_SS32).op(OP.i32Eqz).if(); this.bail(BAIL_STACK16); b.end();
  }
  /** PUSH of `value` (read before anything is written): the store, then ESP. */
  private push(value: () => void): void {
    const b = this.b;
    this.stack();
    value(); b.set(L_V);
    this.access(4, true, () => { b.i32(0).mem(OP.i32Load, 2, dwordReg(4)).i32(4).op(OP.i32Sub).tee(L_SP); }, () => b.i32(SS));
    b.get(L_P).get(L_V).mem(OP.i32Store, 0, this.ramBase);
    b.i32(0).get(L_SP).mem(OP.i32Store, 2, dwordReg(4));
  }
  /** Pushes the dword at ESP (L_SP keeps ESP). */
  private stackLoad(): void {
    const b = this.b;
    this.stack();
    this.access(4, false, () => { b.i32(0).mem(OP.i32Load, 2, dwordReg(4)).tee(L_SP); }, () => b.i32(SS));
    b.get(L_P).mem(OP.i32Load, 0, this.ramBase);
  }
  private pop(): void {
    const b = this.b;
    this.stackLoad();
    b.set(L_V);
    b.i32(0).get(L_SP).i32(4).op(OP.i32Add).mem(OP.i32Store, 2, dwordReg(4));
    this.setA(() => b.get(L_V)); // POP ESP: the loaded value wins
  }
  /** The branch target (EIP after the instruction + rel) into L_T, checked against CS.limit. */
  private target(): void {
    const b = this.b;
    this.eipPlus(L_NEXT); this.rec32(R_IMM); b.op(OP.i32Add).set(L_T);
    this.limitCheck();
  }
  /** A target in L_T beyond CS.limit bails out (the handler raises #GP(0)). */
  private limitCheck(): void {
    const b = this.b;
    b.get(L_T).op(OP.f64ConvertI32U).i32(0).mem(OP.f64Load, 3, HOST.segLimit + CS * 8).op(OP.f64Gt);
    b.if(); this.bail(BAIL_LIMIT); b.end();
  }
  private call(): void {
    const b = this.b;
    this.target(); // (the push leaves L_T alone)
    this.push(() => this.eipPlus(L_NEXT));
    this.leave(() => b.get(L_I).i32(1).op(OP.i32Add), () => b.get(L_T));
  }
  private ret(): void {
    const b = this.b;
    this.stackLoad();
    b.set(L_T);
    this.limitCheck();
    b.i32(0).get(L_SP).i32(4).op(OP.i32Add); this.rec32(R_IMM); b.op(OP.i32Add).mem(OP.i32Store, 2, dwordReg(4));
    this.leave(() => b.get(L_I).i32(1).op(OP.i32Add), () => b.get(L_T));
  }
  /** INC/DEC (R_OP 1) keep CF: its value at this point into L_CF, then the INC/DEC flag state. */
  private incDec(load: () => void = () => this.regA(), store: (v: () => void) => void = (v) => this.setA(v)): void {
    const b = this.b;
    b.i32(CF_BIT); this.flagArgs(); b.get(P_FLAGS).call(H_FLAG).set(L_CF);
    load(); b.set(L_FA);
    b.i32(1).set(L_FB);
    b.get(L_FA).i32(-1).i32(1);
    this.rec8(R_OP); b.op(OP.select).op(OP.i32Add).set(L_FV); // +1 for INC (R_OP 0), -1 for DEC
    this.rec8(R_OP).i32(F_INC).op(OP.i32Add).set(L_FK);
    b.i32(0).set(L_FBYTE);
    b.i32(0).set(L_SET_MASK);
    store(() => b.get(L_FV));
  }
  /** NEG: 0 - the operand, with SUB's flags (unaryE()). */
  private neg(load: () => void, store: (v: () => void) => void): void {
    const b = this.b;
    b.i32(0).set(L_FA);
    load(); b.set(L_FB);
    b.i32(0).get(L_FB).op(OP.i32Sub).set(L_FV);
    b.i32(F_SUB).set(L_FK);
    b.i32(0).set(L_FBYTE);
    b.i32(0).set(L_SET_MASK);
    store(() => b.get(L_FV));
  }
  /** Pushes register A with its bytes in reverse order. */
  private bswap(): void {
    const b = this.b;
    this.regA(); b.tee(L_V).i32(24).op(OP.i32ShrU);
    b.get(L_V).i32(8).op(OP.i32ShrU).i32(0xff00).op(OP.i32And).op(OP.i32Or);
    b.get(L_V).i32(8).op(OP.i32Shl).i32(0xff0000).op(OP.i32And).op(OP.i32Or);
    b.get(L_V).i32(24).op(OP.i32Shl).op(OP.i32Or);
  }
  /** LEAVE (32-bit stack and operand): EBP's dword is read first (it may bail out), then ESP = EBP + 4 and EBP = that dword. */
  private leaveFrame(): void {
    const b = this.b;
    this.stack();
    this.access(4, false, () => { b.i32(0).mem(OP.i32Load, 2, dwordReg(5)).tee(L_SP); }, () => b.i32(SS));
    this.ram(4); b.set(L_V);
    b.i32(0).get(L_SP).i32(4).op(OP.i32Add).mem(OP.i32Store, 2, dwordReg(4));
    b.i32(0).get(L_V).mem(OP.i32Store, 2, dwordReg(5));
  }
  /** Pushes the shift count: CL (R_BY_CL) masked to 5 bits, or the constant in R_IMM. */
  private count(): void {
    const b = this.b;
    b.i32(0).mem(OP.i32Load8u, 0, byteReg(1)).i32(31).op(OP.i32And);
    this.rec32(R_IMM);
    this.rec8(R_BY_CL);
    b.op(OP.select);
  }
  /**
   * SHLD/SHRD (R_OP 0, 1) of register A with the bits of register B, by count(); a count of 0 does
   * nothing. As shxd(): LOGIC flags of the result, with CF (the last bit shifted out of A) and OF
   * (A's top bit changed) set outright.
   */
  private shiftDouble(): void {
    const b = this.b;
    this.count(); b.tee(L_T).if();
    this.regA(); b.set(L_FA);
    this.regB(); b.set(L_V);
    // L_FV: the result; L_P: CF.
    this.rec8(R_OP).if();
    b.get(L_FA).get(L_T).op(OP.i32ShrU).get(L_V).i32(32).get(L_T).op(OP.i32Sub).op(OP.i32Shl).op(OP.i32Or).set(L_FV);
    b.get(L_FA).get(L_T).i32(1).op(OP.i32Sub).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_P);
    b.else();
    b.get(L_FA).get(L_T).op(OP.i32Shl).get(L_V).i32(32).get(L_T).op(OP.i32Sub).op(OP.i32ShrU).op(OP.i32Or).set(L_FV);
    b.get(L_FA).i32(32).get(L_T).op(OP.i32Sub).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_P);
    b.end();
    b.get(L_FA).get(L_FV).op(OP.i32Xor).i32(31).op(OP.i32ShrU).i32(OF_BIT).op(OP.i32Shl).get(L_P).op(OP.i32Or).set(L_SET_BITS);
    this.logicWithCarryAndOverflow();
    this.setA(() => b.get(L_FV));
    b.end();
  }
  /** SHL/SHR/SAR (R_OP 4, 5, 7) by count(); a count of 0 does nothing: setLazyShift(), OF in fa, CF in fb. */
  private shift(): void {
    const b = this.b;
    this.count(); b.tee(L_T).if();
    this.regA(); b.set(L_FA);
    // R_OP 4, 5, 7 -> 0, 1, 2: x - (x >> 1) of x = R_OP - 4.
    switchOn(b, 3, () => { this.rec8(R_OP).i32(4).op(OP.i32Sub).tee(L_V).get(L_V).i32(1).op(OP.i32ShrU).op(OP.i32Sub); }, [
      () => { // SHL (R_OP 4)
        b.get(L_FA).i32(32).get(L_T).op(OP.i32Sub).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_FB);
        b.get(L_FA).get(L_T).op(OP.i32Shl).set(L_FV);
        b.get(L_FV).i32(31).op(OP.i32ShrU).get(L_FB).op(OP.i32Xor).set(L_FA);
      },
      () => { // SHR (R_OP 5)
        b.get(L_FA).get(L_T).i32(1).op(OP.i32Sub).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_FB);
        b.get(L_FA).get(L_T).op(OP.i32ShrU).set(L_FV);
        b.get(L_FA).i32(31).op(OP.i32ShrU).set(L_FA);
      },
      () => { // SAR (R_OP 7)
        b.get(L_FA).get(L_T).i32(1).op(OP.i32Sub).op(OP.i32ShrS).i32(1).op(OP.i32And).set(L_FB);
        b.get(L_FA).get(L_T).op(OP.i32ShrS).set(L_FV);
        b.i32(0).set(L_FA);
      },
    ]);
    b.i32(F_SHIFT).set(L_FK);
    b.i32(0).set(L_FBYTE);
    b.i32(0).set(L_SET_MASK);
    this.setA(() => b.get(L_FV));
    b.end();
  }
  /**
   * ROL/ROR (R_OP 0, 1) by count(); a count of 0 does nothing. They set CF and OF outright and leave
   * the other flags as they were (shiftOp(): CF is the bit rotated in; OF, CF xor the top bit for
   * ROL and the top two bits' xor for ROR, whatever the count).
   */
  private rotate(): void {
    const b = this.b;
    this.count(); b.tee(L_T).if();
    this.regA(); b.set(L_V);
    // L_V: the result; L_LIN: CF; L_P: OF.
    this.rec8(R_OP).if();
    b.get(L_V).get(L_T).op(OP.i32Rotr).tee(L_V).i32(31).op(OP.i32ShrU).set(L_LIN);
    b.get(L_LIN).get(L_V).i32(30).op(OP.i32ShrU).i32(1).op(OP.i32And).op(OP.i32Xor).set(L_P);
    b.else();
    b.get(L_V).get(L_T).op(OP.i32Rotl).tee(L_V).i32(1).op(OP.i32And).set(L_LIN);
    b.get(L_V).i32(31).op(OP.i32ShrU).get(L_LIN).op(OP.i32Xor).set(L_P);
    b.end();
    b.i32(CF | OF).set(L_SET_MASK);
    b.get(L_LIN).get(L_P).i32(OF_BIT).op(OP.i32Shl).op(OP.i32Or).set(L_SET_BITS);
    this.setA(() => b.get(L_V));
    b.end();
  }
  /**
   * CMPXCHG r/m32, r32 (as cmpxchgEvGv): CMP EAX, r/m32 sets the flags; equal, r/m32 = r32; not
   * equal, EAX = r/m32 (a memory operand then keeps its value: the write-back of the same value).
   */
  private cmpxchg(memory: boolean): void {
    const b = this.b;
    if (memory) { this.access(4, true); this.ram(4); } else this.regA();
    b.set(L_V);
    b.i32(0).mem(OP.i32Load, 2, dwordReg(0)).set(L_FA);
    b.get(L_V).set(L_FB);
    b.get(L_FA).get(L_FB).op(OP.i32Sub).set(L_FV);
    b.i32(F_SUB).set(L_FK);
    b.i32(0).set(L_FBYTE);
    b.i32(0).set(L_SET_MASK);
    b.get(L_FA).get(L_V).op(OP.i32Eq).if();
    if (memory) this.storeRam(4, () => this.regB()); else this.setA(() => this.regB());
    b.else();
    b.i32(0).get(L_V).mem(OP.i32Store, 2, dwordReg(0));
    b.end();
  }
  /**
   * DIV r/m32: EDX:EAX by the operand, unsigned: EAX the quotient, EDX the remainder, the flags as
   * they were (as divEv). A divisor of 0, or one EDX is not below (the quotient would not fit),
   * stops the block before the instruction: its handler raises #DE.
   */
  private div(memory: boolean): void {
    const b = this.b;
    if (memory) { this.access(4, false); this.ram(4); } else this.regB();
    b.set(L_V);
    b.get(L_V).op(OP.i32Eqz).i32(0).mem(OP.i32Load, 2, dwordReg(2)).get(L_V).op(OP.i32GeU).op(OP.i32Or);
    b.if(); this.bail(BAIL_UNSUPPORTED); b.end();
    const dividend = (): void => {
      b.i32(0).mem(OP.i32Load, 2, dwordReg(2)).op(OP.i64ExtendI32U).i64(32).op(OP.i64Shl);
      b.i32(0).mem(OP.i32Load, 2, dwordReg(0)).op(OP.i64ExtendI32U).op(OP.i64Or);
    };
    dividend(); b.get(L_V).op(OP.i64ExtendI32U).op(OP.i64DivU).op(OP.i32WrapI64).set(L_P);
    dividend(); b.get(L_V).op(OP.i64ExtendI32U).op(OP.i64RemU).op(OP.i32WrapI64).set(L_T);
    b.i32(0).get(L_P).mem(OP.i32Store, 2, dwordReg(0));
    b.i32(0).get(L_T).mem(OP.i32Store, 2, dwordReg(2));
  }
  /**
   * The flags of MUL, IMUL, SHLD/SHRD: LOGIC flags of L_FV (SF, ZF, PF; AF 0), with CF and OF set
   * outright to what L_SET_BITS holds.
   */
  private logicWithCarryAndOverflow(): void {
    const b = this.b;
    b.i32(0).set(L_FA); b.i32(0).set(L_FB);
    b.i32(F_LOGIC).set(L_FK);
    b.i32(0).set(L_FBYTE);
    b.i32(CF | OF).set(L_SET_MASK);
  }
  /** MUL r/m32: EDX:EAX = EAX times the operand, unsigned; LOGIC flags of the low half, CF = OF = the high half is not 0 (mulFlags()). */
  private mul(memory: boolean): void {
    const b = this.b;
    if (memory) { this.access(4, false); this.ram(4); } else this.regB();
    b.set(L_V);
    b.i32(0).mem(OP.i32Load, 2, dwordReg(0)).set(L_FA);
    b.get(L_FA).op(OP.i64ExtendI32U).get(L_V).op(OP.i64ExtendI32U).op(OP.i64Mul).i64(32).op(OP.i64ShrU).op(OP.i32WrapI64).set(L_P);
    b.get(L_FA).get(L_V).op(OP.i32Mul).set(L_FV);
    b.i32(0).get(L_FV).mem(OP.i32Store, 2, dwordReg(0));
    b.i32(0).get(L_P).mem(OP.i32Store, 2, dwordReg(2));
    b.i32(CF | OF).i32(0).get(L_P).op(OP.select).set(L_SET_BITS);
    this.logicWithCarryAndOverflow();
  }
  /** IMUL reg, r/m (R_OP 0: times reg; 1: times R_IMM): LOGIC flags of the low half, CF = OF = it lost the high half. */
  private imul(memory: boolean): void {
    const b = this.b;
    if (memory) { this.access(4, false); this.ram(4); } else this.regB();
    b.set(L_FA);
    this.rec32(R_IMM); this.regA(); this.rec8(R_OP); b.op(OP.select).set(L_FB);
    b.get(L_FA).get(L_FB).op(OP.i32Mul).set(L_FV);
    imulOverflow(b, L_FA, L_FB, L_FV, L_P, L_SET_BITS);
    this.logicWithCarryAndOverflow();
    this.setA(() => b.get(L_FV));
  }
}

/**
 * EXIT_FLAGS(): the arithmetic flags a block reads (CF, PF, ZF, SF, OF, as EFLAGS bits) that the
 * lazy state in the exit record describes, with the flags set outright over it; -1 when the record
 * holds no state (no block of this call set flags: they are the run loop's, which it did not pass).
 * What CpuCore.getFlags() computes from the same state once applyExitFlags() put it there.
 */
function exitFlagsHelper(): WasmFunction {
  const b = new Body(), x = HOST.exit;
  const kind = 0, op = 1, a = 2, bb = 3, v = 4, shift = 5, cf = 6, of = 7, flags = 8;
  const field = (f: number): Body => b.i32(0).mem(OP.i32Load, 2, x + f * 4);
  const is = (value: number): Body => b.get(op).i32(value).op(OP.i32Eq);
  field(X_KIND).tee(kind).i32(FLAGS_KEPT).op(OP.i32Eq).if().i32(-1).op(OP.return).end();
  field(X_OP).set(op);
  // Operands and result moved to the top of the dword, so that the dword rules give byte and word flags.
  b.i32(24).i32(0).i32(16); field(X_SIZE).i32(2).op(OP.i32Eq).op(OP.select); field(X_SIZE).op(OP.i32Eqz).op(OP.select).set(shift);
  field(X_DST).get(shift).op(OP.i32Shl).set(a);
  field(X_SRC).get(shift).op(OP.i32Shl).set(bb);
  field(X_RES).get(shift).op(OP.i32Shl).set(v);
  // CF
  b.get(v).get(a).op(OP.i32LtU); is(OP_ADD); b.op(OP.i32And);
  b.get(v).get(a).op(OP.i32LeU); is(OP_ADC); b.op(OP.i32And).op(OP.i32Or);
  b.get(a).get(bb).op(OP.i32LtU); is(OP_SUB); b.op(OP.i32And).op(OP.i32Or);
  b.get(a).get(bb).op(OP.i32LeU); is(OP_SBB); b.op(OP.i32And).op(OP.i32Or);
  field(X_SRC).i32(1).op(OP.i32And); is(OP_SHIFT); b.op(OP.i32And).op(OP.i32Or);
  b.set(cf);
  b.get(kind).i32(FLAGS_LAZY_KEEP_CF).op(OP.i32Eq).if(); field(X_CF).set(cf); b.end();
  // OF
  b.get(a).get(v).op(OP.i32Xor).get(bb).get(v).op(OP.i32Xor).op(OP.i32And).i32(31).op(OP.i32ShrU); is(OP_ADD); is(OP_ADC); b.op(OP.i32Or).op(OP.i32And);
  b.get(a).get(bb).op(OP.i32Xor).get(a).get(v).op(OP.i32Xor).op(OP.i32And).i32(31).op(OP.i32ShrU); is(OP_SUB); is(OP_SBB); b.op(OP.i32Or).op(OP.i32And).op(OP.i32Or);
  field(X_DST).i32(0).op(OP.i32Ne); is(OP_SHIFT); b.op(OP.i32And).op(OP.i32Or);
  b.set(of);
  b.get(cf);
  field(X_RES).i32(0xff).op(OP.i32And).op(OP.i32Popcnt).i32(1).op(OP.i32And).op(OP.i32Eqz).i32(PF_BIT).op(OP.i32Shl).op(OP.i32Or);
  b.get(v).op(OP.i32Eqz).i32(ZF_BIT).op(OP.i32Shl).op(OP.i32Or);
  b.get(v).i32(31).op(OP.i32ShrU).i32(SF_BIT).op(OP.i32Shl).op(OP.i32Or);
  b.get(of).i32(OF_BIT).op(OP.i32Shl).op(OP.i32Or).set(flags);
  // Flags set outright (ROL/ROR, IMUL, MUL, SHLD/SHRD) over the state.
  b.get(flags); field(X_SET_MASK).i32(-1).op(OP.i32Xor).op(OP.i32And);
  field(X_SET_BITS); field(X_SET_MASK).op(OP.i32And).op(OP.i32Or);
  return { params: 0, locals: 9, body: b };
}

/**
 * The dispatcher's "run": the interpreter on the first block, and while it ended normally and the
 * jump cache holds a warm block for where it went (this epoch, not chained CHAIN_LIMIT times yet,
 * fitting in the budget; one that reads flags it did not set gets those of the exit record as its
 * EFLAGS, EXIT_FLAGS), on that block next (through its translation if it has one), without
 * returning to JavaScript. The result is the last block's, with the instructions of all of them.
 */
function dispatchLoop(translatedType: number): WasmFunction {
  const D_SLOT = 0, D_COUNT = 1, D_EIP = 2, D_UK = 3, D_FLAGS = 4, D_SS32 = 5, D_EPOCH = 6, D_BUDGET = 7;
  const D_DONE = 8, D_RESULT = 9, D_LIN = 10, D_J = 11, D_FN = 12;
  const x = HOST.exit, b = new Body();
  /** Pushes the first record's R_FN of the block at D_SLOT: 1 + its translation's table index, or 0. */
  const translation = (): void => { b.get(D_SLOT).i32(5).op(OP.i32Shl).mem(OP.i32Load, 2, HOST.warmSlots + R_FN); };
  b.i32(0).get(D_EPOCH).mem(OP.i32Store, 2, x + X_EPOCH * 4);
  b.loop();
  b.i32(0).get(D_EIP).mem(OP.i32Store, 2, x + X_BLOCK_EIP * 4);
  b.i32(0).get(D_DONE).mem(OP.i32Store, 2, x + X_BLOCK_DONE * 4);
  // A translated block (wasm/hot-blocks.ts) takes the budget left instead of its count: it may go round a loop.
  translation(); b.tee(D_FN).if();
  b.get(D_EIP).get(D_UK).get(D_FLAGS).get(D_SS32).get(D_SLOT).get(D_BUDGET).get(D_DONE).op(OP.i32Sub).get(D_FN).i32(1).op(OP.i32Sub).callIndirect(translatedType).set(D_RESULT);
  b.else();
  b.get(D_EIP).get(D_UK).get(D_FLAGS).get(D_SS32).get(D_SLOT).get(D_COUNT).call(F_INTERP).set(D_RESULT);
  b.end();
  // Stopped inside the block (bail out, handler): done.
  b.get(D_RESULT).i32(BAIL | IN_CORE).op(OP.i32And).if().get(D_RESULT).get(D_DONE).op(OP.i32Add).op(OP.return).end();
  b.get(D_DONE).get(D_RESULT).op(OP.i32Add).set(D_DONE);
  // The next block: linear EIP, its jump-cache entry.
  b.i32(0).mem(OP.i32Load, 2, x + X_EIP * 4).set(D_EIP);
  b.get(D_EIP).i32(0).mem(OP.i32Load, 2, HOST.segBase + CS * 4).op(OP.i32Add).set(D_LIN);
  b.get(D_LIN).get(D_LIN).i32(WJ_BITS).op(OP.i32ShrU).op(OP.i32Xor).i32((1 << WJ_BITS) - 1).op(OP.i32And).i32(5).op(OP.i32Shl).set(D_J);
  const entry = (field: number): void => { b.get(D_J).mem(OP.i32Load, 2, HOST.warmJumps + field * 4); };
  entry(WJ_LIN); b.get(D_LIN).op(OP.i32Ne);
  entry(WJ_EPOCH); b.get(D_EPOCH).op(OP.i32Ne).op(OP.i32Or);
  b.if().get(D_DONE).op(OP.return).end();
  // A block that reads flags it does not set gets those the blocks before it left (the exit record's
  // lazy state) as its EFLAGS; when none of them set any, the run loop has them.
  entry(WJ_INFO); b.i32(WJ_READS_FLAGS).op(OP.i32And).if();
  b.call(H_EXIT_FLAGS).tee(D_FLAGS).i32(-1).op(OP.i32Eq).if().get(D_DONE).op(OP.return).end();
  b.end();
  entry(WJ_INFO); b.i32(0xffff).op(OP.i32And).tee(D_COUNT).get(D_DONE).op(OP.i32Add).get(D_BUDGET).op(OP.i32GtU);
  b.if().get(D_DONE).op(OP.return).end();
  entry(WJ_SLOT); b.set(D_SLOT);
  // Its chained runs: past CHAIN_LIMIT the run loop takes it (and compiles or translates it; a
  // translated block's region may take in blocks translated since).
  b.get(D_SLOT).i32(1).op(OP.i32Shl).mem(OP.i32Load16u, 1, HOST.warmRuns).tee(D_RESULT).i32(CHAIN_LIMIT).op(OP.i32GeU);
  b.if().get(D_DONE).op(OP.return).end();
  b.get(D_SLOT).i32(1).op(OP.i32Shl).get(D_RESULT).i32(1).op(OP.i32Add).mem(OP.i32Store16, 1, HOST.warmRuns);
  b.i32(0).get(D_SLOT).mem(OP.i32Store, 2, x + X_BLOCK_SLOT * 4);
  b.br(0);
  b.end();
  b.get(D_DONE);
  return { params: 8, locals: 5, body: b, export: 'run' };
}

/**
 * The warm tier of one core: when a block has run `threshold` times in the block loop, writes the
 * records of its instructions and marks its block entry warm (CpuCore.bWarm); the run loop then
 * calls the interpreter for it through the dispatcher's one export, so the call from JavaScript into
 * WebAssembly is always the same function (V8 makes that call cheap only where it sees one target).
 */
export class WarmTier {
  /** Runs warm blocks from pool slot `slot`, and the ones after it that the jump cache knows. */
  readonly run: WarmRun;
  /** The dispatcher's jump cache (WJ_*) and chained-run counts per first pool slot. */
  private readonly jumps: Int32Array;
  private readonly chained: Uint16Array;
  private readonly records: Records;
  /** Per block entry: the block reads EFLAGS it did not set (the run loop passes them). */
  readonly readsFlags: Uint8Array;
  /** The exit record as Int32 (see X_EIP...). */
  readonly exit: Int32Array;
  /** HOST.direction as Int32 (EFLAGS.DF for translations). */
  readonly direction: Int32Array;
  /** The retired count before the run loop's call of the dispatcher. */
  entryRetired = -0; // a double, as CpuCore.retired
  /** The import the interpreter calls for instruction `i` (at `offset`, the next at `next`) of the running block. */
  private readonly callHandler = (i: number, offset: number, next: number, wantFlags: number): number => {
    const c = this.c, x = this.exit, e = x[X_BLOCK_EIP]!, d = x[X_BLOCK_SLOT]! + i, nextEip = (e + next) | 0;
    const retired = this.entryRetired + x[X_BLOCK_DONE]! + i;
    applyExitFlags(c, x);
    clearExitFlags(x);
    c.curEip = (e + offset) | 0;
    c.retired = retired;
    c.eip = nextEip;
    HANDLERS[c.dH[d]!]!(c, d);
    this.direction[0] = c.flags & DF;
    c.retired = retired + 1;
    if (c.eip !== nextEip || c.chunkBreak === true || c.halted === true) return -1;
    return wantFlags !== 0 ? c.getFlags() : 0;
  };

  /** The translator of hot warm blocks (CpuOptions.wasmHotBlocks), or null. */
  private readonly translator: HotTranslator | null;

  constructor(private readonly c: CpuCore, memory: WebAssembly.Memory, blockEntries: number, readonly threshold: number, translateHot = false) {
    const area = c.hostArea!.byteOffset, buffer = memory.buffer;
    this.readsFlags = new Uint8Array(blockEntries);
    this.exit = new Int32Array(buffer, area + HOST.exit, 16);
    this.direction = new Int32Array(buffer, area + HOST.direction, 1);
    this.jumps = new Int32Array(buffer, area + HOST.warmJumps, 8 << WJ_BITS);
    this.chained = new Uint16Array(buffer, area + HOST.warmRuns, WARM_SLOTS);
    const bytes = WARM_SLOTS * WARM_RECORD;
    this.records = {
      u8: new Uint8Array(buffer, area + HOST.warmSlots, bytes),
      u16: new Uint16Array(buffer, area + HOST.warmSlots, bytes / 2),
      i32: new Int32Array(buffer, area + HOST.warmSlots, bytes / 4),
    };
    const helpers = [accessHelper(false), accessHelper(true), leaveHelper(), flagHelper(), condHelper(), new InterpreterBuilder(c.ram.byteOffset).build()];
    // Translations have the interpreter's type (its six parameters); the dispatcher takes eight.
    const exitFlags = exitFlagsHelper();
    const interpreterType = functionTypeIndex(6, [4, ...helpers.map((f) => f.params), exitFlags.params, 8]);
    const functions = [...helpers, exitFlags, dispatchLoop(interpreterType)];
    this.translator = translateHot ? new HotTranslator(c, memory, this.records, this.callHandler, (b) => this.needsFlags(b)) : null;
    const table = this.translator?.table ?? new WebAssembly.Table({ element: 'anyfunc', initial: 0 });
    const module = new WebAssembly.Module(wasmModule(buffer.byteLength / 65536, [4], functions, true));
    const { exports } = new WebAssembly.Instance(module, { m: { memory, table, f0: this.callHandler } });
    this.run = exports['run'] as WarmRun;
  }

  /**
   * Block entry `b` ran `threshold` times in the block loop: write the records of its instructions
   * (the block loop's part of it; with `followed`, all of a block built to be translated).
   * Returns whether it is warm now (a block with nothing the interpreter runs itself stays in the
   * block loop until its entry is rebuilt).
   */
  enqueue(b: number, followed = false): boolean {
    const c = this.c, rec = this.records, start = c.bStart[b]!, count = followed ? c.bCount[b]! : blockLoopPart(c, b);
    // Whether the flags a form reads come from the caller (EFLAGS passed in), were set in the block,
    // or come back from the last handler call (which then returns them: R_WANT).
    const CALLER = 0, SET = 1, HANDLER = 2;
    let source = CALLER, reads = false, own = 0, lastHandler = -1;
    for (let i = 0; i < count; i++) {
      const d = start + i, form = writeRecord(c, d, rec);
      if (form === K_STOP) break;
      if (form === K_HANDLER) { source = HANDLER; lastHandler = d; continue; }
      own++;
      const aluOp = ALU_FORMS.has(form) ? rec.u8[d * WARM_RECORD + R_OP]! : -1;
      if ((READS_FLAGS.has(form) || aluOp === ALU_ADC || aluOp === ALU_SBB) && source !== SET) {
        if (source === CALLER) reads = true; else rec.u8[lastHandler * WARM_RECORD + R_WANT] = 1;
      }
      // (A shift by CL of 0 leaves the flags as they were.)
      if (SETS_FLAGS.has(form) && !((form === K_SHIFT || form === K_SHIFT_DOUBLE) && rec.u8[d * WARM_RECORD + R_BY_CL] === 1)) source = SET;
    }
    if (own === 0) {
      c.bWarm[b] = WARM_NOTHING;
      return false;
    }
    c.bWarm[b] = WARM_READY;
    this.readsFlags[b] = reads ? 1 : 0;
    this.chained[start] = 0;
    c.stats[CpuStat.BlocksWarmed]++;
    return true;
  }

  /**
   * The run loop calls the warm block at pool slot `slot` (`count` instructions) found at linear
   * `lin` in fetch epoch `epoch`: the dispatcher may go on to it from another warm block while the
   * epoch lasts (the epoch moves on with every change of what an address runs: code writes, TLB
   * flushes, pool flushes, mode changes; as for the run loop's own jump cache).
   */
  remember(lin: number, epoch: number, slot: number, count: number, readsFlags: boolean): void {
    const j = jumpEntry(lin), w = this.jumps;
    w[j + WJ_LIN] = lin; w[j + WJ_EPOCH] = epoch; w[j + WJ_SLOT] = slot;
    w[j + WJ_INFO] = count | (readsFlags ? WJ_READS_FLAGS : 0);
  }

  /**
   * Warm block entry `b` (at linear `lin`) is hot (the compile threshold): run it translated into
   * WebAssembly from now on, if translating is on and it has instructions a translation runs.
   * Returns whether it is translated (else the run loop compiles it into JavaScript).
   */
  translate(b: number, lin: number): boolean {
    const c = this.c;
    if (this.translator === null || c.bWarm[b] !== WARM_READY) return false;
    if (!this.translator.translate(b, c.bCount[b]!, blockLoopPart(c, b), lin)) return false;
    this.chained[c.bStart[b]!] = 0;
    // Its jump-cache entry, if any, says it runs its block-loop part only: it now runs all of it.
    const j = jumpEntry(lin), w = this.jumps;
    if (w[j + WJ_LIN] === lin && w[j + WJ_SLOT] === c.bStart[b]) w[j + WJ_INFO] = (w[j + WJ_INFO]! & ~0xffff) | this.runLength(c.bStart[b]!, 0, c.bCount[b]!);
    return true;
  }

  /**
   * Translated block entry `b` (at linear `lin`) is hot again (the dispatcher ran it CHAIN_LIMIT
   * times more): its region may now take in blocks translated after it, or be made again for this
   * fetch epoch. Returns whether `b` is translated (else nothing was done).
   */
  translateAgain(b: number, lin: number): boolean {
    const c = this.c, start = c.bStart[b]!;
    if (this.translator === null || c.bWarm[b] !== WARM_READY || this.records.i32[(start * WARM_RECORD + R_FN) >> 2] === 0) return false;
    this.translator.translateAgain(b, c.bCount[b]!, blockLoopPart(c, b), lin);
    this.chained[start] = 0;
    return true;
  }

  /**
   * Block entry `b`'s translation reads EFLAGS it did not set: the run loop and the dispatcher pass
   * them from now on (the dispatcher's jump cache, which says so per entry, starts over).
   */
  private needsFlags(b: number): void {
    if (this.readsFlags[b] !== 0) return;
    this.readsFlags[b] = 1;
    this.forgetJumps();
  }

  /**
   * Whether warm block entry `b` may be translated as far as its first instruction a translation
   * does not run (HotTranslator.prefixAllowed): decided on its block-loop runs before it is built
   * again to be translated.
   */
  mayTranslate(b: number): boolean {
    const c = this.c;
    if (this.translator === null) return false;
    return c.bWarm[b] !== WARM_READY || this.translator.prefixAllowed(b, blockLoopPart(c, b));
  }

  /**
   * The instructions a run of the block at pool slot `start` may retire, for the dispatcher's budget:
   * its block-loop part `linear`, or all `count` when it is translated (followed transfers included).
   */
  runLength(start: number, linear: number, count: number): number {
    return this.records.i32[(start * WARM_RECORD + R_FN) >> 2] !== 0 ? count : linear;
  }

  /** Whether hot blocks are translated into WebAssembly (CpuOptions.wasmHotBlocks). */
  get translating(): boolean {
    return this.translator !== null;
  }

  /** The decoded pool starts over (every block entry goes): translations are no longer named by any record. */
  poolRestarted(): void {
    this.translator?.poolRestarted();
  }

  /** Whether the warm block at pool slot `slot` ran CHAIN_LIMIT times chained (the run loop compiles it). */
  chainedOut(slot: number): boolean {
    return this.chained[slot]! >= CHAIN_LIMIT;
  }

  /** Empty the dispatcher's jump cache (the fetch epoch starts over). */
  forgetJumps(): void {
    this.jumps.fill(0);
  }

  /** Forget every warm block (CpuCore.dropDecoded: RAM may have changed without the page generations seeing it). */
  forget(): void {
    this.translator?.poolRestarted();
    this.jumps.fill(0);
    this.c.bWarm.fill(WARM_NONE);
  }
}

/** The lazy-flag state a warm block left in the exit record `x`, into the core. */
export function applyExitFlags(c: CpuCore, x: Int32Array): void {
  const kind = x[X_KIND]!, set = x[X_SET_MASK]!;
  if (kind !== FLAGS_KEPT) {
    if (kind === FLAGS_LAZY_KEEP_CF) c.flags = (c.flags & ~CF) | x[X_CF]!;
    c.lfOp = x[X_OP]!; c.lfDst = x[X_DST]!; c.lfSrc = x[X_SRC]!; c.lfRes = x[X_RES]!; c.lfSize = x[X_SIZE]!;
    c.lazy = kind === FLAGS_LAZY ? ARITH : ARITH & ~CF;
  }
  if (set !== 0) c.setArith(set, x[X_SET_BITS]!);
}

/** Mark the exit record as holding nothing to apply (before a call, and after it was applied). */
export function clearExitFlags(x: Int32Array): void {
  x[X_KIND] = FLAGS_KEPT;
  x[X_SET_MASK] = 0;
}
