/**
 * Hot blocks translated into WebAssembly (CpuOptions.wasmHotBlocks): a warm block that reaches the
 * compile threshold is built again following calls, returns and forward jumps within its first page
 * (as for the JavaScript compiler) and becomes a WebAssembly function of its own, written from its
 * slot records (wasm/warm-records.ts) with what the records leave to run time decided at
 * translation time. The function is a region: the block (its head) and the translated blocks it
 * reaches through constant targets, in its page or others, and through returns to the instructions
 * after its calls; control goes from one to the next inside the function.
 *
 * - the guest registers live in locals, loaded at entry and stored at every way out (only those the
 *   region writes);
 * - every memory access has the TLB lookup written out inline, through segment bases read once at
 *   entry (a region whose segments are not flat, or whose stack is 16-bit, stops before its first
 *   instruction and runs in the block loop);
 * - the kind of flag state at each instruction is known, so conditions test the last operation's
 *   operands directly (`a < b` unsigned for JB after CMP) and only what a later instruction, the
 *   next block or the exit needs is computed;
 * - a transfer to a block of the region goes on there (a `br_table` in a loop) while the budget
 *   allows all of it; into another page only in the fetch epoch and from the head's EIP the region
 *   was made for (RegionOrigin);
 * - what it does not write out (most x87 and string instructions, 16-bit ALU, system
 *   instructions) calls its handler through the interpreter's import; HLT ends the translation
 *   before it.
 *
 * The function has the interpreter's signature and result, and the dispatcher calls it through a
 * table (`call_indirect`) when the head's first record names it (R_FN), so control goes from
 * translated block to translated or warm block without returning to JavaScript. Like the
 * interpreter it never faults: where an access is not the plain case it returns before the
 * instruction with BAIL set and the run loop goes on in the block loop (from the slot in the head's
 * first pass, else from EIP).
 */
import { AF, ARITH, CF, CS, EA_A16, EA_NONE, ES, OF, P_A32, P_REP, P_REPNE, PF, SF, ZF, OP_ADC, OP_ADD, OP_LOGIC, OP_SBB, OP_SHIFT, OP_SUB, P_O32, SS } from '../constants.js';
import { HANDLERS } from '../decoder/decode.js';
import { btEvIb, grp2Ev, testEvGv } from '../exec/alu.js';
import { jmpEv } from '../exec/control.js';
import { sahf } from '../exec/data.js';
import { stos } from '../exec/string.js';
import { esc } from '../exec/system.js';
import { Fpu } from '../fpu/fpu.js';
import { blockIndex } from '../blocks.js';
import { compilesDirect } from '../block-compiler.js';
import { cachedFetchPhys, type CpuCore } from '../core.js';
import { CpuStat } from '../stats.js';
import { Body, OP, wasmModule } from './emitter.js';
import { HOST, WARM_RECORD } from './host-area.js';
import {
  notePointers, noteInstruction, physEmpty, x87AfterStore, x87Blocked, x87Disabled, x87DoubleWords, x87LoadDoubleRefused, x87PushDouble, x87StatusWord, x87StoreDoubleRefused,
  x87StoreRegister, x87StoreRegisterRefused, x87CompareDoubles, x87CopyRegister, x87Finish, x87MemoryDoubleRefused, x87MemorySingleRefused, x87Physical,
  x87ProductInexact, x87Push, x87PushRefused, x87RegisterDoubleRefused, x87RoundingRefused, x87SetDouble, x87Sign, x87SumInexact, x87Swap,
} from './x87-code.js';
import {
  ALU_ADC, ALU_CODE, ALU_SBB, BAIL, BAIL_ACCESS, BAIL_BUDGET, BAIL_LIMIT, BAIL_SEGMENT, BAIL_STACK16, BAIL_UNSUPPORTED, CF_BIT, F_ADC, F_ADD, F_DEC, F_INC, F_LOGIC,
  F_NONE, F_SBB, F_SHIFT, F_SUB, FLAGS_LAZY, FLAGS_LAZY_KEEP_CF, K_ALU_LOAD, K_HANDLER, K_STOP, K_ALU_MI, K_ALU_RI, K_ALU_RMW, K_ALU_RR, K_BALU_LOAD, K_BALU_MI,
  K_BALU_RI, K_BALU_RMW, K_BALU_RR, K_BSWAP, K_CALL, K_CMOV_M, K_CMOV_R, K_IMUL_M, K_IMUL_R, K_INCDEC, K_INCDEC_M, K_JCC, K_JMP, K_LEA, K_LEAVE,
  K_MOV_LOAD, K_MOV_MI, K_MOV_RI, K_MOV_RR, K_MOV_STORE, K_MOVB_LOAD, K_MOVB_MI, K_MOVB_RI, K_MOVB_RR, K_MOVB_STORE, K_MOVW_LOAD, K_MOVW_RR,
  K_MOVW_STORE, K_MOVX_M, K_MOVX_R, K_MUL_M, K_MUL_R, K_NEG_M, K_NEG_R, K_NOP, K_NOT_M, K_NOT_R, K_POP, K_PUSH, K_PUSH_I, K_PUSH_M, K_RET, K_ROT,
  K_SETCC_M, K_SETCC_R, K_SHIFT, OF_BIT, PF_BIT, R_A, R_B, R_BASE, R_BY_CL, R_DISP, R_FK, R_FN, R_IMM, R_INDEX, R_KIND, R_LEN, R_OP, R_SCALE,
  R_SEG, R_STORE, type Records, SF_BIT, WARM_READY, X_BLOCK_EIP, X_BLOCK_SLOT, X_EPOCH, IN_CORE, imulOverflow, SUB_CONDITION, X_BLOCK_DONE, X_CF, X_DST, X_EIP, X_KIND, X_OP, X_RES, X_SET_BITS, X_SET_MASK, X_SIZE,
  X_SRC, ZF_BIT, blockLoopPart,
} from './warm-records.js';

/** Forms that use the stack (the block then needs a 32-bit one). */
const STACK_FORMS = new Set([K_PUSH, K_POP, K_CALL, K_RET, K_PUSH_M, K_PUSH_I, K_LEAVE]);
/** Forms with a memory operand (through R_SEG). */
const MEMORY_OPERAND = new Set([K_MOV_LOAD, K_MOV_STORE, K_MOV_MI, K_MOVB_LOAD, K_MOVB_STORE, K_MOVB_MI, K_MOVX_M, K_INCDEC_M, K_ALU_LOAD, K_ALU_RMW,
  K_ALU_MI, K_BALU_LOAD, K_BALU_MI, K_BALU_RMW, K_SETCC_M, K_CMOV_M, K_IMUL_M, K_MOVW_LOAD, K_MOVW_STORE, K_NOT_M, K_NEG_M, K_PUSH_M, K_MUL_M]);

// Parameters (the interpreter's, with the budget in place of the count) and locals.
const P_EIP = 0, P_UK = 1, P_FLAGS = 2, P_SS32 = 3, P_BUDGET = 5;
/** G + r: guest register r. */
const G = 6;
const L_FA = 14, L_FB = 15, L_FV = 16, L_CF = 17, L_SET_BITS = 18, L_CIN = 19, L_LIN = 20, L_P = 21, L_V = 22, L_T = 23;
const L_READ = 24, L_WRITE = 25, L_DONE = 26, L_IDX = 27, L_TV = 28;
/** L_SEG + s: the base of segment s (ES, CS, SS, DS, FS, GS). */
const L_SEG = 29;
/** X_BLOCK_DONE at entry; the member to go on at (the loop's `br_table`). */
const L_BASE = L_SEG + 6, L_NEXT = L_SEG + 7;
/**
 * What a way out hands the shared exit code (BlockWriter.leave): the result, EIP, the flag state's
 * form (X_FORM_*), the lazy operation, the member's offset from the head's EIP and its first slot.
 */
const L_XRES = L_SEG + 8, L_XEIP = L_SEG + 9, L_XFORM = L_SEG + 10, L_XOP = L_SEG + 11, L_XBASE = L_SEG + 12, L_XSLOT = L_SEG + 13;
/** CpuCore.directEnd at entry, for a translation made with paging off (BlockWriter.direct). */
const L_DIRECT = L_SEG + 14;
const PARAMS = 6;
/** i32 locals after the parameters. */
const LOCALS = L_DIRECT + 1 - PARAMS;
/** f64 locals after those: x87 operands, result and scratch (BlockWriter.x87). */
const L_FX = L_DIRECT + 1, L_FY = L_DIRECT + 2, L_FR = L_DIRECT + 3, L_FT = L_DIRECT + 4, L_FU = L_DIRECT + 5;
const F64_LOCALS = 5;
/**
 * L_XFORM: bits 0-1 the exit record's X_KIND (FLAGS_KEPT: no lazy state), 2-3 X_SIZE, 4-8 the shift
 * of the operands in L_FA/L_FB, 9-13 of the result in L_FV, 14 a stop past the head's block-loop
 * part, 15 flags set outright (their mask in bits 16-31).
 */
const X_FORM_SIZE = 2, X_FORM_OPERANDS = 4, X_FORM_RESULT = 9, X_FORM_PAST_LINEAR = 1 << 14, X_FORM_SET = 1 << 15;
/** The handler import (WarmTier.callHandler), the only one of a translation's module. */
const F_HANDLER = 0;

/** Dword register of a record's register operand (a host address: 8 bytes a register). */
const dword = (address: number): number => (address - HOST.regs) >> 3;

/**
 * One block of a region (HotTranslator.translate): its records are slots `start`..`start + count`,
 * the first `linear` of them the block loop's part; with `stops`, the record after them is a HLT
 * (K_STOP) and the block stops before it, as the interpreter does. `base`: the offset of its first
 * instruction from the head's EIP; `far`: it is in another linear page than the head.
 */
export interface RegionMember {
  readonly start: number; readonly count: number; readonly linear: number; readonly stops: boolean; readonly base: number; readonly far: boolean;
}
/**
 * Where a region was made: the head's EIP and the fetch epoch. Its members in other pages were
 * found through the page tables then, so control goes on to them only while both are the same (a
 * change of mapping, of CS or of code in any of them starts a new epoch).
 */
export interface RegionOrigin { readonly eip: number; readonly epoch: number }

/** What the first pass of a BlockWriter found, for the second. */
interface FirstPass {
  readonly reads: number;
  readonly writes: number;
  readonly wantFlags: Set<number>;
  readonly needsFlags: readonly boolean[];
  readonly transitions: boolean;
}

/**
 * Writes the WebAssembly function of a region: its first block (the head, where the dispatcher
 * enters) and the translated blocks of the same page that the head reaches through constant
 * targets, written from their records. A transfer to a member's first instruction goes on there
 * inside the function (a `br_table` on the member's index in a loop) while the budget allows, with
 * the registers still in locals and the entry checks not made again; any other transfer leaves.
 * Run twice: the first pass finds the registers the region reads and writes, where flags a block
 * did not set are read and which transitions happen, the second writes the code with that knowledge
 * (loads at entry, stores at the ways out, EFLAGS wanted back from handler calls and handed to the
 * blocks that read them).
 */
class BlockWriter {
  readonly b = new Body();
  /** Registers read and written (bit r), filled by the first pass. */
  reads = 0;
  writes = 0;
  private storeMask = 0xff;
  private loadMask = 0xff;
  // The flag state at the instruction being written (warm-records.ts F_*), as the interpreter keeps it in locals.
  private fk = F_NONE;
  /** Where the last flag-setting operation keeps its operands: 24 for bytes and 16 for words (the top of the dword), else 0. */
  private fshift = 0;
  private setMask = 0;
  /** The member being written, the index and byte offset (from the head's EIP) of its instruction being written; open structured blocks inside it. */
  private m = 0;
  private i = 0;
  private off = 0;
  private depth = 0;
  /** Structured blocks between a member's code and the loop that goes from member to member. */
  private loopDepth = 0;
  private regsLoaded = false;
  /** The handler calls after which an instruction reads the flags they leave (found by the first pass). */
  wantFlags = new Set<number>();
  private lastHandler = -1;
  /** The segments the region's accesses go through (bit s). */
  private segments = 0;
  /**
   * Made with paging off (block-compiler.ts compilesDirect): a linear address below CpuCore.directEnd
   * (read at entry; 0 once paging is on, and every access then stops the block) is its RAM offset,
   * and accesses skip the TLB, as compiled JavaScript blocks do. The Debian kernel's XZ
   * decompression runs with paging off and misses the TLB ~140,000 times per 1 G instructions (its
   * dictionary reaches back megabytes), each a stop to the block loop.
   */
  private readonly direct: boolean;
  /** Per member: an instruction reads flags before the member set any (they come in as P_FLAGS). */
  readonly memberReads: boolean[];
  /** Transitions from member to member (from, to, and whether the flags are still those the first came in with). */
  readonly edges: Array<{ from: number; to: number; clean: boolean }> = [];
  /** Per member: EFLAGS must be in P_FLAGS when it starts (it, or a member it goes on to with the flags unchanged, reads them). */
  private needsFlags: readonly boolean[];
  /** Whether control goes from member to member (then every way out says which member it left from). */
  private transitions = false;
  /** Member index by the offset of its first instruction from the head's EIP. */
  private readonly memberAt = new Map<number, number>();
  /** Members that follow a call of the region (returnTo()). */
  private readonly returnSites: number[] = [];

