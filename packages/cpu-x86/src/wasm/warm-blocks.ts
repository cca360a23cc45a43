/**
 * Warm blocks in WebAssembly: a block that has run WARM_RUNS times in the block loop, but not yet
 * the compile threshold of the JavaScript block compiler, is translated into a WebAssembly function
 * (a batch of them per module). V8 compiles WebAssembly in microseconds per block with its baseline
 * compiler, where a JavaScript function costs about half a millisecond and then runs unoptimised
 * until it is hot, so this tier can start after hundreds of runs instead of sixteen thousand. In
 * a Debian boot the block loop ran 296 M instructions, 255 M of them in runs after a block's 64th
 * whose instructions this kind of translation can write out. (256 runs measured a little better
 * than 64: less translation of code that soon stops running.)
 *
 * The function works on the state in the memory's host area (wasm/host-area.ts: registers, segment
 * caches, data TLB, code-page marks) and on RAM after it; the JavaScript fields it cannot see come
 * in as parameters (EIP, the privilege's TLB part, EFLAGS when the block reads flags it did not
 * set, whether the stack is 32-bit) and go out through the exit record (EIP and the lazy-flag state
 * the block left). It never calls JavaScript and never faults: where an instruction is not one it
 * writes out, or an access is not the plain case (TLB miss, not RAM, a code page, a page crossing, a
 * segment that is not flat, a branch beyond CS.limit), it returns at that instruction before doing
 * any of its work, with BAIL set, and the run loop runs the rest of the block in the block loop,
 * where the handlers do whatever the hardware does, faults included.
 *
 * Results: the low 16 bits are the instructions retired; BAIL says the block stopped before
 * instruction that number (EIP is that instruction's), else EIP is where the block went.
 */
import { ARITH, CF, CS, EA_A16, EA_NONE, OP_ADD, OP_LOGIC, OP_SHIFT, OP_SUB, P_A32, P_O32, SS } from '../constants.js';
import type { CpuCore } from '../core.js';
import { HANDLERS, handlerKinds } from '../decoder/decode.js';
import {
  ALU_EVGV_R32, ALU_GRP1_R32, ALU_GVEV_R32, aluALIb, aluAXIz, aluEvGv, aluGbEb, aluGvEv, decReg, grp1Eb, grp1Ev, grp2Ev, incReg,
  testALIb, testAXIz, testEbGb, testEbIb, testEvGv,
} from '../exec/alu.js';
import { callRel, JCC, jmpRel, nop, retNear } from '../exec/control.js';
import {
  cmovcc, lea, movEbGb, movEbIb, movEvGv, movEvIz, movGbEb, movGvEv, movMoffs, movRegIb, movRegIz, movsxb, movsxw, movzxb, movzxw, popReg,
  pushReg, setcc,
} from '../exec/data.js';
import { blocksModule, Body, dispatcherModule, OP } from './emitter.js';
import { HOST } from './host-area.js';
import { CpuStat } from '../stats.js';

/**
 * The dispatcher's entry: (table index of the block, EIP of its first instruction, CpuCore.userKind,
 * EFLAGS or 0, 32-bit stack, CpuCore.fetchEpoch, most instructions to run) -> result. It goes on from
 * warm block to warm block through its jump cache (WarmTier.remember) while the next one is there.
 */
export type WarmRun = (index: number, eip: number, userKind: number, flags: number, ss32: number, epoch: number, budget: number) => number;

/** CpuCore.bWarm of a block entry: no warm block yet; queued, or not translatable (until the entry is rebuilt). */
export const WARM_NONE = -1, WARM_QUEUED = -2;
/** Set in a warm block's result when it stopped before an instruction it did not run. */
export const BAIL = 0x10000;
/**
 * Set when it stopped after a handler it called (a branch, a fault-free EIP change, a chunk break):
 * EIP, the retired count and the flags are in the core already, and the exit record is not used.
 */
export const IN_CORE = 0x100000;
/** Block-loop runs of a block before it is translated, by default (CpuOptions.warmThreshold). */
export const WARM_RUNS = 256;
/** Blocks translated together into one module. */
const BATCH = 64;
/** Thresholds up to this (tests) translate a block at once instead of waiting for a batch. */
const SMALL_THRESHOLD = 3;
/** Entries of the dispatcher's table; when it is full, every warm block goes and it fills again. */
const TABLE_SIZE = 16384;
/**
 * Modules made before every warm block goes and the table fills again anyway: V8 gives each module
 * code space of its own and frees it only when nothing refers to the module (its table entries),
 * so modules of one or a few blocks each (small thresholds, or code that keeps changing) must not
 * pile up.
 */
const MAX_MODULES = 512;
/** Why a block stopped (bits 17-19 of its result), for statistics. */
const BAIL_UNSUPPORTED = 1, BAIL_SEGMENT = 2, BAIL_ACCESS = 3, BAIL_STACK16 = 4, BAIL_LIMIT = 5;

/** Exit record (Int32 indexes from HOST.exit): where the block left EIP and its lazy flags. */
export const X_EIP = 0, X_KIND = 1, X_OP = 2, X_DST = 3, X_SRC = 4, X_RES = 5, X_CF = 6, X_SIZE = 7;
/**
 * The block running now (set by the run loop for the first, by the dispatcher for those it goes on
 * to): its first EIP, its first pool slot, and the instructions the blocks before it in this call retired.
 */
export const X_BLOCK_EIP = 8, X_BLOCK_SLOT = 9, X_BLOCK_DONE = 10;
/** Jump-cache entry (Int32 offsets): linear EIP, fetch epoch, table index, instructions | READS_FLAGS, first pool slot. */
const WJ_LIN = 0, WJ_EPOCH = 1, WJ_INDEX = 2, WJ_INFO = 3, WJ_SLOT = 4;
const WJ_BITS = 12, WJ_READS_FLAGS = 0x10000;
/** Chained runs of a warm block after which the dispatcher leaves it to the run loop (which counts runs towards the compile threshold). */
const CHAIN_LIMIT = 16384;
/** X_KIND: flags untouched; setLazy(op, dst, src, res, size); the same with CF known (INC/DEC). */
export const FLAGS_KEPT = 0, FLAGS_LAZY = 1, FLAGS_LAZY_KEEP_CF = 2;