  constructor(private readonly c: CpuCore, private readonly rec: Records, private readonly members: readonly RegionMember[],
    private readonly origin: RegionOrigin, private readonly ramBase: number, first?: FirstPass) {
    this.direct = compilesDirect(c);
    members.forEach((member, index) => this.memberAt.set(member.base, index));
    // Members that follow a call of the region that it does not follow: where its RETs may go on.
    for (const member of members) {
      for (const next of constantTargets(c, rec, member).returns) {
        const site = this.memberAt.get(member.base + next);
        if (site !== undefined && !this.returnSites.includes(site)) this.returnSites.push(site);
      }
    }
    this.memberReads = members.map(() => false);
    this.needsFlags = members.map(() => false);
    if (first !== undefined) {
      this.storeMask = first.writes;
      this.loadMask = first.reads | first.writes;
      this.wantFlags = first.wantFlags;
      this.needsFlags = first.needsFlags;
      this.transitions = first.transitions;
    }
  }

  /** What this (first) pass found, for the second: where flags must be handed over from member to member. */
  firstPass(): FirstPass {
    const needs = [...this.memberReads];
    // A member that goes on to one needing the flags without setting any needs them itself.
    for (let changed = true; changed;) {
      changed = false;
      for (const e of this.edges) if (e.clean && needs[e.to] && !needs[e.from]) { needs[e.from] = true; changed = true; }
    }
    return { reads: this.reads, writes: this.writes, wantFlags: this.wantFlags, needsFlags: needs, transitions: this.edges.length > 0 };
  }

  /** Whether the head needs EFLAGS passed in (second pass). */
  get entryFlags(): boolean { return this.needsFlags[0]!; }

  private get start(): number { return this.members[this.m]!.start; }
  private get count(): number { return this.members[this.m]!.count; }
  private u8(i: number, field: number): number { return this.rec.u8[(this.start + i) * WARM_RECORD + field]!; }
  private u16(i: number, field: number): number { return this.rec.u16[((this.start + i) * WARM_RECORD + field) >> 1]!; }
  private i32(i: number, field: number): number { return this.rec.i32[((this.start + i) * WARM_RECORD + field) >> 2]!; }

  write(): void {
    const b = this.b, members = this.members, count = members.length;
    // The instructions the dispatcher ran before this call (as the exit record says at entry), for the ways out.
    if (this.transitions) b.i32(0).mem(OP.i32Load, 2, HOST.exit + X_BLOCK_DONE * 4).set(L_BASE);
    b.get(P_UK).i32(10).op(OP.i32Shl).set(L_READ);
    b.get(P_UK).i32(1).op(OP.i32Add).i32(10).op(OP.i32Shl).set(L_WRITE);
    if (this.direct) b.i32(0).mem(OP.i32Load, 2, HOST.directEnd).set(L_DIRECT);
    // Entry checks: a budget below the head's instructions (the dispatcher found it through a
    // jump-cache entry made when it ran only its block-loop part), a CS limit below 4 GiB - 1
    // (branch targets are then not checked), a segment that is not flat or a 16-bit stack stop the
    // region before its first instruction.
    b.get(P_BUDGET).i32(members[0]!.count).op(OP.i32LtU);
    b.if(); this.depth++; this.bail(BAIL_BUDGET); this.depth--; b.end();
    b.i32(0).mem(OP.f64Load, 3, HOST.segLimit + CS * 8).f64(4294967295).op(OP.f64Ne);
    b.if(); this.depth++; this.bail(BAIL_LIMIT); this.depth--; b.end();
    let segments = 0, stack = false;
    for (const member of members) {
      for (let i = 0; i < member.count; i++) {
        const kind = this.rec.u8[(member.start + i) * WARM_RECORD + R_KIND]!;
        if (MEMORY_OPERAND.has(kind)) segments |= 1 << this.rec.u8[(member.start + i) * WARM_RECORD + R_SEG]!;
        if (kind === K_HANDLER && ownMemoryForm(this.c, member.start + i)) segments |= 1 << this.c.dSeg[member.start + i]!;
        if (kind === K_HANDLER && ownForm(this.c, member.start + i) === OWN_FILL) segments |= 1 << ES;
        if (STACK_FORMS.has(kind)) { stack = true; segments |= 1 << SS; }
      }
    }
    if (stack) { b.get(P_SS32).op(OP.i32Eqz).if(); this.depth++; this.bail(BAIL_STACK16); this.depth--; b.end(); }
    this.segments = segments;
    this.loadSegments();
    this.loadRegisters();
    this.regsLoaded = true;
    b.block();
    if (this.transitions) b.loop();
    if (count > 1) {
      for (let m = 0; m < count; m++) b.block();
      b.get(L_NEXT).brTable(members.map((_, m) => m), 0);
    }
    for (this.m = 0; this.m < count; this.m++) {
      if (count > 1) b.end();
      this.loopDepth = count - 1 - this.m;
      this.fk = F_NONE; this.setMask = 0; this.lastHandler = -1;
      const n = this.count;
      for (this.i = 0; this.i < n; this.i++) {
        this.off = this.offset(this.i);
        this.instruction();
      }
      this.off = this.offset(n - 1) + this.u8(n - 1, R_LEN);
      if (members[this.m]!.stops) this.bail(BAIL_UNSUPPORTED, n, this.offset(n)); else this.exitTo(this.off, n);
    }
    if (this.transitions) b.end();
    b.end();
    this.exitCode();
  }

  /**
   * The bases of the segments the block uses into locals; one that is not flat stops the block
   * before instruction `i` (at offset `off`).
   */
  private loadSegments(i = this.i, off = this.off): void {
    const b = this.b;
    for (let s = 0; s < 6; s++) {
      if ((this.segments & (1 << s)) === 0) continue;
      b.i32(0).mem(OP.i32Load, 2, HOST.segCheck + s * 4);
      b.i32(0).mem(OP.f64Load, 3, HOST.segLimit + s * 8).f64(4294967295).op(OP.f64Ne).op(OP.i32Or);
      b.if(); this.depth++; this.bail(BAIL_SEGMENT, i, off); this.depth--; b.end();
      b.i32(0).mem(OP.i32Load, 2, HOST.segBase + s * 4).set(L_SEG + s);
    }
  }
  private loadRegisters(): void {
    for (let r = 0; r < 8; r++) if ((this.loadMask & (1 << r)) !== 0) this.b.i32(0).mem(OP.i32Load, 2, HOST.regs + r * 8).set(G + r);
  }
  private storeRegisters(): void {
    for (let r = 0; r < 8; r++) if ((this.storeMask & (1 << r)) !== 0) this.b.i32(0).get(G + r).mem(OP.i32Store, 2, HOST.regs + r * 8);
  }

  /**
   * An instruction the translation does not run itself: its handler, through the import the
   * interpreter calls them with (WarmTier.callHandler), with the registers and the flag state handed
   * over in memory. It returns EFLAGS when a later instruction reads flags the block did not set
   * since, or -1 when the block must stop after it (EIP moved off the fall-through, a chunk break):
   * then the core has everything. After it the registers and segment bases are read again (the
   * handler may have changed any of them).
   */
  private handlerCall(): void {
    const i = this.i;
    this.callImport(this.wantFlags.has(this.handlerKey()));
    this.fk = F_NONE; this.setMask = 0;
    this.lastHandler = i;
    this.loadRegisters();
    // (A segment that is no longer flat stops the block after the handler.)
    this.loadSegments(i + 1, this.off + this.u8(i, R_LEN));
  }

  // ---- registers ----
  private reg(r: number): void { this.reads |= 1 << r; this.b.get(G + r); }
  private setReg(r: number, value: () => void): void { value(); this.writes |= 1 << r; this.b.set(G + r); }
  private byteReg(address: number): void {
    const r = dword(address), shift = (address & 1) * 8;
    this.reg(r);
    if (shift !== 0) this.b.i32(shift).op(OP.i32ShrU);
    this.b.i32(0xff).op(OP.i32And);
  }
  private setByteReg(address: number, value: () => void): void {
    const r = dword(address), shift = (address & 1) * 8;
    this.setReg(r, () => {
      this.reg(r); this.b.i32(~(0xff << shift)).op(OP.i32And);
      value(); this.b.i32(0xff).op(OP.i32And);
      if (shift !== 0) this.b.i32(shift).op(OP.i32Shl);
      this.b.op(OP.i32Or);
    });
  }
  private setWordReg(address: number, value: () => void): void {
    const r = dword(address);
    this.setReg(r, () => {
      this.reg(r); this.b.i32(-65536).op(OP.i32And);
      value(); this.b.i32(0xffff).op(OP.i32And).op(OP.i32Or);
    });
  }
  private regA(): void { this.reg(dword(this.u16(this.i, R_A))); }
  private regB(): void { this.reg(dword(this.u16(this.i, R_B))); }
  private setA(value: () => void): void { this.setReg(dword(this.u16(this.i, R_A)), value); }

  // ---- ways out ----
  /** The key of the current member's handler call at instruction `i` in wantFlags. */
  private handlerKey(i = this.i): number { return this.start + i; }
  private eip(offset: number): void { this.b.get(P_EIP); if (offset !== 0) this.b.i32(offset).op(OP.i32Add); }
  /** Pushes the instructions retired in this call once `k` of the current member's ran. */
  private retired(k: number): void {
    const b = this.b;
    if (this.transitions) { b.get(L_DONE); if (k !== 0) b.i32(k).op(OP.i32Add); } else b.i32(k);
  }
  /**
   * Where the region is, for the run loop and the handler import, when control may have gone from
   * member to member: the current member's EIP, first slot and the instructions retired before it
   * (as the dispatcher writes them for a block it calls); `pastLinear` marks a stop past the head's
   * block-loop part (the run loop then goes on from EIP, not from the slot).
   */
  private here(pastLinear = false): void {
    const b = this.b, x = HOST.exit;
    if (!this.transitions) {
      if (pastLinear) b.i32(0).i32(0).mem(OP.i32Load, 2, x + X_BLOCK_DONE * 4).i32(1 << 20).op(OP.i32Or).mem(OP.i32Store, 2, x + X_BLOCK_DONE * 4);
      return;
    }
    b.i32(0); this.eip(this.offset(0)); b.mem(OP.i32Store, 2, x + X_BLOCK_EIP * 4);
    b.i32(0).i32(this.start).mem(OP.i32Store, 2, x + X_BLOCK_SLOT * 4);
    b.i32(0).get(L_BASE).get(L_DONE).op(OP.i32Add);
    if (pastLinear) b.i32(1 << 20).op(OP.i32Or);
    b.mem(OP.i32Store, 2, x + X_BLOCK_DONE * 4);
  }
  /** The flag state into the exit record (as the interpreter's LEAVE helper, with the kind known here). */
  private storeFlags(): void {
    const b = this.b, x = HOST.exit, fk = this.fk;
    if (fk === F_NONE && this.setMask === 0) return;
    const store = (field: number, value: () => void): void => { b.i32(0); value(); b.mem(OP.i32Store, 2, x + field * 4); };
    store(X_SET_MASK, () => b.i32(this.setMask));
    store(X_SET_BITS, () => b.get(L_SET_BITS));
    if (fk === F_NONE) return;
    const keep = fk === F_INC || fk === F_DEC, shift = this.fshift;
    // (A shift's "operands" are its OF and CF.)
    const operandShift = fk === F_SHIFT ? 0 : shift;
    store(X_KIND, () => b.i32(keep ? FLAGS_LAZY_KEEP_CF : FLAGS_LAZY));
    store(X_OP, () => {
      if (fk === F_ADC) b.i32(OP_ADC).i32(OP_ADD).get(L_CIN).op(OP.select);
      else if (fk === F_SBB) b.i32(OP_SBB).i32(OP_SUB).get(L_CIN).op(OP.select);
      else b.i32(fk === F_ADD || fk === F_INC ? OP_ADD : fk === F_LOGIC ? OP_LOGIC : fk === F_SHIFT ? OP_SHIFT : OP_SUB);
    });
    store(X_DST, () => { b.get(L_FA); if (operandShift !== 0) b.i32(operandShift).op(OP.i32ShrU); });
    store(X_SRC, () => { b.get(L_FB); if (operandShift !== 0) b.i32(operandShift).op(OP.i32ShrU); });
    store(X_RES, () => { b.get(L_FV); if (shift !== 0) b.i32(shift).op(OP.i32ShrU); });
    store(X_SIZE, () => b.i32(shift === 24 ? 0 : shift === 16 ? 1 : 2));
    store(X_CF, () => { if (keep) b.get(L_CF); else b.i32(0); });
  }
  /**
   * Returns `result` with EIP from `eip`: the registers the region writes and the flag state go out
   * first. Once the registers are in locals, through the code at the function's end that every way
   * out shares (exitCode()): the way out only sets what differs, which keeps a region's code, and V8's
   * time compiling it, a fraction of what a copy of the stores at each way out took.
   */
  private leave(result: () => void, eip: () => void, pastLinear = false): void {
    const b = this.b;
    if (!this.regsLoaded) {
      b.i32(0); eip(); b.mem(OP.i32Store, 2, HOST.exit + X_EIP * 4);
      this.storeFlags();
      this.here(pastLinear);
      result(); b.op(OP.return);
      return;
    }
    result(); b.set(L_XRES);
    eip(); b.set(L_XEIP);
    const fk = this.fk, keep = fk === F_INC || fk === F_DEC, shift = this.fshift;
    let form = this.setMask !== 0 ? X_FORM_SET | (this.setMask << 16) : 0;
    if (pastLinear) form |= X_FORM_PAST_LINEAR;
    if (fk !== F_NONE) {
      // (A shift's "operands" are its OF and CF.)
      form |= (keep ? FLAGS_LAZY_KEEP_CF : FLAGS_LAZY) | ((shift === 24 ? 0 : shift === 16 ? 1 : 2) << X_FORM_SIZE);
      form |= ((fk === F_SHIFT ? 0 : shift) << X_FORM_OPERANDS) | (shift << X_FORM_RESULT);
      if (fk === F_ADC) b.i32(OP_ADC).i32(OP_ADD).get(L_CIN).op(OP.select);
      else if (fk === F_SBB) b.i32(OP_SBB).i32(OP_SUB).get(L_CIN).op(OP.select);
      else b.i32(fk === F_ADD || fk === F_INC ? OP_ADD : fk === F_LOGIC ? OP_LOGIC : fk === F_SHIFT ? OP_SHIFT : OP_SUB);
      b.set(L_XOP);
    }
    b.i32(form).set(L_XFORM);
    if (this.transitions) { b.i32(this.offset(0)).set(L_XBASE); b.i32(this.start).set(L_XSLOT); }
    b.br(this.depth + this.loopDepth + (this.transitions ? 1 : 0));
  }
  /** The code every way out of the region shares (leave()), after the block it breaks out of. */
  private exitCode(): void {
    const b = this.b, x = HOST.exit;
    const store = (field: number, value: () => void): void => { b.i32(0); value(); b.mem(OP.i32Store, 2, x + field * 4); };
    const formField = (shift: number, bits: number): void => { b.get(L_XFORM).i32(shift).op(OP.i32ShrU).i32((1 << bits) - 1).op(OP.i32And); };
    this.storeRegisters();
    store(X_EIP, () => b.get(L_XEIP));
    b.get(L_XFORM).i32(X_FORM_SET).op(OP.i32And).if();
    store(X_SET_MASK, () => b.get(L_XFORM).i32(16).op(OP.i32ShrU));
    store(X_SET_BITS, () => b.get(L_SET_BITS));
    b.end();
    b.get(L_XFORM).i32(3).op(OP.i32And).if();
    // (Lazy flags without flags set outright after them: none, as the interpreter's LEAVE has it.)
    b.get(L_XFORM).i32(X_FORM_SET).op(OP.i32And).op(OP.i32Eqz).if();
    store(X_SET_MASK, () => b.i32(0));
    b.end();
    store(X_KIND, () => formField(0, 2));
    store(X_OP, () => b.get(L_XOP));
    store(X_DST, () => { b.get(L_FA); formField(X_FORM_OPERANDS, 5); b.op(OP.i32ShrU); });
    store(X_SRC, () => { b.get(L_FB); formField(X_FORM_OPERANDS, 5); b.op(OP.i32ShrU); });
    store(X_RES, () => { b.get(L_FV); formField(X_FORM_RESULT, 5); b.op(OP.i32ShrU); });
    store(X_SIZE, () => formField(X_FORM_SIZE, 2));
    store(X_CF, () => { b.get(L_CF).i32(0); formField(0, 2); b.i32(FLAGS_LAZY_KEEP_CF).op(OP.i32Eq).op(OP.select); });
    b.end();
    if (this.transitions) {
      store(X_BLOCK_EIP, () => b.get(P_EIP).get(L_XBASE).op(OP.i32Add));
      store(X_BLOCK_SLOT, () => b.get(L_XSLOT));
      store(X_BLOCK_DONE, () => {
        b.get(L_BASE).get(L_DONE).op(OP.i32Add);
        b.get(L_XFORM).i32(X_FORM_PAST_LINEAR).op(OP.i32And).i32(6).op(OP.i32Shl).op(OP.i32Or); // (bit 14 to bit 20)
      });
    } else {
      b.get(L_XFORM).i32(X_FORM_PAST_LINEAR).op(OP.i32And).if();
      store(X_BLOCK_DONE, () => b.i32(0).mem(OP.i32Load, 2, x + X_BLOCK_DONE * 4).i32(1 << 20).op(OP.i32Or));
      b.end();
    }
    b.get(L_XRES);
  }
  /**
   * Offset from the head's EIP of the current member's instruction `i`: all of a member is in its
   * first page (HotTranslator.extent), where linear and physical offsets agree, so the runs that
   * followed transfers went into are placed by their slots' physical addresses.
   */
  private offset(i: number): number {
    const member = this.members[this.m]!;
    return member.base + this.c.dPhys[this.start + i]! - this.c.dPhys[member.start]!;
  }
  /** Whether the transfer at instruction `i` was followed (the next slot is not its fall-through, blocks.ts buildBlock). */
  private followed(i: number): boolean {
    const d = this.start + i;
    return i < this.count - 1 && this.c.dPhys[d + 1] !== this.c.dPhys[d]! + this.c.dLen[d]!;
  }
  /** Returns before instruction `i` (at offset `off`; default the current one), nothing of it done. */
  private bail(why: number, i = this.i, off = this.off): void {
    // Past the block loop's part of the head (bLinear) the run loop must not go on in the block loop
    // from this slot: a nonzero X_BLOCK_DONE sends it on from EIP instead (interpreter.ts). (After a
    // transition it is nonzero anyway.)
    const pastLinear = this.m === 0 && i >= this.members[0]!.linear;
    this.leave(() => { this.retired(i); this.b.i32(BAIL | (why << 17)).op(OP.i32Or); }, () => this.eip(off), pastLinear);
  }
  /**
   * A transfer to `target` (an offset from the head's EIP) once `done` instructions of the current
   * member ran: on at the member there while the budget has room for all of it, else out.
   */
  private exitTo(target: number, done: number): void {
    const to = this.memberAt.get(target);
    if (to !== undefined) this.goTo(to, done);
    this.leave(() => this.retired(done), () => this.eip(target));
  }
  /** On at member `to` (`done` instructions of the current member ran) if the budget has room for all of it. */
  private goTo(to: number, done: number): void {
    const b = this.b;
    // Flags not set since the member's start are those it came in with, or those a handler call
    // left (the first pass cannot know yet whether the member there reads them: the call is asked for them).
    this.edges.push({ from: this.m, to, clean: this.fk === F_NONE && this.lastHandler < 0 });
    if (this.fk === F_NONE && this.lastHandler >= 0) this.wantFlags.add(this.handlerKey(this.lastHandler));
    b.get(L_DONE).i32(done + this.members[to]!.count).op(OP.i32Add).get(P_BUDGET).op(OP.i32LeU);
    if (this.members[to]!.far) {
      b.i32(0).mem(OP.i32Load, 2, HOST.exit + X_EPOCH * 4).i32(this.origin.epoch).op(OP.i32Eq).op(OP.i32And);
      b.get(P_EIP).i32(this.origin.eip).op(OP.i32Eq).op(OP.i32And);
    }
    b.if();
    this.depth++;
    // The exit record keeps the flag state for ways out of the next member before it sets flags,
    // and a member that reads flags it did not set gets them as its EFLAGS.
    this.storeFlags();
    if (this.needsFlags[to] === true) this.materializeFlags();
    b.get(L_DONE).i32(done).op(OP.i32Add).set(L_DONE);
    if (this.members.length > 1) b.i32(to).set(L_NEXT);
    b.br(this.loopDepth + this.depth);
    this.depth--;
    b.end();
  }
  /**
   * A RET (its target in L_T) once `done` instructions of the current member ran: on at the member
   * there if it is one that follows a call of the region, else out.
   */
  private returnTo(done: number): void {
    const b = this.b;
    for (const to of this.returnSites) {
      b.get(L_T); this.eip(this.members[to]!.base); b.op(OP.i32Eq);
      b.if(); this.depth++; this.goTo(to, done); this.depth--; b.end();
    }
    this.leave(() => this.retired(done), () => b.get(L_T));
  }

  // ---- memory ----
  /** Pushes the linear address of the current record's memory operand (segment base included). */
  private address(withSegment = true): void {
    const b = this.b, i = this.i, base = this.u16(i, R_BASE), index = this.u16(i, R_INDEX);
    b.i32(this.i32(i, R_DISP));
    if (base !== HOST.zero) { this.reg(dword(base)); b.op(OP.i32Add); }
    if (index !== HOST.zero) {
      this.reg(dword(index));
      const scale = this.u8(i, R_SCALE);
      if (scale !== 0) b.i32(scale).op(OP.i32Shl);
      b.op(OP.i32Add);
    }
    if (withSegment) b.get(L_SEG + this.u8(i, R_SEG)).op(OP.i32Add);
  }
  /**
   * L_P: the RAM offset of a `size`-byte access at the linear address `lin` pushes (default: the
   * record's operand), or a bail out when it is not the plain case (as the interpreter's READ/WRITE).
   */
  private access(size: number, write: boolean, lin?: () => void): void {
    const b = this.b;
    if (lin !== undefined) lin(); else this.address();
    b.set(L_LIN);
    if (size > 1) {
      b.get(L_LIN).i32(4095).op(OP.i32And).i32(4096 - size).op(OP.i32GtU);
      b.if(); this.depth++; this.bail(BAIL_ACCESS); this.depth--; b.end();
    }
    if (this.direct) {
      // (directEnd is 3 below the end of that RAM, so a dword below it is inside.)
      b.get(L_LIN).get(L_DIRECT).op(OP.i32GeU);
      if (write) b.get(L_LIN).i32(12).op(OP.i32ShrU).mem(OP.i32Load8u, 0, HOST.codePages).op(OP.i32Or);
      b.if(); this.depth++; this.bail(BAIL_ACCESS); this.depth--; b.end();
      b.get(L_LIN).set(L_P);
      return;
    }
    b.get(write ? L_WRITE : L_READ).get(L_LIN).i32(12).op(OP.i32ShrU).i32(1023).op(OP.i32And).op(OP.i32Or).i32(2).op(OP.i32Shl).set(L_IDX);
    b.get(L_IDX).mem(OP.i32Load, 2, HOST.tlbTag).get(L_LIN).i32(-4096).op(OP.i32And).i32(1).op(OP.i32Or).op(OP.i32Ne);
    b.get(L_IDX).mem(OP.i32Load, 2, HOST.tlbVal).tee(L_TV).i32(1).op(OP.i32And).op(OP.i32Or);
    if (write) b.get(L_TV).i32(12).op(OP.i32ShrU).mem(OP.i32Load8u, 0, HOST.codePages).op(OP.i32Or);
    b.if(); this.depth++; this.bail(BAIL_ACCESS); this.depth--; b.end();
    b.get(L_TV).get(L_LIN).i32(4095).op(OP.i32And).op(OP.i32Or).set(L_P);
  }
  private load(size: number): void {
    this.b.get(L_P).mem(size === 4 ? OP.i32Load : size === 2 ? OP.i32Load16u : OP.i32Load8u, 0, this.ramBase);
  }
  private store(size: number, value: () => void): void {
    this.b.get(L_P); value(); this.b.mem(size === 4 ? OP.i32Store : size === 2 ? OP.i32Store16 : OP.i32Store8, 0, this.ramBase);
  }
  /** The stack: `value` (evaluated first) pushed. */
  private push(value: () => void): void {
    const b = this.b;
    value(); b.set(L_V);
    this.access(4, true, () => { this.reg(4); b.i32(4).op(OP.i32Sub).get(L_SEG + SS).op(OP.i32Add); });
    this.store(4, () => b.get(L_V));
    this.setReg(4, () => { this.reg(4); b.i32(4).op(OP.i32Sub); });
  }
  /** Pushes the dword at SS:ESP (read through the TLB). */
  private top(): void {
    this.access(4, false, () => { this.reg(4); this.b.get(L_SEG + SS).op(OP.i32Add); });
    this.load(4);
  }