// Instruction kinds this translation writes out.
const W_MOV_GV_EV = 1, W_MOV_EV_GV = 2, W_LEA = 3, W_PUSH = 4, W_POP = 5, W_MOV_IMM = 6, W_INC = 7, W_DEC = 8;
const W_ALU_RM_REG = 9, W_ALU_REG_RM = 10, W_ALU_RM_IMM = 11, W_ALU_GV_M = 12, W_ALU_M_GV = 13, W_ALU_M_IMM = 14;
const W_TEST = 15, W_MOVZX_B = 16, W_MOVZX_W = 17, W_MOVSX_B = 18, W_MOVSX_W = 19, W_JCC = 20, W_JMP = 21;
const W_CALL = 22, W_RET = 23, W_MOV_EV_IZ = 24, W_NOP = 25, W_ALU_EAX_IMM = 26, W_TEST_EAX_IMM = 27;
const W_SHIFT = 28, W_MOV_GB_EB = 29, W_MOV_EB_GB = 30, W_MOV_EB_IB = 31, W_MOV_REG_IB = 32, W_BYTE_ALU_IMM = 33;
const W_BYTE_ALU_AL = 34, W_BYTE_ALU_GB_EB = 35, W_TEST_EB_GB = 36, W_TEST_EB_IB = 37, W_TEST_AL = 38, W_SETCC = 39, W_CMOV = 40;
const W_MOV_MOFFS = 41;
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
  set(grp1Eb, W_BYTE_ALU_IMM); set(aluALIb, W_BYTE_ALU_AL); set(aluGbEb, W_BYTE_ALU_GB_EB); set(testEbGb, W_TEST_EB_GB);
  set(testEbIb, W_TEST_EB_IB); set(testALIb, W_TEST_AL); set(setcc, W_SETCC); set(cmovcc, W_CMOV); set(movMoffs, W_MOV_MOFFS);
}
/**
 * Handlers a warm block may call for an instruction it does not write out (the run loop's checks
 * after a handler are made by WarmTier.callHandler). HLT is left to the block loop, which stops on it.
 */
const CALLABLE = new Uint8Array(HANDLERS.length).fill(1);
CALLABLE[HANDLERS.findIndex((h) => h.name === 'hlt')] = 0;
/** Kinds that are byte operations (their size is fixed; the rest need a 32-bit operand size). */
const BYTE_KINDS = new Set([W_MOV_GB_EB, W_MOV_EB_GB, W_MOV_EB_IB, W_MOV_REG_IB, W_BYTE_ALU_IMM, W_BYTE_ALU_AL, W_BYTE_ALU_GB_EB,
  W_TEST_EB_GB, W_TEST_EB_IB, W_TEST_AL, W_SETCC, W_NOP]);
/** Kinds that set all six arithmetic flags without reading them. */
const SETS_ALL_FLAGS = new Set([W_ALU_RM_REG, W_ALU_REG_RM, W_ALU_RM_IMM, W_ALU_GV_M, W_ALU_M_GV, W_ALU_M_IMM, W_ALU_EAX_IMM, W_TEST_EAX_IMM,
  W_TEST, W_SHIFT, W_BYTE_ALU_IMM, W_BYTE_ALU_AL, W_BYTE_ALU_GB_EB, W_TEST_EB_GB, W_TEST_EB_IB, W_TEST_AL]);
/** Kinds whose ModRM memory form reads or writes memory (LEA only computes the address). */
const MEMORY_KINDS = new Set([W_MOV_GV_EV, W_MOV_EV_GV, W_MOV_EV_IZ, W_ALU_GV_M, W_ALU_M_GV, W_ALU_M_IMM, W_TEST, W_MOVZX_B, W_MOVZX_W,
  W_MOVSX_B, W_MOVSX_W, W_SHIFT, W_MOV_GB_EB, W_MOV_EB_GB, W_MOV_EB_IB, W_BYTE_ALU_IMM, W_BYTE_ALU_GB_EB, W_TEST_EB_GB, W_TEST_EB_IB,
  W_SETCC, W_CMOV]);

// Locals: the four parameters, then the translation's own.
const L_EIP = 0, L_UK = 1, L_FLAGS = 2, L_SS32 = 3;
const L_FA = 4, L_FB = 5, L_FV = 6, L_CF = 7, L_LIN = 8, L_T = 9, L_P = 10, L_V = 11, L_B = 12, L_READ = 13, L_WRITE = 14;
/** The base of segment s (ES, CS, SS, DS, FS, GS) is in local L_SEG + s. */
const L_SEG = 15;
/** ESP of a stack access (L_LIN has the linear address). */
const L_SP = 21;
const LOCALS = 18;

/**
 * What the flags are at the instruction being translated: set by which kind of operation, or
 * untouched (then EFLAGS come in as a parameter). F_SHIFT keeps OF in fa and CF in fb (setLazyShift()).
 */
const F_NONE = 0, F_ADD = 1, F_SUB = 2, F_LOGIC = 3, F_INC = 4, F_DEC = 5, F_SHIFT = 6;
/** Bits of EFLAGS. */
const CF_BIT = 0, PF_BIT = 2, ZF_BIT = 6, SF_BIT = 7, OF_BIT = 11;

/**
 * Translates one block into a function body, or returns null when its first instruction is not one
 * it writes out. Byte operations keep their operands and result shifted to the top byte of fa, fb
 * and fv, so the dword rules for CF, OF, ZF and SF give the byte flags.
 */
class Translator {
  private readonly body = new Body();
  private flags = F_NONE;
  /** The operation that set the flags was a byte operation (operands in the top byte). */
  private byteFlags = false;
  /** The block read EFLAGS before setting them: the caller passes them in. */
  readsFlagsIn = false;
  /** EFLAGS in L_FLAGS came back from a handler call (not from the caller). */
  private flagsFromHandler = false;
  /** The block's first pool slot and the instructions translated. */
  private start = 0;
  private length = 0;
  /** Where RAM starts in the WebAssembly memory. */
  private readonly ramBase: number;

  constructor(private readonly c: CpuCore) {
    this.ramBase = c.ram.byteOffset;
  }