  // ---- flags ----
  /** Pushes EFLAGS bit `bit` (0 or 1) as the flag state at this point says. */
  private flag(bit: number): void {
    const b = this.b, fk = this.fk;
    const fromLocal = (local: number): void => { b.get(local).i32(bit).op(OP.i32ShrU).i32(1).op(OP.i32And); };
    if ((this.setMask & (1 << bit)) !== 0) { fromLocal(L_SET_BITS); return; }
    if (fk === F_NONE) {
      // Flags the block did not set: the caller's, or those the last handler call returned.
      if (this.lastHandler >= 0) this.wantFlags.add(this.handlerKey(this.lastHandler)); else this.memberReads[this.m] = true;
      fromLocal(P_FLAGS);
      return;
    }
    if ((fk === F_INC || fk === F_DEC) && bit === CF_BIT) { b.get(L_CF); return; }
    if ((fk === F_INC || fk === F_DEC) && bit === OF_BIT) { b.get(L_FV).i32(fk === F_INC ? -0x80000000 : 0x7fffffff).op(OP.i32Eq); return; }
    if (fk === F_SHIFT && bit === CF_BIT) { b.get(L_FB); return; }
    if (fk === F_SHIFT && bit === OF_BIT) { b.get(L_FA); return; }
    switch (bit) {
      case ZF_BIT: b.get(L_FV).op(OP.i32Eqz); return;
      case SF_BIT: b.get(L_FV).i32(31).op(OP.i32ShrU); return;
      case PF_BIT:
        b.get(L_FV); if (this.fshift !== 0) b.i32(this.fshift).op(OP.i32ShrU);
        b.i32(0xff).op(OP.i32And).op(OP.i32Popcnt).i32(1).op(OP.i32And).op(OP.i32Eqz);
        return;
      case CF_BIT:
        if (fk === F_ADD) b.get(L_FV).get(L_FA).op(OP.i32LtU);
        else if (fk === F_SUB) b.get(L_FA).get(L_FB).op(OP.i32LtU);
        // With a carry in, the result wraps to the first operand or below (ADC), or the first is at most the second (SBB).
        else if (fk === F_ADC) b.get(L_FV).get(L_FA).op(OP.i32LeU).get(L_FV).get(L_FA).op(OP.i32LtU).get(L_CIN).op(OP.select);
        else if (fk === F_SBB) b.get(L_FA).get(L_FB).op(OP.i32LeU).get(L_FA).get(L_FB).op(OP.i32LtU).get(L_CIN).op(OP.select);
        else b.i32(0);
        return;
      default: // OF
        if (fk === F_ADD || fk === F_ADC) b.get(L_FA).get(L_FV).op(OP.i32Xor).get(L_FB).get(L_FV).op(OP.i32Xor).op(OP.i32And).i32(31).op(OP.i32ShrU);
        else if (fk === F_SUB || fk === F_SBB) b.get(L_FA).get(L_FB).op(OP.i32Xor).get(L_FA).get(L_FV).op(OP.i32Xor).op(OP.i32And).i32(31).op(OP.i32ShrU);
        else b.i32(0);
    }
  }
  /** P_FLAGS: the arithmetic flags a condition or INC/DEC reads (CF, PF, ZF, SF, OF) as the flag state at this point says. */
  private materializeFlags(): void {
    const b = this.b;
    if (this.fk === F_NONE && this.setMask === 0) return;
    b.get(P_FLAGS).i32(~(CF | (1 << PF_BIT) | (1 << ZF_BIT) | (1 << SF_BIT) | OF)).op(OP.i32And);
    for (const bit of [CF_BIT, PF_BIT, ZF_BIT, SF_BIT, OF_BIT]) { this.flag(bit); if (bit !== 0) b.i32(bit).op(OP.i32Shl); b.op(OP.i32Or); }
    b.set(P_FLAGS);
  }
  /** Pushes condition `cc` (Jcc order) as 0 or 1. */
  private condition(cc: number): void {
    const b = this.b, negate = (cc & 1) !== 0;
    if (this.setMask === 0 && this.fk === F_SUB && SUB_CONDITION[cc] !== 0) { b.get(L_FA).get(L_FB).op(SUB_CONDITION[cc]!); return; }
    if (this.setMask === 0 && this.fk === F_LOGIC) {
      // CF and OF are 0: every condition but parity is a test of the result.
      const logic = [0, 0, -1, -2, OP.i32Eq, OP.i32Ne, OP.i32Eq, OP.i32Ne, OP.i32LtS, OP.i32GeS, 0, 0, OP.i32LtS, OP.i32GeS, OP.i32LeS, OP.i32GtS][cc]!;
      if (cc < 2 || cc === 2 || cc === 3) { b.i32(cc === 1 || cc === 3 ? 1 : 0); return; }
      if (logic !== 0) { b.get(L_FV).i32(0).op(logic); return; }
    }
    switch (cc >> 1) {
      case 0: this.flag(OF_BIT); break;
      case 1: this.flag(CF_BIT); break;
      case 2: this.flag(ZF_BIT); break;
      case 3: this.flag(CF_BIT); this.flag(ZF_BIT); b.op(OP.i32Or); break;
      case 4: this.flag(SF_BIT); break;
      case 5: this.flag(PF_BIT); break;
      case 6: this.flag(SF_BIT); this.flag(OF_BIT); b.op(OP.i32Xor); break;
      default: this.flag(ZF_BIT); this.flag(SF_BIT); this.flag(OF_BIT); b.op(OP.i32Xor).op(OP.i32Or);
    }
    if (negate) b.op(OP.i32Eqz);
  }
  /** The flags of MUL and IMUL: LOGIC flags of L_FV, CF and OF set outright from L_SET_BITS. */
  private logicWithCarryAndOverflow(): void {
    this.b.i32(0).set(L_FA); this.b.i32(0).set(L_FB);
    this.fk = F_LOGIC; this.fshift = 0; this.setMask = CF | OF;
  }

  // ---- instructions ----
  private instruction(): void {
    const b = this.b, i = this.i, kind = this.u8(i, R_KIND), op = this.u8(i, R_OP), imm = this.i32(i, R_IMM);
    const a = this.u16(i, R_A), src = this.u16(i, R_B), next = this.off + this.u8(i, R_LEN);
    switch (kind) {
      case K_NOP: break;
      case K_MOV_RR: this.setA(() => this.regB()); break;
      case K_MOV_LOAD: this.access(4, false); this.setA(() => this.load(4)); break;
      case K_MOV_STORE: this.access(4, true); this.store(4, () => this.regB()); break;
      case K_MOV_RI: this.setA(() => b.i32(imm)); break;
      case K_MOV_MI: this.access(4, true); this.store(4, () => b.i32(imm)); break;
      case K_LEA: this.setA(() => this.address(false)); break;
      case K_MOVB_RR: this.setByteReg(a, () => this.byteReg(src)); break;
      case K_MOVB_LOAD: this.access(1, false); this.setByteReg(a, () => this.load(1)); break;
      case K_MOVB_STORE: this.access(1, true); this.store(1, () => this.byteReg(src)); break;
      case K_MOVB_RI: this.setByteReg(a, () => b.i32(imm)); break;
      case K_MOVB_MI: this.access(1, true); this.store(1, () => b.i32(imm)); break;
      case K_MOVW_RR: this.setWordReg(a, () => this.regB()); break;
      case K_MOVW_LOAD: this.access(2, false); this.setWordReg(a, () => this.load(2)); break;
      case K_MOVW_STORE: this.access(2, true); this.store(2, () => this.regB()); break;
      case K_MOVX_R: case K_MOVX_M: {
        // R_OP: bit 1 a word source, bit 0 sign-extended.
        const word = (op & 2) !== 0, shift = word ? 16 : 24;
        if (kind === K_MOVX_M) this.access(word ? 2 : 1, false);
        this.setA(() => {
          if (kind === K_MOVX_M) this.load(word ? 2 : 1);
          else if (word) { this.regB(); b.i32(0xffff).op(OP.i32And); } else this.byteReg(src);
          if ((op & 1) !== 0) b.i32(shift).op(OP.i32Shl).i32(shift).op(OP.i32ShrS);
        });
        break;
      }
      case K_PUSH: this.push(() => this.regB()); break;
      case K_PUSH_I: this.push(() => b.i32(imm)); break;
      case K_PUSH_M: this.access(4, false); this.load(4); b.set(L_T); this.push(() => b.get(L_T)); break;
      case K_POP:
        this.top(); b.set(L_V);
        this.setReg(4, () => { this.reg(4); b.i32(4).op(OP.i32Add); });
        this.setA(() => b.get(L_V)); // POP ESP: the loaded value wins
        break;
      case K_LEAVE:
        this.access(4, false, () => { this.reg(5); b.get(L_SEG + SS).op(OP.i32Add); });
        this.load(4); b.set(L_V);
        this.setReg(4, () => { this.reg(5); b.i32(4).op(OP.i32Add); });
        this.setReg(5, () => b.get(L_V));
        break;
      case K_INCDEC: case K_INCDEC_M: {
        // INC/DEC keep CF: its value now into L_CF.
        this.flag(CF_BIT); b.set(L_CF);
        if (kind === K_INCDEC_M) { this.access(4, true); this.load(4); } else this.regA();
        b.set(L_FA);
        b.i32(1).set(L_FB);
        b.get(L_FA).i32(op === 0 ? 1 : -1).op(OP.i32Add).set(L_FV);
        this.fk = op === 0 ? F_INC : F_DEC; this.fshift = 0; this.setMask = 0;
        if (kind === K_INCDEC_M) this.store(4, () => b.get(L_FV)); else this.setA(() => b.get(L_FV));
        break;
      }
      case K_NOT_R: this.setA(() => { this.regA(); b.i32(-1).op(OP.i32Xor); }); break;
      case K_NOT_M: this.access(4, true); this.store(4, () => { this.load(4); b.i32(-1).op(OP.i32Xor); }); break;
      case K_NEG_R: case K_NEG_M:
        if (kind === K_NEG_M) { this.access(4, true); this.load(4); } else this.regA();
        b.set(L_FB);
        b.i32(0).set(L_FA);
        b.i32(0).get(L_FB).op(OP.i32Sub).set(L_FV);
        this.fk = F_SUB; this.fshift = 0; this.setMask = 0;
        if (kind === K_NEG_M) this.store(4, () => b.get(L_FV)); else this.setA(() => b.get(L_FV));
        break;
      case K_BSWAP:
        this.regA(); b.set(L_V);
        this.setA(() => {
          b.get(L_V).i32(24).op(OP.i32ShrU);
          b.get(L_V).i32(8).op(OP.i32ShrU).i32(0xff00).op(OP.i32And).op(OP.i32Or);
          b.get(L_V).i32(8).op(OP.i32Shl).i32(0xff0000).op(OP.i32And).op(OP.i32Or);
          b.get(L_V).i32(24).op(OP.i32Shl).op(OP.i32Or);
        });
        break;
      case K_SHIFT: this.shift(op, imm, this.u8(i, R_BY_CL) !== 0); break;
      case K_ROT: this.rotate(op, imm, this.u8(i, R_BY_CL) !== 0); break;
      case K_HANDLER: this.handlerForm(); break;
      case K_ALU_RR: this.alu(false, op, () => this.regA(), () => this.regB(), (v) => this.setA(v)); break;
      case K_ALU_RI: this.alu(false, op, () => this.regA(), () => b.i32(imm), (v) => this.setA(v)); break;
      case K_ALU_LOAD: this.access(4, false); this.load(4); b.set(L_V); this.alu(false, op, () => this.regA(), () => b.get(L_V), (v) => this.setA(v)); break;
      case K_ALU_RMW: case K_ALU_MI:
        this.access(4, this.u8(i, R_STORE) !== 0);
        this.alu(false, op, () => this.load(4), kind === K_ALU_RMW ? () => this.regB() : () => b.i32(imm), (v) => this.store(4, v));
        break;
      case K_BALU_RR: this.alu(true, op, () => this.byteReg(a), () => this.byteReg(src), (v) => this.setByteReg(a, v)); break;
      case K_BALU_RI: this.alu(true, op, () => this.byteReg(a), () => b.i32(imm), (v) => this.setByteReg(a, v)); break;
      case K_BALU_LOAD: this.access(1, false); this.load(1); b.set(L_V); this.alu(true, op, () => this.byteReg(a), () => b.get(L_V), (v) => this.setByteReg(a, v)); break;
      case K_BALU_MI: case K_BALU_RMW:
        this.access(1, this.u8(i, R_STORE) !== 0);
        this.alu(true, op, () => this.load(1), kind === K_BALU_RMW ? () => this.byteReg(src) : () => b.i32(imm), (v) => this.store(1, v));
        break;
      case K_SETCC_R: this.condition(op); b.set(L_V); this.setByteReg(a, () => b.get(L_V)); break;
      case K_SETCC_M: this.access(1, true); this.condition(op); b.set(L_V); this.store(1, () => b.get(L_V)); break;
      case K_CMOV_R: case K_CMOV_M:
        if (kind === K_CMOV_M) { this.access(4, false); this.load(4); } else this.regB();
        b.set(L_V);
        this.condition(op);
        b.if(); this.setA(() => b.get(L_V)); b.end();
        break;
      case K_IMUL_R: case K_IMUL_M: case K_MUL_R: case K_MUL_M: this.multiply(kind, op, imm); break;
      // Followed transfers (blocks.ts buildBlock) go on at the next slot: a Jcc followed when taken
      // leaves when it is not, a followed RET leaves when it does not return where the block's CALL
      // said.
      case K_JCC: {
        const to = next + imm;
        this.condition(op);
        if (this.followed(i)) {
          b.op(OP.i32Eqz).if(); this.depth++; this.exitTo(next, i + 1); this.depth--; b.end();
          break;
        }
        b.if(); this.depth++;
        this.exitTo(to, i + 1);
        this.depth--; b.end();
        break;
      }
      case K_JMP: if (!this.followed(i)) this.exitTo(next + imm, i + 1); break;
      case K_CALL:
        this.push(() => this.eip(next));
        if (!this.followed(i)) this.exitTo(next + imm, i + 1);
        break;
      case K_RET:
        this.top(); b.set(L_T);
        this.setReg(4, () => { this.reg(4); b.i32(4 + imm).op(OP.i32Add); });
        if (this.followed(i)) {
          b.get(L_T); this.eip(this.offset(i + 1)); b.op(OP.i32Ne);
          b.if(); this.depth++; this.returnTo(i + 1); this.depth--; b.end();
          break;
        }
        this.returnTo(i + 1);
        break;
      default: this.handlerCall(); // (SHLD/SHRD, DIV, CMPXCHG: the interpreter's own forms, not written out here)
    }
  }

  /** `a OP source` (R_OP's operation), the lazy state left in fa/fb/fv; bytes in the top byte (as the interpreter's alu()). */
  private alu(byte: boolean, op: number, a: () => void, source: () => void, store: (v: () => void) => void): void {
    const b = this.b, carry = op === ALU_ADC || op === ALU_SBB;
    if (carry) { this.flag(CF_BIT); b.set(L_CIN); }
    a(); if (byte) b.i32(24).op(OP.i32Shl); b.set(L_FA);
    source(); if (byte) b.i32(24).op(OP.i32Shl); b.set(L_FB);
    b.get(L_FA).get(L_FB).op(ALU_CODE[op]!);
    if (carry) { b.get(L_CIN); if (byte) b.i32(24).op(OP.i32Shl); b.op(op === ALU_ADC ? OP.i32Add : OP.i32Sub); }
    b.set(L_FV);
    this.fk = op === ALU_ADC ? F_ADC : op === ALU_SBB ? F_SBB : this.u8(this.i, R_FK);
    this.fshift = byte ? 24 : 0;
    this.setMask = 0;
    if (this.u8(this.i, R_STORE) !== 0) store(() => { b.get(L_FV); if (byte) b.i32(24).op(OP.i32ShrU); });
  }
  /**
   * The shift count into L_T: the constant, or CL masked to 5 bits, where a count of 0 (which leaves
   * the flags as they were, so the flag state here would not be known) stops the block before the instruction.
   */
  private shiftCount(byCl: boolean, imm: number): void {
    const b = this.b;
    if (!byCl) { b.i32(imm & 31).set(L_T); return; }
    this.reg(1); b.i32(31).op(OP.i32And).tee(L_T).op(OP.i32Eqz);
    b.if(); this.depth++; this.bail(BAIL_UNSUPPORTED); this.depth--; b.end();
  }
  /** A K_HANDLER slot: the forms a translation runs itself (ownForm()), else its handler. */
  private handlerForm(): void {
    const b = this.b, c = this.c, d = this.start + this.i, m = c.dRm[d]!, reg = (m >> 3) & 7, form = ownForm(c, d);
    switch (form) {
      case OWN_WORD_SHIFT: this.shiftWord(reg === 6 ? 4 : reg, m & 7, wordShiftCount(c, d)); return;
      case OWN_BIT_TEST: {
        // BT r/m32, imm8: CF = the bit (the immediate wraps within the dword), the rest as they were.
        const n = c.dImm[d]! & 31;
        if (m >= 0xc0) this.reg(m & 7);
        else { this.access(4, false, () => this.slotAddress(d)); this.load(4); }
        if (n !== 0) b.i32(n).op(OP.i32ShrU);
        b.i32(1).op(OP.i32And).set(L_T);
        b.get(L_SET_BITS).i32(~CF).op(OP.i32And).get(L_T).op(OP.i32Or).set(L_SET_BITS);
        this.setMask |= CF;
        return;
      }
      case OWN_WORD_TEST: // TEST r16, r16: the operands in the top halves, as the dword rules want them
        this.reg(m & 7); b.i32(16).op(OP.i32Shl).set(L_FA);
        this.reg(reg); b.i32(16).op(OP.i32Shl).set(L_FB);
        b.get(L_FA).get(L_FB).op(OP.i32And).set(L_FV);
        this.fk = F_LOGIC; this.fshift = 16; this.setMask = 0;
        return;
      case OWN_X87_OTHER: this.quietHandlerCall(); return;
      case OWN_FILL: this.fill(this.c.dExt[d] === 0 ? 1 : 4); return;
      case OWN_FLAGS_FROM_AH: // SAHF: SF, ZF, AF, PF and CF from AH, OF as it was; all six set outright from then on
        this.flag(OF_BIT); b.i32(OF_BIT).op(OP.i32Shl);
        this.reg(0); b.i32(8).op(OP.i32ShrU).i32(SF | ZF | AF | PF | CF).op(OP.i32And).op(OP.i32Or);
        b.set(L_SET_BITS);
        this.fk = F_NONE; this.fshift = 0; this.setMask = ARITH;
        return;
      case OWN_JUMP: // JMP r/m32 (CS is flat here: no limit check)
        if (m >= 0xc0) this.reg(m & 7);
        else { this.access(4, false, () => this.slotAddress(d)); this.load(4); }
        b.set(L_T);
        this.leave(() => this.retired(this.i + 1), () => b.get(L_T));
        return;
      default:
        if (form >= OWN_X87_LOAD64 && form <= OWN_X87_INTEGER) this.x87(form, d, m); else this.handlerCall();
    }
  }
  /**
   * An x87 instruction the region runs itself (wasm/x87-code.ts) in its plain case; otherwise (CR0.EM
   * or TS, a pending exception, a value that needs rounding or raises, a full or empty stack) its
   * handler, which changes no general register or flag, runs it (quietHandlerCall()). A memory
   * operand that is not plain RAM stops the region before the instruction, as every access does.
   */
  private x87(form: number, d: number, m: number): void {
    const b = this.b, reg = (m >> 3) & 7, seg = this.c.dSeg[d]!, ext = this.c.dExt[d]!, fop = (ext << 8) | m, eip = (): void => this.eip(this.off);
    // Locals: the double's high and low words, TOP or the physical register, the exponent.
    const hi = L_V, lo = L_T, p = L_IDX, e = L_TV;
    b.block(); b.block(); this.depth += 2;
    if (form >= OWN_X87_ARITH) this.x87OnDoubles(form, d, m, ext);
    switch (form) {
      case OWN_X87_ARITH: case OWN_X87_COMPARE: case OWN_X87_EXCHANGE: case OWN_X87_LOAD_REG: case OWN_X87_CONSTANT: case OWN_X87_SIGN: case OWN_X87_INTEGER:
        if (m < 0xc0) notePointers(b, eip, fop, L_LIN, seg); else noteInstruction(b, eip, fop);
        break;
      case OWN_X87_LOAD64:
        x87Blocked(b); b.brIf(0);
        this.access(8, false, () => this.slotAddress(d));
        b.get(L_P).mem(OP.i32Load, 0, this.ramBase).set(lo);
        b.get(L_P).mem(OP.i32Load, 0, this.ramBase + 4).set(hi);
        x87LoadDoubleRefused(b, hi, lo, p, e); b.brIf(0);
        x87PushDouble(b, hi, lo, p, e);
        notePointers(b, eip, fop, L_LIN, seg);
        break;
      case OWN_X87_STORE64:
        x87Blocked(b); b.brIf(0);
        this.access(8, true, () => this.slotAddress(d));
        x87StoreDoubleRefused(b, hi, lo, p, e); b.brIf(0);
        x87DoubleWords(b, hi, lo, p, e);
        b.get(L_P).get(lo).mem(OP.i32Store, 0, this.ramBase);
        b.get(L_P).get(hi).mem(OP.i32Store, 0, this.ramBase + 4);
        notePointers(b, eip, fop, L_LIN, seg);
        x87AfterStore(b, p, reg === 3);
        break;
      case OWN_X87_STORE_REG:
        x87Blocked(b); b.brIf(0);
        x87StoreRegisterRefused(b, p); b.brIf(0);
        x87StoreRegister(b, m & 7, reg === 3, p, e);
        noteInstruction(b, eip, fop);
        break;
      default: // FNSTSW AX: only #NM stops it (a control instruction: no pending-exception check, no pointers); its handler then always faults.
        x87Disabled(b); b.brIf(0);
        this.setWordReg(HOST.regs, () => x87StatusWord(b));
    }
    b.br(1);
    this.depth--; b.end();
    this.quietHandlerCall();
    this.depth--; b.end();
  }
  /**
   * REP STOSB or REP STOSD (`size` 1 or 4) with 32-bit addressing, in the plain case: DF clear
   * (HOST.direction), ECX elements within the page of ES:EDI, which is plain RAM (the write's TLB
   * lookup, as for any store; else the region stops before it), and for STOSD an EAX whose four
   * bytes are the same (memset's): a `memory.fill`, EDI past it, ECX 0. Anything else calls the
   * handler.
   */
  private fill(size: number): void {
    const b = this.b, shift = size === 4 ? 2 : 0;
    b.block(); b.block(); this.depth += 2;
    b.i32(0).mem(OP.i32Load, 2, HOST.direction).brIf(0);
    if (size === 4) { this.reg(0); this.reg(0); b.i32(0xff).op(OP.i32And).i32(0x01010101).op(OP.i32Mul).op(OP.i32Ne).brIf(0); }
    // Not past the page: ECX at most a page's elements, and EDI's offset in its page plus the bytes at most 4,096.
    this.reg(1); b.i32(4096 >> shift).op(OP.i32GtU).brIf(0);
    this.reg(7); b.get(L_SEG + ES).op(OP.i32Add).i32(4095).op(OP.i32And);
    this.reg(1); if (shift !== 0) b.i32(shift).op(OP.i32Shl);
    b.op(OP.i32Add).i32(4096).op(OP.i32GtU).brIf(0);
    this.access(1, true, () => { this.reg(7); b.get(L_SEG + ES).op(OP.i32Add); });
    b.get(L_P).i32(this.ramBase).op(OP.i32Add);
    this.reg(0); b.i32(0xff).op(OP.i32And);
    this.reg(1); if (shift !== 0) b.i32(shift).op(OP.i32Shl);
    b.memoryFill();
    this.setReg(7, () => { this.reg(7); this.reg(1); if (shift !== 0) b.i32(shift).op(OP.i32Shl); b.op(OP.i32Add); });
    this.setReg(1, () => b.i32(0));
    b.br(1);
    this.depth--; b.end();
    this.handlerCall();
    this.depth--; b.end();
  }
  /**
   * The x87 instructions on doubles (x87Form(), wasm/x87-code.ts) but their pointers: each refuses
   * (a branch out of the block it is written in, to the handler call) before it changes anything
   * unless it is the plain case. ST(0) is X and the other operand Y, as Fpu.binary has them.
   */
  private x87OnDoubles(form: number, d: number, m: number, ext: number): void {
    const b = this.b, reg = (m >> 3) & 7, i = m & 7, memory = m < 0xc0;
    // i32 locals: ST(0)'s physical register (or the new TOP), the other's, three scratch.
    const p = L_IDX, q = L_TV, s0 = L_V, s1 = L_T, s2 = L_P;
    x87Blocked(b); b.brIf(0);
    /** Y (L_FY) from the memory operand: a single with D8, a double with DC. */
    const memoryOperand = (): void => {
      if (ext === 0) {
        this.access(4, false, () => this.slotAddress(d)); this.load(4); b.set(s0);
        x87MemorySingleRefused(b, s0, L_FY);
      } else {
        this.access(8, false, () => this.slotAddress(d));
        b.get(L_P).mem(OP.i32Load, 0, this.ramBase).set(s1);
        b.get(L_P).mem(OP.i32Load, 0, this.ramBase + 4).set(s0);
        x87MemoryDoubleRefused(b, s0, s1, L_FY, q);
      }
      b.brIf(0);
    };
    const registerValue = (st: number, phys: number, into: number): void => {
      x87Physical(b, st, phys);
      x87RegisterDoubleRefused(b, phys, into, s0, s1, s2); b.brIf(0);
    };
    switch (form) {
      case OWN_X87_ARITH: {
        x87RoundingRefused(b); b.brIf(0);
        if (memory) memoryOperand(); else registerValue(i, q, L_FY);
        registerValue(0, p, L_FX);
        if (reg === 4) b.get(L_FY).op(OP.f64Neg).set(L_FY);
        if (reg === 5) b.get(L_FX).op(OP.f64Neg).set(L_FX);
        if (reg === 1) x87ProductInexact(b, L_FX, L_FY, L_FR, L_FT, L_FU); else x87SumInexact(b, L_FX, L_FY, L_FR, L_FT);
        b.brIf(0);
        // D8 and memory operands write ST(0); DC and DE with a register, ST(i) (DE pops).
        x87SetDouble(b, ext === 0 || memory ? p : q, L_FR, s0, s1, s2);
        x87Finish(b, ext === 6, s0);
        return;
      }
      case OWN_X87_COMPARE: {
        const pops = ext === 2 || ext === 6 ? 2 : ext === 1 ? 0 : ext === 5 ? reg - 4 : reg - 2;
        if (ext === 1) b.f64(0).set(L_FY);
        else if (memory) memoryOperand();
        else registerValue(ext === 2 || ext === 6 ? 1 : i, q, L_FY);
        registerValue(0, p, L_FX);
        x87CompareDoubles(b, L_FX, L_FY, pops, s0);
        return;
      }
      case OWN_X87_EXCHANGE:
        x87Physical(b, 0, p); x87Physical(b, i, q);
        physEmpty(b, p); physEmpty(b, q); b.op(OP.i32Or).brIf(0);
        x87Swap(b, p, q, s0);
        x87Finish(b, false, s0);
        return;
      case OWN_X87_LOAD_REG:
        x87Physical(b, i, q);
        physEmpty(b, q); x87PushRefused(b, p); b.op(OP.i32Or).brIf(0);
        x87Push(b, p, () => x87CopyRegister(b, q, p));
        return;
      case OWN_X87_CONSTANT:
        x87PushRefused(b, p); b.brIf(0);
        b.f64(m === 0xe8 ? 1 : 0).set(L_FR);
        x87Push(b, p, () => x87SetDouble(b, p, L_FR, s0, s1, s2));
        return;
      case OWN_X87_SIGN:
        x87Physical(b, 0, p);
        physEmpty(b, p); b.brIf(0);
        x87Sign(b, p, m === 0xe1);
        x87Finish(b, false, s0);
        return;
      default: // FILD m32int (DB /0), m16int (DF /0)
        this.access(ext === 3 ? 4 : 2, false, () => this.slotAddress(d));
        b.get(L_P).mem(ext === 3 ? OP.i32Load : OP.i32Load16s, 0, this.ramBase).set(s0);
        b.get(s0).op(OP.f64ConvertI32S).set(L_FR);
        x87PushRefused(b, p); b.brIf(0);
        x87Push(b, p, () => x87SetDouble(b, p, L_FR, s0, s1, s2));
    }
  }
  /**
   * The handler of an instruction that changes no general register, segment or flag unless it
   * faults or moves EIP (x87 instructions but FNSTSW AX and FCOMI): as handlerCall(), with the
   * registers and flags handed over, but nothing read back after it, so the flag state and the
   * registers in locals go on as they were.
   */
  private quietHandlerCall(): void {
    this.callImport(null);
  }
  /**
   * The handler import for the current instruction, with the registers and the flag state handed
   * over; when it says the region must stop (-1), returns. `want`: ask it for EFLAGS (into P_FLAGS),
   * or not; null: its result is not kept (a quiet call).
   */
  private callImport(want: boolean | null): void {
    const b = this.b, i = this.i;
    this.storeRegisters();
    this.storeFlags();
    this.here();
    // (Offsets from the member's EIP, as the exit record's X_BLOCK_EIP says.)
    const base = this.offset(0);
    b.i32(i).i32(this.off - base).i32(this.off - base + this.u8(i, R_LEN)).i32(want === true ? 1 : 0).call(F_HANDLER);
    if (want !== null) b.tee(P_FLAGS);
    b.i32(-1).op(OP.i32Eq);
    b.if(); this.retired(i + 1); b.i32(IN_CORE).op(OP.i32Or).op(OP.return); b.end();
  }
  /** Pushes the linear address of slot `d`'s memory operand from its decoded fields (32-bit addressing; ownForm()). */
  private slotAddress(d: number): void {
    const b = this.b, c = this.c, f = c.dEa[d]!, base = f & 15, index = (f >> 4) & 15;
    b.i32(c.dDisp[d]!);
    if (base !== EA_NONE) { this.reg(base); b.op(OP.i32Add); }
    if (index !== EA_NONE) {
      this.reg(index);
      if (((f >> 8) & 3) !== 0) b.i32((f >> 8) & 3).op(OP.i32Shl);
      b.op(OP.i32Add);
    }
    b.get(L_SEG + c.dSeg[d]!).op(OP.i32Add);
  }
  /**
   * SHL/SHR/SAR (R_OP 4, 5, 7) of a dword register by shiftCount(), as the interpreter's shift():
   * setLazyShift(), OF in fa, CF in fb.
   */
  private shift(op: number, imm: number, byCl: boolean): void {
    if (byCl) { this.shiftByCl(op); return; }
    this.shiftCount(false, imm);
    this.shiftOperation(op);
    this.fk = F_SHIFT; this.fshift = 0; this.setMask = 0;
    this.setA(() => this.b.get(L_FV));
  }
  /**
   * SHL/SHR/SAR of a dword register by CL. A count of 0 changes nothing, flags included, so the flag
   * state after it is not known when translating: both ways leave all six arithmetic flags set
   * outright in L_SET_BITS, from the shift (AF 0, as the interpreter's lazy shift gives it) or, for
   * 0, from the handler, which hands back EFLAGS as they were. (Stopping the block there instead
   * sent the Debian kernel's XZ decompressor, which shifts by a CL of 0 in its hottest loop, back
   * to the block loop about 1.4 M times.)
   */
  private shiftByCl(op: number): void {
    const b = this.b;
    this.reg(1); b.i32(31).op(OP.i32And).tee(L_T).op(OP.i32Eqz);
    b.if(); this.depth++;
    this.callImport(true);
    b.get(P_FLAGS).set(L_SET_BITS);
    b.else();
    this.shiftOperation(op);
    this.setA(() => b.get(L_FV));
    // CF from L_FB, OF from L_FA, ZF, SF and PF from L_FV (as flag() reads a shift's state).
    b.get(L_FB);
    b.get(L_FV).i32(0xff).op(OP.i32And).op(OP.i32Popcnt).i32(1).op(OP.i32And).op(OP.i32Eqz).i32(PF_BIT).op(OP.i32Shl).op(OP.i32Or);
    b.get(L_FV).op(OP.i32Eqz).i32(ZF_BIT).op(OP.i32Shl).op(OP.i32Or);
    b.get(L_FV).i32(31).op(OP.i32ShrU).i32(SF_BIT).op(OP.i32Shl).op(OP.i32Or);
    b.get(L_FA).i32(OF_BIT).op(OP.i32Shl).op(OP.i32Or);
    b.set(L_SET_BITS);
    b.end(); this.depth--;
    this.fk = F_NONE; this.fshift = 0; this.setMask = ARITH;
  }
  /** The shift (R_OP 4 SHL, 5 SHR, 7 SAR) of register operand A by L_T (1-31): OF into L_FA, CF into L_FB, the result into L_FV. */
  private shiftOperation(op: number): void {
    const b = this.b;
    this.regA(); b.set(L_FA);
    if (op === 4) {
      b.get(L_FA).i32(32).get(L_T).op(OP.i32Sub).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_FB);
      b.get(L_FA).get(L_T).op(OP.i32Shl).set(L_FV);
      b.get(L_FV).i32(31).op(OP.i32ShrU).get(L_FB).op(OP.i32Xor).set(L_FA);
    } else if (op === 5) {
      b.get(L_FA).get(L_T).i32(1).op(OP.i32Sub).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_FB);
      b.get(L_FA).get(L_T).op(OP.i32ShrU).set(L_FV);
      b.get(L_FA).i32(31).op(OP.i32ShrU).set(L_FA);
    } else {
      b.get(L_FA).get(L_T).i32(1).op(OP.i32Sub).op(OP.i32ShrS).i32(1).op(OP.i32And).set(L_FB);
      b.get(L_FA).get(L_T).op(OP.i32ShrS).set(L_FV);
      b.i32(0).set(L_FA);
    }
  }
  /**
   * SHL/SHR/SAR (ModRM.reg 4, 5, 7) of the 16-bit register `r` by a constant `t` of 1 to 15 (as the
   * core's shiftOp() with a word): the result is kept in the top half, so the dword rules give ZF and SF.
   */
  private shiftWord(op: number, r: number, t: number): void {
    const b = this.b;
    this.reg(r); b.i32(0xffff).op(OP.i32And).set(L_V);
    if (op === 4) {
      b.get(L_V).i32(16 - t).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_FB);
      b.get(L_V).i32(16 + t).op(OP.i32Shl).set(L_FV);
      b.get(L_FV).i32(31).op(OP.i32ShrU).get(L_FB).op(OP.i32Xor).set(L_FA);
    } else if (op === 5) {
      b.get(L_V).i32(t - 1).op(OP.i32ShrU).i32(1).op(OP.i32And).set(L_FB);
      b.get(L_V).i32(16 - t).op(OP.i32Shl).i32(-65536).op(OP.i32And).set(L_FV);
      b.get(L_V).i32(15).op(OP.i32ShrU).set(L_FA);
    } else {
      b.get(L_V).i32(16).op(OP.i32Shl).i32(16).op(OP.i32ShrS).i32(t - 1).op(OP.i32ShrS).i32(1).op(OP.i32And).set(L_FB);
      b.get(L_V).i32(16).op(OP.i32Shl).i32(t).op(OP.i32ShrS).i32(-65536).op(OP.i32And).set(L_FV);
      b.i32(0).set(L_FA);
    }
    this.fk = F_SHIFT; this.fshift = 16; this.setMask = 0;
    this.setReg(r, () => { this.reg(r); b.i32(-65536).op(OP.i32And).get(L_FV).i32(16).op(OP.i32ShrU).op(OP.i32Or); });
  }
  /** ROL/ROR (R_OP 0, 1) by shiftCount(): CF and OF set outright, the rest as they were. */
  private rotate(op: number, imm: number, byCl: boolean): void {
    const b = this.b;
    this.shiftCount(byCl, imm);
    this.regA();
    if (op !== 0) {
      b.get(L_T).op(OP.i32Rotr).set(L_V);
      b.get(L_V).i32(31).op(OP.i32ShrU).set(L_T);
      b.get(L_T).get(L_V).i32(30).op(OP.i32ShrU).i32(1).op(OP.i32And).op(OP.i32Xor).set(L_P);
    } else {
      b.get(L_T).op(OP.i32Rotl).set(L_V);
      b.get(L_V).i32(1).op(OP.i32And).set(L_T);
      b.get(L_V).i32(31).op(OP.i32ShrU).get(L_T).op(OP.i32Xor).set(L_P);
    }
    this.setMask = CF | OF;
    b.get(L_T).get(L_P).i32(OF_BIT).op(OP.i32Shl).op(OP.i32Or).set(L_SET_BITS);
    this.setA(() => b.get(L_V));
  }
  /** MUL r/m32 (EDX:EAX = EAX times it, unsigned) and IMUL reg, r/m (R_OP 1: times the immediate). */
  private multiply(kind: number, op: number, imm: number): void {
    const b = this.b, memory = kind === K_IMUL_M || kind === K_MUL_M;
    if (memory) { this.access(4, false); this.load(4); } else this.regB();
    if (kind === K_MUL_R || kind === K_MUL_M) {
      b.set(L_V);
      this.reg(0); b.set(L_FA);
      b.get(L_FA).op(OP.i64ExtendI32U).get(L_V).op(OP.i64ExtendI32U).op(OP.i64Mul).i64(32).op(OP.i64ShrU).op(OP.i32WrapI64).set(L_P);
      b.get(L_FA).get(L_V).op(OP.i32Mul).set(L_FV);
      this.setReg(0, () => b.get(L_FV));
      this.setReg(2, () => b.get(L_P));
      b.i32(CF | OF).i32(0).get(L_P).op(OP.select).set(L_SET_BITS);
      this.logicWithCarryAndOverflow();
      return;
    }
    b.set(L_FA);
    if (op !== 0) b.i32(imm); else this.regA();
    b.set(L_FB);
    b.get(L_FA).get(L_FB).op(OP.i32Mul).set(L_FV);
    imulOverflow(b, L_FA, L_FB, L_FV, L_P, L_SET_BITS);
    this.logicWithCarryAndOverflow();
    this.setA(() => b.get(L_FV));
  }
}