  translate(start: number, count: number): Body | null {
    const c = this.c, b = this.body;
    // Every segment the block uses must have no special checks and a limit of 4 GiB - 1 (so only its
    // base matters: Linux's per-CPU data is reached through FS with a base).
    let segments = 0, written = 0;
    let n = 0;
    for (; n < count; n++) {
      const d = start + n, kind = KIND[c.dH[d]!]!;
      if (!this.supported(d, kind)) {
        if (CALLABLE[c.dH[d]!] === 0) break;
        continue; // its handler is called
      }
      written++;
      if ((c.dRm[d]! < 0xc0 && MEMORY_KINDS.has(kind)) || kind === W_MOV_MOFFS) segments |= 1 << c.dSeg[d]!;
      if (kind === W_PUSH || kind === W_POP || kind === W_CALL || kind === W_RET) segments |= 1 << SS;
    }
    if (written === 0) return null;
    this.start = start;
    this.length = n;
    b.get(L_UK).i32(10).op(OP.i32Shl).set(L_READ);
    b.get(L_UK).i32(1).op(OP.i32Add).i32(10).op(OP.i32Shl).set(L_WRITE);
    for (let s = 0; s < 6; s++) {
      if ((segments & (1 << s)) === 0) continue;
      b.i32(0).mem(OP.i32Load, 2, HOST.segBase + s * 4).set(L_SEG + s);
      b.i32(0).mem(OP.i32Load, 2, HOST.segCheck + s * 4);
      b.i32(0).mem(OP.f64Load, 3, HOST.segLimit + s * 8).f64(4294967295).op(OP.f64Ne).op(OP.i32Or);
      b.if();
      this.bail(0, 0, BAIL_SEGMENT);
      b.end();
    }
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const d = start + i;
      const next = offset + c.dLen[d]!;
      const ended = this.supported(d, KIND[c.dH[d]!]!) ? this.instruction(d, i, offset, next) : this.handlerCall(i, offset, next);
      offset = next;
      if (ended) return b;
    }
    if (n < count) this.bail(n, offset, BAIL_UNSUPPORTED);
    else this.exit(n, () => this.eipPlus(offset));
    return b;
  }

  private supported(d: number, kind: number): boolean {
    const c = this.c;
    if (kind === 0) return false;
    const m = c.dRm[d]!, reg = (m >> 3) & 7;
    const memory = m < 0xc0 && MEMORY_KINDS.has(kind);
    if (!BYTE_KINDS.has(kind) && (c.dPfx[d]! & P_O32) === 0 && kind !== W_MOV_MOFFS) return false;
    if ((memory || (kind === W_LEA && m < 0xc0)) && (c.dEa[d]! & EA_A16) !== 0) return false; // 16-bit addressing: the handler
    const carry = (op: number): boolean => op === 2 || op === 3; // ADC, SBB: the handler
    switch (kind) {
      case W_ALU_RM_REG: case W_ALU_REG_RM: case W_ALU_RM_IMM: return !carry(ALU_OP[c.dH[d]!]!);
      case W_ALU_GV_M: case W_ALU_M_GV: return memory && !carry(c.dExt[d]!);
      case W_ALU_EAX_IMM: case W_BYTE_ALU_AL: case W_BYTE_ALU_GB_EB: return !carry(c.dExt[d]!);
      case W_ALU_M_IMM: return memory && !carry(reg);
      case W_BYTE_ALU_IMM: return !carry(reg);
      case W_MOV_EV_IZ: case W_MOV_EB_IB: return reg === 0;
      case W_LEA: return m < 0xc0;
      case W_SHIFT: // SHL/SHR/SAR of a register by a constant other than 0
        return !memory && (reg === 4 || reg === 5 || reg === 7 || reg === 6) && c.dExt[d]! !== 2 && ((c.dExt[d] === 1 ? 1 : c.dImm[d]!) & 31) !== 0;
      case W_MOV_MOFFS: { // A0-A3 with a 32-bit address; the dword forms need a 32-bit operand size
        const e = c.dExt[d]!;
        return (c.dPfx[d]! & P_A32) !== 0 && ((e & 1) === 0 || (c.dPfx[d]! & P_O32) !== 0);
      }
      default: return true;
    }
  }

  /** Writes out instruction `i` (slot `d`, at `offset` from the block's EIP). Returns whether it ended the block. */
  private instruction(d: number, i: number, offset: number, next: number): boolean {
    const c = this.c, b = this.body, h = c.dH[d]!, kind = KIND[h]!;
    const m = c.dRm[d]!, reg = (m >> 3) & 7, rm = m & 7, memory = m < 0xc0, imm = c.dImm[d]!;
    switch (kind) {
      case W_NOP: return false;
      case W_MOV_GV_EV:
        if (memory) { this.load(d, i, offset, 4); b.set(L_V); this.setReg(reg, () => b.get(L_V)); } else this.setReg(reg, () => this.reg(rm));
        return false;
      case W_MOV_EV_GV:
        if (memory) this.store(d, i, offset, 4, () => this.reg(reg)); else this.setReg(rm, () => this.reg(reg));
        return false;
      case W_MOV_EV_IZ:
        if (memory) this.store(d, i, offset, 4, () => b.i32(imm)); else this.setReg(rm, () => b.i32(imm));
        return false;
      case W_MOV_IMM: this.setReg(c.dExt[d]!, () => b.i32(imm)); return false;
      case W_LEA: this.setReg(reg, () => this.address(d)); return false;
      case W_MOV_GB_EB:
        if (memory) { this.load(d, i, offset, 1); b.set(L_V); this.setByte(reg, () => b.get(L_V)); } else this.setByte(reg, () => this.byteReg(rm));
        return false;
      case W_MOV_EB_GB:
        if (memory) this.store(d, i, offset, 1, () => this.byteReg(reg)); else this.setByte(rm, () => this.byteReg(reg));
        return false;
      case W_MOV_EB_IB:
        if (memory) this.store(d, i, offset, 1, () => b.i32(imm & 0xff)); else this.setByte(rm, () => b.i32(imm & 0xff));
        return false;
      case W_MOV_REG_IB: this.setByte(c.dExt[d]!, () => b.i32(imm & 0xff)); return false;
      case W_MOV_MOFFS: {
        const e = c.dExt[d]!, size = (e & 1) === 0 ? 1 : 4, lin = (): void => { b.i32(c.dDisp[d]!); };
        if ((e & 2) === 0) {
          this.access(d, i, offset, size, false, lin);
          b.get(L_P).mem(size === 4 ? OP.i32Load : OP.i32Load8u, 0, this.ramBase).set(L_V);
          if (size === 4) this.setReg(0, () => b.get(L_V)); else this.setByte(0, () => b.get(L_V));
        } else {
          this.access(d, i, offset, size, true, lin);
          b.get(L_P);
          if (size === 4) this.reg(0); else this.byteReg(0);
          b.mem(size === 4 ? OP.i32Store : OP.i32Store8, 0, this.ramBase);
        }
        return false;
      }
      case W_MOVZX_B: case W_MOVSX_B: {
        if (memory) this.load(d, i, offset, 1); else this.byteReg(rm);
        if (kind === W_MOVSX_B) b.i32(24).op(OP.i32Shl).i32(24).op(OP.i32ShrS);
        b.set(L_V);
        this.setReg(reg, () => b.get(L_V));
        return false;
      }
      case W_MOVZX_W: case W_MOVSX_W: {
        const signed = kind === W_MOVSX_W;
        if (memory) this.load(d, i, offset, 2); else this.reg(rm);
        if (signed) b.i32(16).op(OP.i32Shl).i32(16).op(OP.i32ShrS); else if (!memory) b.i32(0xffff).op(OP.i32And);
        b.set(L_V);
        this.setReg(reg, () => b.get(L_V));
        return false;
      }
      case W_CMOV: { // the source is read (and may fault) whatever the condition, as cmovcc() does
        if (memory) this.load(d, i, offset, 4); else this.reg(rm);
        b.set(L_V);
        this.condition(c.dExt[d]!);
        b.if(); this.setReg(reg, () => b.get(L_V)); b.end();
        return false;
      }
      case W_SETCC:
        if (memory) { this.access(d, i, offset, 1, true); this.condition(c.dExt[d]!); b.set(L_V); b.get(L_P).get(L_V).mem(OP.i32Store8, 0, this.ramBase); } else {
          this.condition(c.dExt[d]!); b.set(L_V); this.setByte(rm, () => b.get(L_V));
        }
        return false;
      case W_PUSH: this.push(i, offset, () => this.reg(c.dExt[d]!)); return false;
      case W_POP: {
        this.stackLoad(i, offset);
        b.set(L_V);
        this.setReg(4, () => b.get(L_SP).i32(4).op(OP.i32Add));
        this.setReg(c.dExt[d]!, () => b.get(L_V)); // POP ESP: the loaded value wins
        return false;
      }
      case W_INC: case W_DEC: {
        const r = c.dExt[d]!;
        this.keepCarry();
        this.reg(r).set(L_FA);
        b.get(L_FA).i32(1).op(kind === W_INC ? OP.i32Add : OP.i32Sub).set(L_FV);
        b.i32(1).set(L_FB);
        this.setReg(r, () => b.get(L_FV));
        this.flags = kind === W_INC ? F_INC : F_DEC;
        this.byteFlags = false;
        return false;
      }
      case W_SHIFT: { // setLazyShift(): OF in fa, CF in fb
        const n = (c.dExt[d] === 1 ? 1 : imm) & 31;
        this.reg(rm).set(L_FA);
        if (reg === 5) { // SHR
          b.get(L_FA).i32(n - 1).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_FB);
          b.get(L_FA).i32(n).op(OP.i32ShrU).set(L_FV);
          b.get(L_FA).i32(31).op(OP.i32ShrU).set(L_FA);
        } else if (reg === 7) { // SAR
          b.get(L_FA).i32(n - 1).op(OP.i32ShrS).i32(1).op(OP.i32And).set(L_FB);
          b.get(L_FA).i32(n).op(OP.i32ShrS).set(L_FV);
          b.i32(0).set(L_FA);
        } else { // SHL (and its alias /6)
          b.get(L_FA).i32(32 - n).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_FB);
          b.get(L_FA).i32(n).op(OP.i32Shl).set(L_FV);
          b.get(L_FV).i32(31).op(OP.i32ShrU).get(L_FB).op(OP.i32Xor).set(L_FA);
        }
        this.setReg(rm, () => b.get(L_FV));
        this.flags = F_SHIFT;
        this.byteFlags = false;
        return false;
      }
      case W_ALU_RM_REG: this.alu(ALU_OP[h]!, () => this.reg(rm), () => this.reg(reg), (v) => this.setReg(rm, v)); return false;
      case W_ALU_REG_RM: this.alu(ALU_OP[h]!, () => this.reg(reg), () => this.reg(rm), (v) => this.setReg(reg, v)); return false;
      case W_ALU_RM_IMM: this.alu(ALU_OP[h]!, () => this.reg(rm), () => b.i32(imm), (v) => this.setReg(rm, v)); return false;
      case W_ALU_EAX_IMM: this.alu(c.dExt[d]!, () => this.reg(0), () => b.i32(imm), (v) => this.setReg(0, v)); return false;
      case W_TEST_EAX_IMM: this.alu(4, () => this.reg(0), () => b.i32(imm), null); return false;
      case W_TEST:
        if (memory) { this.load(d, i, offset, 4); b.set(L_V); this.alu(4, () => b.get(L_V), () => this.reg(reg), null); } else {
          this.alu(4, () => this.reg(rm), () => this.reg(reg), null);
        }
        return false;
      case W_ALU_GV_M: this.load(d, i, offset, 4); b.set(L_V); this.alu(c.dExt[d]!, () => this.reg(reg), () => b.get(L_V), (v) => this.setReg(reg, v)); return false;
      case W_ALU_M_GV: case W_ALU_M_IMM: {
        const op = kind === W_ALU_M_GV ? c.dExt[d]! : reg;
        const source = kind === W_ALU_M_GV ? (): void => { this.reg(reg); } : (): void => { b.i32(imm); };
        this.memoryAlu(d, i, offset, 4, op, source);
        return false;
      }
      case W_BYTE_ALU_IMM: case W_TEST_EB_IB: {
        const op = kind === W_TEST_EB_IB ? 4 : reg, source = (): void => { b.i32(imm & 0xff); };
        if (memory) this.memoryAlu(d, i, offset, 1, op === 4 && kind === W_TEST_EB_IB ? -4 : op, source);
        else this.byteAlu(op, () => this.byteReg(rm), source, kind === W_TEST_EB_IB ? null : (v) => this.setByte(rm, v));
        return false;
      }
      case W_BYTE_ALU_AL: case W_TEST_AL:
        this.byteAlu(kind === W_TEST_AL ? 4 : c.dExt[d]!, () => this.byteReg(0), () => b.i32(imm & 0xff), kind === W_TEST_AL ? null : (v) => this.setByte(0, v));
        return false;
      case W_BYTE_ALU_GB_EB: case W_TEST_EB_GB: {
        const op = kind === W_TEST_EB_GB ? 4 : c.dExt[d]!;
        if (memory) { this.load(d, i, offset, 1); b.set(L_V); }
        const source = memory ? (): void => { b.get(L_V); } : (): void => { this.byteReg(rm); };
        if (kind === W_TEST_EB_GB) this.byteAlu(4, source, () => this.byteReg(reg), null);
        else this.byteAlu(op, () => this.byteReg(reg), source, (v) => this.setByte(reg, v));
        return false;
      }
      case W_JCC: {
        // Taken: the target (beyond CS.limit: the handler raises #GP), retire, leave.
        this.condition(ALU_OP[h]!);
        b.if();
        this.target(i, offset, next, imm);
        this.exit(i + 1, () => b.get(L_T));
        b.end();
        return false;
      }
      case W_JMP:
        this.target(i, offset, next, imm);
        this.exit(i + 1, () => b.get(L_T));
        return true;
      case W_CALL:
        this.target(i, offset, next, imm);
        b.get(L_T).set(L_B);
        this.push(i, offset, () => this.eipPlus(next));
        this.exit(i + 1, () => b.get(L_B));
        return true;
      case W_RET: {
        this.stackLoad(i, offset);
        b.set(L_T);
        this.limitCheck(i, offset);
        this.setReg(4, () => b.get(L_SP).i32(4 + imm).op(OP.i32Add));
        this.exit(i + 1, () => b.get(L_T));
        return true;
      }
      default: throw new Error(`warm-blocks: kind ${kind} has no translation`);
    }
  }

  /**
   * An instruction this translation does not write out: its handler, called through the import
   * (WarmTier.callHandler) with the lazy flags handed over in the exit record. It returns EFLAGS, or
   * -1 when the block must stop after it (EIP moved off the fall-through, a chunk break): then the
   * core has everything. Returns false (the block goes on).
   */
  private handlerCall(i: number, offset: number, next: number): boolean {
    const b = this.body;
    this.record();
    b.i32(i).i32(offset).i32(next).i32(this.flagsReadAfter(i) ? 1 : 0).call(F_HANDLER).tee(L_FLAGS).i32(-1).op(OP.i32Eq);
    b.if().i32((i + 1) | IN_CORE).op(OP.return).end();
    this.flags = F_NONE;
    this.byteFlags = false;
    this.flagsFromHandler = true;
    return false;
  }

  /**
   * Whether a written-out instruction after instruction `i` reads EFLAGS before one sets them all
   * (or before another handler call, which reads them from the core itself): only then does the
   * handler call ask for them (CpuCore.getFlags() computes all six).
   */
  private flagsReadAfter(i: number): boolean {
    const c = this.c;
    for (let k = i + 1; k < this.length; k++) {
      const d = this.start + k, kind = KIND[c.dH[d]!]!;
      if (!this.supported(d, kind)) return false;
      if (kind === W_JCC || kind === W_SETCC || kind === W_CMOV || kind === W_INC || kind === W_DEC) return true;
      if (SETS_ALL_FLAGS.has(kind)) return false;
    }
    return false;
  }

  /** `a OP b` on dwords, the lazy state left in fa/fb/fv; `store` given the result (null: none; CMP stores nothing). */
  private alu(op: number, a: () => void, source: () => void, store: ((v: () => void) => void) | null): void {
    const b = this.body;
    a(); b.set(L_FA);
    source(); b.set(L_FB);
    b.get(L_FA).get(L_FB).op(ALU_CODE[op]!).set(L_FV);
    this.flags = op === 0 ? F_ADD : op === 5 || op === 7 ? F_SUB : F_LOGIC;
    this.byteFlags = false;
    if (store !== null && op !== 7) store(() => b.get(L_FV));
  }
  /** The same on bytes (0-255 on the stack), kept in the top byte of fa/fb/fv. */
  private byteAlu(op: number, a: () => void, source: () => void, store: ((v: () => void) => void) | null): void {
    const b = this.body;
    a(); b.i32(24).op(OP.i32Shl).set(L_FA);
    source(); b.i32(24).op(OP.i32Shl).set(L_FB);
    b.get(L_FA).get(L_FB).op(ALU_CODE[op]!).set(L_FV);
    this.flags = op === 0 ? F_ADD : op === 5 || op === 7 ? F_SUB : F_LOGIC;
    this.byteFlags = true;
    if (store !== null && op !== 7) store(() => b.get(L_FV).i32(24).op(OP.i32ShrU));
  }
  /**
   * OP on the `size`-byte memory operand of slot `d` and `source`: CMP (7) and TEST (-4) read it, the
   * others write the result back in place (through the write half of the TLB, whose pages are readable too).
   */
  private memoryAlu(d: number, i: number, offset: number, size: number, op: number, source: () => void): void {
    const b = this.body, readOnly = op === 7 || op === -4, code = op === -4 ? 4 : op;
    this.access(d, i, offset, size, !readOnly);
    const load = (): void => { b.get(L_P).mem(size === 4 ? OP.i32Load : OP.i32Load8u, 0, this.ramBase); };
    const store = readOnly ? null : (v: () => void): void => { b.get(L_P); v(); b.mem(size === 4 ? OP.i32Store : OP.i32Store8, 0, this.ramBase); };
    if (size === 4) this.alu(code, load, source, store); else this.byteAlu(code, load, source, store);
  }

  /** INC/DEC keep CF: its value at this point into the CF local. */
  private keepCarry(): void {
    this.flag(CF_BIT);
    this.body.set(L_CF);
  }

  /** Pushes 0 or 1: flag `bit` of EFLAGS as the last flag-setting instruction left it. */
  private flag(bit: number): void {
    const b = this.body;
    switch (this.flags) {
      case F_NONE:
        if (!this.flagsFromHandler) this.readsFlagsIn = true;
        b.get(L_FLAGS).i32(bit).op(OP.i32ShrU).i32(1).op(OP.i32And);
        return;
      case F_INC: case F_DEC:
        if (bit === CF_BIT) { b.get(L_CF); return; }
        if (bit === OF_BIT) { b.get(L_FV).i32(this.flags === F_INC ? -0x80000000 : 0x7fffffff).op(OP.i32Eq); return; }
        break;
      case F_SHIFT:
        if (bit === CF_BIT) { b.get(L_FB); return; }
        if (bit === OF_BIT) { b.get(L_FA); return; }
        break;
      default: break;
    }
    switch (bit) {
      case ZF_BIT: b.get(L_FV).op(OP.i32Eqz); return;
      case SF_BIT: b.get(L_FV).i32(0).op(OP.i32LtS); return;
      case PF_BIT:
        b.get(L_FV);
        if (this.byteFlags) b.i32(24).op(OP.i32ShrU);
        b.i32(0xff).op(OP.i32And).op(OP.i32Popcnt).i32(1).op(OP.i32And).op(OP.i32Eqz);
        return;
      case CF_BIT:
        if (this.flags === F_ADD) b.get(L_FV).get(L_FA).op(OP.i32LtU);
        else if (this.flags === F_SUB) b.get(L_FA).get(L_FB).op(OP.i32LtU);
        else b.i32(0);
        return;
      case OF_BIT:
        if (this.flags === F_ADD) b.get(L_FA).get(L_FV).op(OP.i32Xor).get(L_FB).get(L_FV).op(OP.i32Xor).op(OP.i32And).i32(0).op(OP.i32LtS);
        else if (this.flags === F_SUB) b.get(L_FA).get(L_FB).op(OP.i32Xor).get(L_FA).get(L_FV).op(OP.i32Xor).op(OP.i32And).i32(0).op(OP.i32LtS);
        else b.i32(0);
        return;
      default: throw new Error(`warm-blocks: flag bit ${bit}`);
    }
  }

  /** Pushes 0 or 1: condition `cc` (Jcc order). */
  private condition(cc: number): void {
    const b = this.body;
    if (this.flags === F_SUB && cc >= 2) {
      // After CMP/SUB the unsigned and signed orders of the operands decide directly.
      const direct = SUB_CONDITION[cc]!;
      if (direct !== 0) { b.get(L_FA).get(L_FB).op(direct); return; }
    }
    switch (cc >> 1) {
      case 0: this.flag(OF_BIT); break;
      case 1: this.flag(CF_BIT); break;
      case 2: this.flag(ZF_BIT); break;
      case 3: this.flag(CF_BIT); this.flag(ZF_BIT); b.op(OP.i32Or); break;
      case 4: this.flag(SF_BIT); break;
      case 5: this.flag(PF_BIT); break;
      case 6: this.flag(SF_BIT); this.flag(OF_BIT); b.op(OP.i32Xor); break;
      default: this.flag(ZF_BIT); this.flag(SF_BIT); this.flag(OF_BIT); b.op(OP.i32Xor).op(OP.i32Or); break;
    }
    if ((cc & 1) !== 0) b.op(OP.i32Eqz);
  }

  /** Pushes register `r` (0-7). */
  private reg(r: number): Body {
    return this.body.i32(0).mem(OP.i32Load, 2, HOST.regs + r * 8);
  }
  private setReg(r: number, value: () => void): void {
    this.body.i32(0);
    value();
    this.body.mem(OP.i32Store, 2, HOST.regs + r * 8);
  }
  /** Pushes byte register `r` (AL, CL, DL, BL, AH, CH, DH, BH). */
  private byteReg(r: number): Body {
    return this.body.i32(0).mem(OP.i32Load8u, 0, HOST.regs + (r & 3) * 8 + (r >> 2));
  }
  private setByte(r: number, value: () => void): void {
    this.body.i32(0);
    value();
    this.body.mem(OP.i32Store8, 0, HOST.regs + (r & 3) * 8 + (r >> 2));
  }
  /** Pushes the block's EIP plus `offset`. */
  private eipPlus(offset: number): Body {
    return this.body.get(L_EIP).i32(offset).op(OP.i32Add);
  }

  /** Pushes the effective address of slot `d`'s memory operand. */
  private address(d: number): void {
    const c = this.c, b = this.body, f = c.dEa[d]!;
    const base = f & 15, index = (f >> 4) & 15, scale = (f >> 8) & 3;
    b.i32(c.dDisp[d]!);
    if (base !== EA_NONE) { this.reg(base); b.op(OP.i32Add); }
    if (index !== EA_NONE) { this.reg(index); if (scale !== 0) b.i32(scale).op(OP.i32Shl); b.op(OP.i32Add); }
  }

  /**
   * The linear address into L_LIN (`lin` given, else slot `d`'s operand), then the RAM offset of the
   * access into L_P when it is the plain case (helpers READ/WRITE), else a bail out before instruction `i`.
   */
  private access(d: number, i: number, offset: number, size: number, write: boolean, lin?: () => void): void {
    const b = this.body;
    if (lin !== undefined) lin(); else this.address(d);
    b.get(L_SEG + (d < 0 ? SS : this.c.dSeg[d]!)).op(OP.i32Add);
    b.tee(L_LIN).i32(size).get(write ? L_WRITE : L_READ).call(write ? H_WRITE : H_READ).tee(L_P).i32(0).op(OP.i32LtS);
    b.if(); this.bail(i, offset, BAIL_ACCESS); b.end();
  }
  /** Pushes the `size`-byte operand of slot `d` (zero-extended). */
  private load(d: number, i: number, offset: number, size: number): void {
    this.access(d, i, offset, size, false);
    this.body.get(L_P).mem(size === 4 ? OP.i32Load : size === 2 ? OP.i32Load16u : OP.i32Load8u, 0, this.ramBase);
  }
  private store(d: number, i: number, offset: number, size: number, value: () => void): void {
    this.access(d, i, offset, size, true);
    this.body.get(L_P);
    value();
    this.body.mem(size === 4 ? OP.i32Store : size === 2 ? OP.i32Store16 : OP.i32Store8, 0, this.ramBase);
  }
  /** Pushes the dword at ESP (L_SP keeps ESP); a 16-bit stack bails out. */
  private stackLoad(i: number, offset: number): void {
    const b = this.body;
    b.get(L_SS32).op(OP.i32Eqz); b.if(); this.bail(i, offset, BAIL_STACK16); b.end();
    this.access(-1, i, offset, 4, false, () => { this.reg(4).tee(L_SP); });
    b.get(L_P).mem(OP.i32Load, 0, this.ramBase);
  }
  /** PUSH of `value` (read before anything is written): the store, then ESP. */
  private push(i: number, offset: number, value: () => void): void {
    const b = this.body;
    b.get(L_SS32).op(OP.i32Eqz); b.if(); this.bail(i, offset, BAIL_STACK16); b.end();
    value(); b.set(L_V);
    this.access(-1, i, offset, 4, true, () => { this.reg(4).i32(4).op(OP.i32Sub).tee(L_SP); });
    b.get(L_P).get(L_V).mem(OP.i32Store, 0, this.ramBase);
    this.setReg(4, () => b.get(L_SP));
  }
  /** The branch target (EIP after the instruction + rel) into L_T, checked against CS.limit. */
  private target(i: number, offset: number, next: number, rel: number): void {
    this.eipPlus(next).i32(rel).op(OP.i32Add).set(L_T);
    this.limitCheck(i, offset);
  }
  /** A target in L_T beyond CS.limit bails out (the handler raises #GP(0)). */
  private limitCheck(i: number, offset: number): void {
    const b = this.body;
    b.get(L_T).op(OP.f64ConvertI32U).i32(0).mem(OP.f64Load, 3, HOST.segLimit + CS * 8).op(OP.f64Gt);
    b.if(); this.bail(i, offset, BAIL_LIMIT); b.end();
  }

  /** Return before instruction `i` (at `offset`): nothing of it done. */
  private bail(i: number, offset: number, why: number): void {
    this.exit(i | BAIL | (why << 17), () => this.eipPlus(offset));
  }
  /** Return `result` (the instructions retired, and BAIL's bits), EIP from `eip`. */
  private exit(result: number, eip: () => void): void {
    const b = this.body;
    b.i32(0); eip(); b.mem(OP.i32Store, 2, HOST.exit + X_EIP * 4);
    this.record();
    b.i32(result).op(OP.return);
  }
  /** The lazy-flag state as it is here into the exit record (through the RECORD helper). */
  private record(): void {
    const b = this.body;
    // Untouched: the record still holds what the blocks before this one in the call left (the run
    // loop sets FLAGS_KEPT before the call, and the handler call after it applied the record).
    if (this.flags === F_NONE) return;
    const keepCf = this.flags === F_INC || this.flags === F_DEC;
    const op = this.flags === F_ADD || this.flags === F_INC ? OP_ADD : this.flags === F_LOGIC ? OP_LOGIC : this.flags === F_SHIFT ? OP_SHIFT : OP_SUB;
    const word = (local: number): void => { b.get(local); if (this.byteFlags) b.i32(24).op(OP.i32ShrU); };
    b.i32(keepCf ? FLAGS_LAZY_KEEP_CF : FLAGS_LAZY).i32(op);
    word(L_FA); word(L_FB); word(L_FV);
    b.i32(this.byteFlags ? 0 : 2);
    if (keepCf) b.get(L_CF); else b.i32(0);
    b.call(H_RECORD).op(OP.drop);
  }
}