const H_GRP2 = HANDLERS.indexOf(grp2Ev), H_BIT_IMM = HANDLERS.indexOf(btEvIb), H_JMP_EV = HANDLERS.indexOf(jmpEv), H_TEST = HANDLERS.indexOf(testEvGv);
const H_ESC = HANDLERS.indexOf(esc), H_SAHF = HANDLERS.indexOf(sahf), H_STOS = HANDLERS.indexOf(stos);
/** Forms of handler slots that a translation runs itself (ownForm()), or calls quietly (OWN_X87_OTHER). */
const OWN_NONE = 0, OWN_WORD_SHIFT = 1, OWN_BIT_TEST = 2, OWN_JUMP = 3, OWN_WORD_TEST = 4, OWN_FLAGS_FROM_AH = 17, OWN_FILL = 18;
const OWN_X87_LOAD64 = 5, OWN_X87_STORE64 = 6, OWN_X87_STORE_REG = 7, OWN_X87_STATUS_AX = 8, OWN_X87_OTHER = 9;
const OWN_X87_ARITH = 10, OWN_X87_COMPARE = 11, OWN_X87_EXCHANGE = 12, OWN_X87_LOAD_REG = 13, OWN_X87_CONSTANT = 14, OWN_X87_SIGN = 15, OWN_X87_INTEGER = 16;
/**
 * Which of the instructions the interpreter leaves to their handlers slot `d` is if a translation
 * runs it itself: SHL/SHR/SAR of a 16-bit register by a constant (wordShiftCount()), TEST r16, r16
 * (busybox awk's loop runs `test cx, cx` 10 times an iteration), BT r/m32, imm8 (busybox awk tests
 * a bit of each value's type this way, 24 M times in the benchmark loop), JMP r/m32 (its switch
 * statements), SAHF, REP STOSB/STOSD (fill()) and the x87 forms of x87Form(); memory operands with
 * 32-bit addressing.
 */