/** The WebAssembly operation of each ALU operation (ModRM.reg order; ADC/SBB are never translated; CMP subtracts). */
const ALU_CODE = [OP.i32Add, OP.i32Or, 0, 0, OP.i32And, OP.i32Sub, OP.i32Xor, OP.i32Sub];
/** After CMP/SUB: the comparison of the operands that decides condition cc (0: through the flags). */
const SUB_CONDITION = [0, 0, OP.i32LtU, OP.i32GeU, OP.i32Eq, OP.i32Ne, OP.i32LeU, OP.i32GtU, 0, 0, 0, 0, OP.i32LtS, OP.i32GeS, OP.i32LeS, OP.i32GtS];

/** Function indexes in a module of blocks: the imported handler call, then the helpers. */
const F_HANDLER = 0, H_READ = 1, H_WRITE = 2, H_RECORD = 3;
/** RECORD(kind, op, dst, src, res, size, cf): the lazy-flag state into the exit record. */
function recordHelper(): { body: Body; locals: number; params: number } {
  const b = new Body();
  const fields = [X_KIND, X_OP, X_DST, X_SRC, X_RES, X_SIZE, X_CF];
  fields.forEach((field, param) => { b.i32(0).get(param).mem(OP.i32Store, 2, HOST.exit + field * 4); });
  b.i32(0);
  return { body: b, locals: 0, params: fields.length };
}
/**
 * READ/WRITE(lin, size, part): the RAM offset (from 0 at the start of RAM) of a
 * `size`-byte access at linear `lin` through TLB part `part` (its byte offset, the privilege's read or
 * write part), or -1 when it is not the plain case: it crosses a page, misses the TLB, is not RAM,
 * or (WRITE) lands on a page holding decoded code.
 */