function ownForm(c: CpuCore, d: number): number {
  const h = c.dH[d]!, m = c.dRm[d]!, o32 = (c.dPfx[d]! & P_O32) !== 0;
  if (h === H_ESC) return x87Form(c, d);
  if (h === H_SAHF) return OWN_FLAGS_FROM_AH;
  // REP STOSB and REP STOSD with 32-bit addressing (memset).
  if (h === H_STOS && (c.dPfx[d]! & (P_REP | P_REPNE)) !== 0 && (c.dPfx[d]! & P_A32) !== 0 && (c.dExt[d] === 0 || o32)) return OWN_FILL;
  if (h === H_GRP2) return wordShiftCount(c, d) !== 0 ? OWN_WORD_SHIFT : OWN_NONE;
  if (h === H_TEST && !o32 && m >= 0xc0) return OWN_WORD_TEST;
  if (!o32 || (m < 0xc0 && (c.dEa[d]! & EA_A16) !== 0)) return OWN_NONE;
  if (h === H_BIT_IMM && ((m >> 3) & 7) === 4) return OWN_BIT_TEST;
  if (h === H_JMP_EV) return OWN_JUMP;
  return OWN_NONE;
}
/**
 * The x87 slot `d` as ownForm() says, when the built-in FPU's registers are in the host area (and a
 * memory operand has 32-bit addressing): FLD m64real, FST/FSTP m64real, FST/FSTP ST(i), FNSTSW AX,
 * and on doubles (wasm/x87-code.ts): FADD/FMUL/FSUB/FSUBR with m32real, m64real or ST(i) (the
 * popping forms too), FCOM/FCOMP with m32real, m64real or ST(i), FUCOM/FUCOMP ST(i), FUCOMPP,
 * FCOMPP, FTST, FXCH ST(i), FLD ST(i), FLD1, FLDZ, FCHS, FABS and FILD m16int/m32int; any other
 * but FCOMI (which sets EFLAGS) a quiet handler call.
 */
function x87Form(c: CpuCore, d: number): number {
  const m = c.dRm[d]!, ext = c.dExt[d]!, reg = (m >> 3) & 7, memory = m < 0xc0;
  if (ext === 7 && m === 0xe0) return fpuInHostArea(c) ? OWN_X87_STATUS_AX : OWN_NONE;
  if ((ext === 3 || ext === 7) && m >= 0xc0 && (reg === 5 || reg === 6)) return OWN_NONE;
  if (!fpuInHostArea(c) || (memory && (c.dEa[d]! & EA_A16) !== 0)) return OWN_X87_OTHER;
  if (ext === 5 && (reg === 0 || reg === 2 || reg === 3)) {
    if (!memory) return reg === 0 ? OWN_X87_OTHER : OWN_X87_STORE_REG;
    return reg === 0 ? OWN_X87_LOAD64 : OWN_X87_STORE64;
  }
  const arith = reg === 0 || reg === 1 || reg === 4 || reg === 5, compare = reg === 2 || reg === 3;
  if (ext === 0 || (ext === 4 && memory)) return arith ? OWN_X87_ARITH : compare ? OWN_X87_COMPARE : OWN_X87_OTHER;
  if ((ext === 4 || ext === 6) && arith && !memory) return OWN_X87_ARITH;
  if ((ext === 5 && m >= 0xe0 && m < 0xf0) || (ext === 2 && m === 0xe9) || (ext === 6 && m === 0xd9) || (ext === 1 && m === 0xe4)) return OWN_X87_COMPARE;
  if (ext === 1 && m >= 0xc0 && m < 0xd0) return m < 0xc8 ? OWN_X87_LOAD_REG : OWN_X87_EXCHANGE;
  if (ext === 1 && (m === 0xe8 || m === 0xee)) return OWN_X87_CONSTANT;
  if (ext === 1 && (m === 0xe0 || m === 0xe1)) return OWN_X87_SIGN;
  if ((ext === 3 || ext === 7) && memory && reg === 0) return OWN_X87_INTEGER;
  return OWN_X87_OTHER;
}
/** Whether the CPU's FPU is the built-in one with its registers in the host area (where wasm/x87-code.ts reads them). */
function fpuInHostArea(c: CpuCore): boolean {
  const fpu = c.fpu, area = c.hostArea;
  return fpu instanceof Fpu && area !== null && fpu.registers.storage.buffer === area.buffer && fpu.registers.storage.byteOffset === area.byteOffset + HOST.fpu;
}
/** Whether slot `d` is a form ownForm() runs with a memory operand (for the segments a region uses). */
function ownMemoryForm(c: CpuCore, d: number): boolean {
  const form = ownForm(c, d);
  if (form === OWN_NONE || form === OWN_WORD_SHIFT || form === OWN_WORD_TEST || form === OWN_X87_OTHER || form === OWN_X87_STATUS_AX || form === OWN_FLAGS_FROM_AH || form === OWN_FILL) return false;
  return c.dRm[d]! < 0xc0;
}
/**
 * The shift count of slot `d` if it is an instruction the interpreter leaves to its handler but a
 * translation runs itself (a SHL/SHR/SAR of a 16-bit register by a constant from 1 to 15, as in the
 * range coder of Linux's XZ decompressor), else 0.
 */
function wordShiftCount(c: CpuCore, d: number): number {
  const m = c.dRm[d]!, reg = (m >> 3) & 7;
  if (c.dH[d] !== H_GRP2 || (c.dPfx[d]! & P_O32) !== 0 || m < 0xc0 || reg < 4 || c.dExt[d] === 2) return 0;
  const t = (c.dExt[d] === 1 ? 1 : c.dImm[d]!) & 31;
  return t <= 15 ? t : 0;
}

/**
 * Where a block's translation (`member`) goes when it leaves at a constant target, as offsets from
 * its first instruction (`targets`: a branch taken or, followed, not taken; a jump or call not
 * followed and where that call returns to; its fall-through unless it ends in a jump, call or
 * return), with the share of the block's runs guessed to go there (`shares`: a Jcc not followed
 * halves what goes on, a followed one was taken nearly always, a call's target and its return site
 * get all of it), and the return addresses alone (`returns`: a RET goes on there when that is a
 * member, BlockWriter.returnTo).
 */
function constantTargets(c: CpuCore, rec: Records, member: RegionMember): { targets: number[]; shares: number[]; returns: number[] } {
  const targets: number[] = [], shares: number[] = [], returns: number[] = [], { start, count } = member, first = c.dPhys[start]!;
  let kind = 0, share = 1;
  for (let i = 0; i < count; i++) {
    const d = start + i, r = d * WARM_RECORD, next = c.dPhys[d]! + c.dLen[d]! - first;
    kind = rec.u8[r + R_KIND]!;
    const followed = i < count - 1 && c.dPhys[d + 1] !== first + next;
    if (kind === K_JCC) {
      const left = share * (followed ? FOLLOWED_JCC_FALLS_THROUGH : 0.5);
      targets.push(followed ? next : next + rec.i32[(r + R_IMM) >> 2]!);
      shares.push(left);
      share -= left;
    } else if ((kind === K_JMP || kind === K_CALL) && !followed) {
      targets.push(next + rec.i32[(r + R_IMM) >> 2]!);
      shares.push(share);
    }
    if (kind === K_CALL && !followed) { targets.push(next); shares.push(share); returns.push(next); }
  }
  const last = start + count - 1;
  if (!member.stops && kind !== K_JMP && kind !== K_CALL && kind !== K_RET) {
    targets.push(c.dPhys[last]! + c.dLen[last]! - first);
    shares.push(share);
  }
  return { targets, shares, returns };
}
/** The share of a followed Jcc's runs guessed not to take it (it was followed because the block loop saw it taken nearly always). */
const FOLLOWED_JCC_FALLS_THROUGH = 0.1;

/** The block entry at physical `phys` (page generation and code size `genKey`) if it is translated, else -1 (blocks.ts findBlock: two ways). */
function translatedEntry(c: CpuCore, rec: Records, phys: number, genKey: number): number {
  for (let e = blockIndex(phys), way = 0; way < 2; way++, e ^= 1) {
    if (c.bTag[e] === phys && c.bGen[e] === genKey && c.bWarm[e] === WARM_READY && rec.i32[(c.bStart[e]! * WARM_RECORD + R_FN) >> 2] !== 0) return e;
  }
  return -1;
}