function accessHelper(write: boolean): { body: Body; locals: number; params: number } {
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
  return { body: b, locals: 2, params: 3 };
}
/** The helpers of every module of blocks, at function indexes H_READ, H_WRITE, H_RECORD (after the import). */
const HELPERS = [accessHelper(false), accessHelper(true), recordHelper()];

/** A block waiting for its batch: its block entry, address and generation key. */
interface Pending { b: number; tag: number; gen: number }

/**
 * The warm tier of one core: queues blocks that reached WARM_RUNS, translates a batch of them into
 * one module whose functions go into the dispatcher's table, and records each block's table index
 * in its block entry (CpuCore.bWarm) if that still holds the same block. The run loop calls every
 * warm block through the dispatcher's one export, so the call from JavaScript into WebAssembly is
 * always the same function (V8 makes that call cheap only where it sees one target).
 */
export class WarmTier {
  private readonly pending: Pending[] = [];
  private readonly pages: number;
  private readonly memory: WebAssembly.Memory;
  private readonly table: WebAssembly.Table;
  private next = 0;
  /** Modules made since the table last started over. */
  private modules = 0;
  /**
   * Warm blocks by physical address, kept when their block entry goes (a pool flush drops every
   * block, 57 times in a Debian boot; run counts survive it, so a block past WARM_RUNS would not be
   * queued again): a rebuild of the same code under the same generation key gets its index back.
   */
  private readonly kept = new Map<number, { gen: number; count: number; index: number; reads: number }>();
  /** Calls warm block `index` of the table, and the ones after it that the jump cache knows. */
  readonly run: WarmRun;
  /** The dispatcher's jump cache (WJ_*) and chained-run counts per table index. */
  private readonly jumps: Int32Array;
  private readonly chained: Uint16Array;
  /** Per block entry: the block reads EFLAGS it did not set (the run loop passes them). */
  readonly readsFlags: Uint8Array;
  /** The exit record as Int32 (see X_EIP...). */
  readonly exit: Int32Array;
  /** The retired count before the run loop's call of the dispatcher. */
  entryRetired = -0; // a double, as CpuCore.retired
  /** The import a warm block calls for instruction `i` (at `offset`, the next at `next`) of the running block. */
  private readonly callHandler = (i: number, offset: number, next: number, wantFlags: number): number => {
    const c = this.c, x = this.exit, e = x[X_BLOCK_EIP]!, d = x[X_BLOCK_SLOT]! + i, nextEip = (e + next) | 0;
    const retired = this.entryRetired + x[X_BLOCK_DONE]! + i;
    applyExitFlags(c, x);
    x[X_KIND] = FLAGS_KEPT;
    c.curEip = (e + offset) | 0;
    c.retired = retired;
    c.eip = nextEip;
    HANDLERS[c.dH[d]!]!(c, d);
    c.retired = retired + 1;
    if (c.eip !== nextEip || c.chunkBreak === true || c.halted === true) return -1;
    return wantFlags !== 0 ? c.getFlags() : 0;
  };

  constructor(private readonly c: CpuCore, memory: WebAssembly.Memory, blockEntries: number, readonly threshold: number) {
    this.memory = memory;
    this.pages = memory.buffer.byteLength / 65536;
    this.readsFlags = new Uint8Array(blockEntries);
    this.exit = new Int32Array(memory.buffer, c.hostArea!.byteOffset + HOST.exit, 16);
    const dispatcher = new WebAssembly.Instance(new WebAssembly.Module(dispatcherModule(4, 7, dispatchLoop(), 4, TABLE_SIZE, this.pages)), { m: { memory } });
    this.jumps = new Int32Array(memory.buffer, c.hostArea!.byteOffset + HOST.warmJumps, 8 << WJ_BITS);
    this.chained = new Uint16Array(memory.buffer, c.hostArea!.byteOffset + HOST.warmRuns, TABLE_SIZE);
    this.run = dispatcher.exports['run'] as WarmRun;
    this.table = dispatcher.exports['table'] as WebAssembly.Table;
  }

  /**
   * Block entry `b` ran `threshold` times in the block loop: translate it with the next batch (at
   * once with a threshold up to SMALL_THRESHOLD, as tests use). Returns whether it was translated now.
   */
  enqueue(b: number): boolean {
    const c = this.c;
    c.bWarm[b] = WARM_QUEUED;
    this.pending.push({ b, tag: c.bTag[b]!, gen: c.bGen[b]! });
    if (this.pending.length < BATCH && this.threshold > SMALL_THRESHOLD) return false;
    this.flush();
    return true;
  }
  /** Whether enough blocks wait for their batch that run() translates them before it returns. */
  get waiting(): boolean {
    return this.pending.length >= BATCH / 8;
  }