/** Which blocks a region has, where (a hash), and where it was made if it has blocks in other pages. */
function regionKey(members: readonly RegionMember[], origin: RegionOrigin): number {
  let key = members.length;
  for (const { start, count, base, far } of members) {
    key = Math.imul(key ^ start ^ (count << 20), 0x9e3779b1);
    key = Math.imul(key ^ base, 0x85ebca6b);
    if (far) key = Math.imul(key ^ origin.epoch ^ (origin.eip << 7), 0xc2b2ae35);
  }
  return key;
}

/**
 * How many of a block's records (slots `start`.. `start + count`) from the first a translation runs:
 * all but HLT (K_STOP), which the block loop stops on; what it does not write out it calls the handler of.
 */
function translatable(rec: Records, start: number, count: number): number {
  for (let i = 0; i < count; i++) {
    const kind = rec.u8[(start + i) * WARM_RECORD + R_KIND]!;
    if (kind === K_STOP) return i;
  }
  return count;
}
/**
 * A block whose instructions from the k-th on are not all translated is translated up to there when
 * at most this share of its runs went that far (the others left at a branch before it): a loop
 * whose way out runs a HLT or a system instruction. Where more runs reach it, each would stop there
 * and go on in the block loop, slower than the JavaScript compiler's block that calls its handler.
 */
const PREFIX_REACHED_SHARE = 0.1;

/**
 * A translation kept by physical address, for rebuilds of the same code within one fill of the
 * decoded pool (a rebuild's new slots hold the same instructions as the old ones it names):
 * the head's page generation, extent and layout, which members the region has (`region`, a hash
 * of their layouts), whether it needs EFLAGS passed in, and whether it was made with paging off
 * (`direct`: BlockWriter.direct).
 */
interface KeptTranslation {
  readonly genKey: number; readonly count: number; readonly layout: number; readonly fn: WebAssembly.ExportValue;
  readonly region: number; readonly entryFlags: boolean; readonly direct: boolean;
}
const KEPT_LIMIT = 16384;
/**
 * At most this many blocks, and instructions, in a region. V8's optimising compiler takes time that
 * grows faster than the function (register allocation over every local at every merge): on the awk
 * loop, regions of up to 32 blocks and 1,024 instructions went from block to block inside them for
 * all but 24 M of 226 M block runs but took 9 s of compiler threads, which the two cores share with
 * the guest (awk 8.4 s); 16 and 256 were no better, 4 and 64 left 90 M dispatches (6.7 s), 8 and 128
 * 74 M with little compiling (6.4-6.7 s, as the JavaScript compiled blocks).
 */
const REGION_MEMBERS = 8, REGION_INSTRUCTIONS = 128;

/** What a translation of a block takes: its member record (its first `count` records) and layout (what the build followed). */
interface Extent { readonly member: RegionMember; readonly layout: number }

/** The translations of one core: a table the dispatcher calls them through, filled from its start after each pool restart. */
export class HotTranslator {
  /** Functions by table index; the dispatcher's module imports it. */
  readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 1024 });
  private used = 0;
  private readonly kept = new Map<number, KeptTranslation>();

  /**
   * `readsFlags(b)`: the translation of block entry `b` reads EFLAGS it did not set (one of its
   * region's members does), so the dispatcher and the run loop must pass them.
   */
  constructor(private readonly c: CpuCore, private readonly memory: WebAssembly.Memory, private readonly rec: Records,
    private readonly callHandler: (i: number, offset: number, next: number, wantFlags: number) => number,
    private readonly readsFlags: (b: number) => void) {}

  /**
   * Block entry `b` (warm: the records of its `count` instructions are written, the first `linear`
   * of them the block loop's part; at linear `lin`) is hot: translate it, with the translated blocks
   * it reaches as its region, and name the translation in its first record. Returns whether it runs
   * translated now.
   */
  translate(b: number, count: number, linear: number, lin: number): boolean {
    const c = this.c, start = c.bStart[b]!, rec = this.rec, first = start * WARM_RECORD;
    if (rec.i32[(first + R_FN) >> 2] !== 0) return true;
    const head = this.extent(b, count, linear, 0, false);
    if (head === null) return false;
    const phys = c.bTag[b]!, genKey = c.bGen[b]!;
    const kept = this.kept.get(phys);
    let fn: WebAssembly.ExportValue, entryFlags: boolean;
    if (kept !== undefined && kept.genKey === genKey && kept.count === head.member.count && kept.layout === head.layout && kept.direct === compilesDirect(c)) ({ fn, entryFlags } = kept);
    else ({ fn, entryFlags } = this.translateRegion(b, head, lin));
    if (entryFlags) this.readsFlags(b);
    if (this.used === this.table.length) this.table.grow(this.table.length);
    this.table.set(this.used, fn as never);
    rec.i32[(first + R_FN) >> 2] = ++this.used;
    return true;
  }

  /**
   * Translated block entry `b` (at linear `lin`) is hot again (the dispatcher ran it CHAIN_LIMIT
   * times more): translate its region again if it now reaches translated blocks it did not have
   * (blocks that became hot after it), or if it was made in another fetch epoch or at another linear
   * address and has blocks in other pages.
   */
  translateAgain(b: number, count: number, linear: number, lin: number): void {
    const c = this.c, first = c.bStart[b]! * WARM_RECORD, index = this.rec.i32[(first + R_FN) >> 2]!;
    if (index === 0) return;
    const head = this.extent(b, count, linear, 0, false);
    if (head === null) return;
    const kept = this.kept.get(c.bTag[b]!);
    const origin = this.origin(lin), members = this.regionOf(b, head, lin);
    if (kept !== undefined && kept.region === regionKey(members, origin) && kept.direct === compilesDirect(c)) return;
    const { fn, entryFlags } = this.translateRegion(b, head, lin, members);
    if (entryFlags) this.readsFlags(b);
    this.table.set(index - 1, fn as never);
  }

  /** The head's EIP and the fetch epoch now, for a region whose head is at linear `lin`. */
  private origin(lin: number): RegionOrigin {
    return { eip: (lin - this.c.segBase[CS]!) | 0, epoch: this.c.fetchEpoch };
  }

  /** Translates the region of block entry `b` (its head `head`, at linear `lin`) and keeps it by the head's physical address. */
  private translateRegion(b: number, head: Extent, lin: number, members = this.regionOf(b, head, lin)): { fn: WebAssembly.ExportValue; entryFlags: boolean } {
    const c = this.c, ramBase = c.ram.byteOffset, origin = this.origin(lin);
    const scan = new BlockWriter(c, this.rec, members, origin, ramBase);
    scan.write();
    const writer = new BlockWriter(c, this.rec, members, origin, ramBase, scan.firstPass());
    writer.write();
    const bytes = wasmModule(this.memory.buffer.byteLength / 65536, [4], [{ params: PARAMS, locals: LOCALS, f64Locals: F64_LOCALS, body: writer.b, export: 'f' }]);
    const fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { memory: this.memory, f0: this.callHandler } }).exports['f']!;
    c.stats[CpuStat.BlocksTranslated]++;
    c.stats[CpuStat.RegionMembers] += members.length - 1;
    if (this.kept.size >= KEPT_LIMIT) this.kept.clear();
    const entryFlags = writer.entryFlags;
    this.kept.set(c.bTag[b]!, { genKey: c.bGen[b]!, count: head.member.count, layout: head.layout, fn, region: regionKey(members, origin), entryFlags, direct: compilesDirect(c) });
    return { fn, entryFlags };
  }

  /**
   * How much of warm block entry `b` (its `count` records written, the first `linear` of them the
   * block loop's part) a translation runs, or null if nothing; as a region member `base` bytes from
   * the head's EIP, `far` if in another page.
   */
  private extent(b: number, count: number, linear: number, base: number, far: boolean): Extent | null {
    const c = this.c, rec = this.rec, start = c.bStart[b]!;
    // All of a translation is in the block's first page: a followed transfer into another page ends
    // it (that page is not checked here; the JavaScript compiler's blocks check it at run time).
    const page = c.dPhys[start]! >>> 12;
    let k = translatable(rec, start, count), stops = k < count;
    for (let i = 1; i < k; i++) {
      if (c.dPhys[start + i]! >>> 12 !== page) { k = i; stops = false; break; }
    }
    // Where a followed part holds an instruction not translated, the translation ends with the block
    // loop's part (whose last instruction, the first followed transfer, then leaves).
    if (stops && k >= linear) { k = linear; stops = false; }
    if (k === 0) return null;
    // What a build followed is in its slots' addresses, which also tell a kept translation from another build's.
    let layout = 0;
    for (let i = 0; i < k; i++) layout = Math.imul(layout ^ c.dPhys[start + i]!, 0x9e3779b1);
    return { member: { start, count: k, linear, stops, base, far }, layout };
  }

  /**
   * The region of block entry `b` (at linear `lin`): it, then the translated blocks it reaches
   * through constant targets (taken and not-taken branches, jumps, calls, the fall-through), and
   * those they reach, the one control is guessed to reach most often first (constantTargets'
   * shares; on a tie, the one found first): breadth first left out the PIC thunk a function calls
   * and its return site in the awk loop, and the dispatcher went between them millions of times.
   * Blocks in other pages are found through the fetch translation cache (a page not in it is left
   * out) and their pages stamped with this epoch, so that an INVLPG of one starts a new epoch
   * (CpuCore.invalidateTlbPage).
   */
  private regionOf(b: number, head: Extent, lin: number): RegionMember[] {
    const c = this.c, rec = this.rec, cs32 = c.bGen[b]! & 1;
    const members = [head.member], seen = new Set([0]);
    // Candidates: offsets from the head's EIP and how often control is guessed to get there.
    const bases: number[] = [], weights: number[] = [];
    const reach = (from: RegionMember, weight: number): void => {
      const { targets, shares } = constantTargets(c, rec, from);
      for (let t = 0; t < targets.length; t++) {
        const base = from.base + targets[t]!;
        if (seen.has(base)) continue;
        seen.add(base);
        bases.push(base);
        weights.push(weight * shares[t]!);
      }
    };
    reach(head.member, 1);
    let instructions = head.member.count;
    while (members.length < REGION_MEMBERS && bases.length > 0) {
      let best = 0;
      for (let k = 1; k < bases.length; k++) if (weights[k]! > weights[best]!) best = k;
      const base = bases[best]!, weight = weights[best]!;
      bases.splice(best, 1);
      weights.splice(best, 1);
      const targetLin = (lin + base) | 0, far = ((targetLin ^ lin) & -4096) !== 0;
      const phys = cachedFetchPhys(c, targetLin);
      if (phys === -1) continue;
      const e = translatedEntry(c, rec, phys, (c.pageGen[phys >>> 12]! << 1) | cs32);
      if (e < 0) continue;
      const extent = this.extent(e, c.bCount[e]!, blockLoopPart(c, e), base, far);
      if (extent === null || instructions + extent.member.count > REGION_INSTRUCTIONS) continue;
      members.push(extent.member);
      instructions += extent.member.count;
      if (far) c.fetchStamp[targetLin >>> 12] = c.fetchEpoch;
      reach(extent.member, weight);
    }
    return members;
  }

  /**
   * Whether warm block entry `b` (its block-loop part's records written, `count` of them) may be
   * translated as far as its first instruction a translation does not run: all of it does, or at
   * most PREFIX_REACHED_SHARE of its runs went that far (CpuCore.dLast: block runs by the slot they ended at).
   */
  prefixAllowed(b: number, count: number): boolean {
    const c = this.c, start = c.bStart[b]!, k = translatable(this.rec, start, count);
    if (k === count) return true;
    let reached = 0, all = 0;
    for (let i = 0; i < count; i++) {
      const ended = c.dLast[start + i]!;
      all += ended;
      if (i >= k) reached += ended;
    }
    return k > 0 && reached <= PREFIX_REACHED_SHARE * all;
  }

  /**
   * The decoded pool starts over: no record names a translation any more (their slots are rewritten
   * before they are warm again), and no kept translation is taken back. A translation names its
   * members' slots as constants (the handlers it calls and where the block loop goes on after a
   * bail), and those slots now hold other code; a Debian boot that rebuilt a block after a restart
   * and took its kept translation ran a MOV r/m32, imm32's handler where an RDTSC was (an oops).
   */
  poolRestarted(): void {
    this.used = 0;
    this.kept.clear();
  }
}