  /**
   * The run loop calls warm block `index` (pool slot `slot`, `count` instructions) found at linear
   * `lin` in fetch epoch `epoch`: the dispatcher may go on to it from another warm block while the
   * epoch lasts (the epoch moves on with every change of what an address runs: code writes, TLB
   * flushes, pool flushes, mode changes; as for the run loop's own jump cache).
   */
  remember(lin: number, epoch: number, index: number, slot: number, count: number, readsFlags: boolean): void {
    const j = (((lin ^ (lin >>> WJ_BITS)) & ((1 << WJ_BITS) - 1)) << 3), w = this.jumps;
    w[j + WJ_LIN] = lin; w[j + WJ_EPOCH] = epoch; w[j + WJ_INDEX] = index; w[j + WJ_SLOT] = slot;
    w[j + WJ_INFO] = count | (readsFlags ? WJ_READS_FLAGS : 0);
  }

  /** Empty the dispatcher's jump cache (the fetch epoch starts over). */
  forgetJumps(): void {
    this.jumps.fill(0);
  }

  /** Forget every kept and queued block (CpuCore.dropDecoded: RAM may have changed without the page generations seeing it). */
  forget(): void {
    this.jumps.fill(0);
    this.kept.clear();
    this.pending.length = 0;
    this.c.bWarm.fill(WARM_NONE);
  }

  /** Block entry `b` was just built for `phys` under `gen` with `count` instructions: its kept warm block, if any, again. */
  restore(b: number, phys: number, gen: number, count: number): void {
    const kept = this.kept.get(phys);
    if (kept === undefined || kept.gen !== gen || kept.count !== count) return;
    this.c.bWarm[b] = kept.index;
    this.readsFlags[b] = kept.reads;
  }

  /** Translate and install the queued blocks that still hold the code they were queued with. */
  flush(): void {
    const c = this.c;
    const live: Pending[] = [], bodies: Array<{ body: Body; locals: number }> = [], reads: boolean[] = [];
    for (const p of this.pending) {
      // The entry may have been rebuilt since (a code write to its page, a pool flush): if it still
      // holds a block at the same address, that block is translated as it is now.
      if (c.bTag[p.b] !== p.tag || c.bFn[p.b] !== null || c.bWarm[p.b] !== WARM_QUEUED || c.bCount[p.b] === 0) continue;
      p.gen = c.bGen[p.b]!;
      const t = new Translator(c);
      const body = t.translate(c.bStart[p.b]!, Math.min(c.bCount[p.b]!, c.bLinear[p.b]!));
      if (body === null) continue;
      live.push(p);
      bodies.push({ body, locals: LOCALS });
      reads.push(t.readsFlagsIn);
    }
    this.pending.length = 0;
    if (live.length === 0) return;
    if (this.next + live.length > TABLE_SIZE || this.modules >= MAX_MODULES) {
      c.bWarm.fill(WARM_NONE); // every warm block goes; the table fills again from the start
      this.jumps.fill(0);
      this.kept.clear();
      this.next = 0;
      this.modules = 0;
    }
    this.modules++;
    const base = this.next;
    this.next += live.length;
    const bytes = blocksModule(4, bodies, this.pages, HELPERS, [4]);
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { memory: this.memory, f0: this.callHandler } });
    for (let k = 0; k < live.length; k++) {
      const p = live[k]!;
      this.table.set(base + k, exports[String(k)] as WebAssembly.ExportValue);
      this.chained[base + k] = 0;
      c.bWarm[p.b] = base + k;
      this.readsFlags[p.b] = reads[k] ? 1 : 0;
      this.kept.set(p.tag, { gen: p.gen, count: c.bCount[p.b]!, index: base + k, reads: reads[k] ? 1 : 0 });
    }
    c.stats[CpuStat.BlocksWarmed] += live.length;
  }
}

/** The lazy-flag state a warm block left in the exit record `x`, into the core. */
export function applyExitFlags(c: CpuCore, x: Int32Array): void {
  const kind = x[X_KIND]!;
  if (kind === FLAGS_KEPT) return;
  if (kind === FLAGS_LAZY_KEEP_CF) c.flags = (c.flags & ~CF) | x[X_CF]!;
  c.lfOp = x[X_OP]!; c.lfDst = x[X_DST]!; c.lfSrc = x[X_SRC]!; c.lfRes = x[X_RES]!; c.lfSize = x[X_SIZE]!;
  c.lazy = kind === FLAGS_LAZY ? ARITH : ARITH & ~CF;
}

/**
 * The dispatcher's "run": call warm block `index`, and while it ended normally and the jump cache
 * holds a warm block for where it went (this epoch, not reading flags it did not set, not chained
 * CHAIN_LIMIT times yet, fitting in the budget), that block next, without returning to JavaScript.
 * The result is the last block's, with the instructions of all of them.
 */
function dispatchLoop(): Body {
  const P_INDEX = 0, P_EIP = 1, P_UK = 2, P_FLAGS = 3, P_SS32 = 4, P_EPOCH = 5, P_BUDGET = 6;
  const L_DONE = 7, L_R = 8, L_LIN = 9, L_J = 10;
  const x = HOST.exit, b = new Body();
  b.loop();
  b.i32(0).get(P_EIP).mem(OP.i32Store, 2, x + X_BLOCK_EIP * 4);
  b.i32(0).get(L_DONE).mem(OP.i32Store, 2, x + X_BLOCK_DONE * 4);
  b.get(P_EIP).get(P_UK).get(P_FLAGS).get(P_SS32).get(P_INDEX).callIndirect(0).set(L_R);
  // Stopped inside the block (bail out, handler): done.
  b.get(L_R).i32(BAIL | IN_CORE).op(OP.i32And).if().get(L_R).get(L_DONE).op(OP.i32Add).op(OP.return).end();
  b.get(L_DONE).get(L_R).op(OP.i32Add).set(L_DONE);
  // The next block: linear EIP, its jump-cache entry.
  b.i32(0).mem(OP.i32Load, 2, x + X_EIP * 4).set(P_EIP);
  b.get(P_EIP).i32(0).mem(OP.i32Load, 2, HOST.segBase + CS * 4).op(OP.i32Add).set(L_LIN);
  b.get(L_LIN).get(L_LIN).i32(WJ_BITS).op(OP.i32ShrU).op(OP.i32Xor).i32((1 << WJ_BITS) - 1).op(OP.i32And).i32(5).op(OP.i32Shl).set(L_J);
  const entry = (field: number): void => { b.get(L_J).mem(OP.i32Load, 2, HOST.warmJumps + field * 4); };
  entry(WJ_LIN); b.get(L_LIN).op(OP.i32Ne);
  entry(WJ_EPOCH); b.get(P_EPOCH).op(OP.i32Ne).op(OP.i32Or);
  entry(WJ_INFO); b.i32(WJ_READS_FLAGS).op(OP.i32And).op(OP.i32Or);
  b.if().get(L_DONE).op(OP.return).end();
  entry(WJ_INFO); b.i32(0xffff).op(OP.i32And).get(L_DONE).op(OP.i32Add).get(P_BUDGET).op(OP.i32GtU);
  b.if().get(L_DONE).op(OP.return).end();
  entry(WJ_INDEX); b.set(P_INDEX);
  // Its chained runs: past CHAIN_LIMIT the run loop takes it (and counts towards compiling it).
  b.get(P_INDEX).i32(1).op(OP.i32Shl).mem(OP.i32Load16u, 1, HOST.warmRuns).tee(L_R).i32(CHAIN_LIMIT).op(OP.i32GeU);
  b.if().get(L_DONE).op(OP.return).end();
  b.get(P_INDEX).i32(1).op(OP.i32Shl).get(L_R).i32(1).op(OP.i32Add).mem(OP.i32Store16, 1, HOST.warmRuns);
  b.i32(0); entry(WJ_SLOT); b.mem(OP.i32Store, 2, x + X_BLOCK_SLOT * 4);
  b.br(0);
  b.end();
  b.get(L_DONE);
  return b;
}
