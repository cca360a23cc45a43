import { CS, DB, DF, DFV, IF, PFV, RF, TF } from './constants.js';
import { applyExitFlags, BAIL, clearExitFlags, IN_CORE, WARM_NONE, WARM_NOTHING, X_BLOCK_DONE, X_BLOCK_SLOT, X_EIP } from './wasm/warm-blocks.js';
import { blockIndex, buildBlock, CONDITIONAL_JCC, findBlock } from './blocks.js';
import { COMPILED_CACHE_SIZE, compileBlock, compilesDirect, type CompiledBlock } from './block-compiler.js';
import { CROSS_BASE, CROSS_SIZE, DCACHE_SIZE, FAULT, fetchIndex, JUMP_CACHE_BITS, SCRATCH_SLOT, type CpuCore } from './core.js';
import { decodeInto, HANDLERS, lastDecodeCrossedPage, lastDecodeNextRamPage } from './decoder/decode.js';
import { CpuInternalError } from './errors.js';
import { countException, deliver, EV_EXCEPTION, EV_EXTERNAL, isContributory } from './system/interrupts.js';
import { CpuStat } from './stats.js';
import { instructionsUntilOverflow, reportOverflow } from './system/pmu.js';
import type { StopReason } from './types.js';

/** DR6 bits: single step (BS). B0-B3 are bits 0-3. */
const DR6_BS = 0x4000;

/**
 * Instructions executed between interrupt checks (a taken interrupt waits at most this long).
 * Whatever can raise an interrupt line inside a run (port I/O, MMIO writes, STI, POPF, IRET...)
 * ends the chunk at once, so the bound only matters for interrupt sources that change on their
 * own; 1024 rather than 256 took 5 % off the Debian boot (fewer interrupt polls), and 4096 rather
 * than 1024 another 2-3 % off the awk loop and the Debian boot's multi-precision phase (one-block
 * loops return to the run loop at every chunk).
 */
const CHUNK = 4096;
/** The most instructions one chunk may run (its exact budget `h`), so the counts stay int32. */
const MAX_CHUNK_BUDGET = 0x40000000;
const DMASK = DCACHE_SIZE - 1;

/** What run() stopped on, for `Cpu.lastException`. */
export const stopInfo = { vector: -1, error: -1 };

/**
 * Execute up to `budget` instructions. Guest faults are thrown as the FAULT sentinel by handlers and
 * delivered here; any other exception is an interpreter bug and becomes a CpuInternalError.
 */
export function run(c: CpuCore, budget: number): StopReason {
  const endAt = c.retired + budget;
  c.stopRequested = false;
  // Exceptions retire no instruction; count them too so a handler that faults on its own first
  // instruction (a loop on real hardware as well) cannot keep run() from returning.
  let events = 0;
  let stop: StopReason;
  for (;;) {
    try {
      // With an interrupting performance counter set up, run in pieces that end where a counter
      // can wrap, so its overflow is reported right after the wrapping instruction (src/system/pmu.ts).
      // The block loop itself never looks at the counters; it only ends a piece marked stale.
      let pieceEnd = endAt;
      if (c.pmu.armed) pieceEnd = Math.min(endAt, c.retired + instructionsUntilOverflow(c));
      else c.pmu.pieceStale = false;
      stop = loop(c, pieceEnd);
      if (stop !== 'budget' || c.retired >= endAt || c.stopRequested) break;
      reportOverflow(c);
    } catch (e) {
      if (e !== FAULT) throw internalError(c, e);
      if (c.countMix) countBlockMix(c);
      const r = handleFault(c);
      if (r !== null) { stop = r; break; }
      if (++events >= budget) { stop = 'budget'; break; }
    }
  }
  if (c.pmu.armed || c.pmu.interruptPending) reportOverflow(c);
  return stop;
}

function loop(c: CpuCore, endAt: number): StopReason {
  for (;;) {
    if (c.retired >= endAt || c.pmu.pieceStale === true || c.stopRequested === true) return 'budget';
    const inhibit = c.shadow === true;
    c.shadow = false;
    if (!inhibit) {
      if (c.nmiPending === true && c.nmiBlocked === false) {
        c.nmiPending = false;
        c.nmiBlocked = true;
        c.halted = false;
        c.curEip = c.eip;
        deliver(c, 2, -1, EV_EXTERNAL);
      } else if ((c.flags & IF) !== 0 && c.interrupts !== null && c.interrupts.hasInterrupt()) {
        const vector = c.interrupts.acknowledge() & 0xff;
        c.halted = false;
        c.curEip = c.eip;
        deliver(c, vector, -1, EV_EXTERNAL);
      }
    }
    if (c.halted === true) return 'halt';
    const singleStep = (c.flags & TF) !== 0;
    c.chunkBreak = false;
    if (inhibit || singleStep || c.debugArmed === true || (c.flags & RF) !== 0) {
      if (c.bpExec !== 0 || (c.flags & RF) !== 0) instructionBreakpoints(c);
      c.bpHit = 0;
      step(c);
      // Debug traps of this instruction (data/I/O breakpoints, single step) are one #DB after it.
      let status = c.bpHit;
      if (singleStep && !c.halted) status |= DR6_BS;
      if (status !== 0) {
        c.bpHit = 0;
        c.dr[6] |= status;
        c.curEip = c.eip;
        deliver(c, DB, -1, EV_EXCEPTION);
      }
    } else {
      // The retired count passes 2^31 in a long run, so `endAt - c.retired` is a double; a chunk
      // gets at most 2^30 of it (the loop comes back for the rest), so that runChunk counts in
      // int32 and not in doubles around every block (a block dispatch micro-benchmark: 6 % faster).
      const rest = endAt - c.retired, left = rest < MAX_CHUNK_BUDGET ? rest | 0 : MAX_CHUNK_BUDGET;
      (c.chunkRunner ??= chunkRunner(c))(left < CHUNK ? left : CHUNK, left);
    }
  }
}

/**
 * Execute about `n` instructions block by block, never more than `h` (the caller's exact budget).
 * `n` only spaces out the interrupt checks, so a block that does not fit in what is left of `n`
 * still runs whole (compiled) when it fits in `h`: cutting it at `n` sent a quarter of the runs of
 * 64-instruction blocks to the slow path (Debian boot 68 s -> 52 s). Everything hoisted here is
 * constant within a chunk: CS, mode and privilege changes set chunkBreak, which ends the chunk.
 * Each core gets its own closure over itself (CpuCore.chunkRunner), so V8 can treat the core as a
 * constant, as it does for compiled blocks: a block dispatch took 10.9 ns instead of 12.3 in the
 * micro-benchmark, the Debian boot 22.2 s instead of 22.8-23.8.
 */
function chunkRunner(c: CpuCore): (n: number, h: number) => void {
  return function runChunk(n: number, h: number): void {
    const handlers = HANDLERS;
    const csBase = c.segBase[CS], ipMask = c.ipMask;
    // A block runs without per-instruction limit checks when all its bytes are within CS.limit
    // and below the IP wrap-around (16-bit code); otherwise its instructions go one at a time.
    const maxEnd = Math.min(c.segLimit[CS], ipMask >>> 0);
    const bTag = c.bTag, bGen = c.bGen, bStart = c.bStart, bCount = c.bCount, bBytes = c.bBytes, bLinear = c.bLinear;
    const dLen = c.dLen, dH = c.dH, dLast = c.dLast, jumps = c.jumpCache, jumpFns = c.jumpFns;
    // The instruction mix is counted per block run, so when off it costs two branches per block.
    const mix = c.countMix === true;
    const bWarm = c.bWarm, warm = c.warm, warmReadsFlags = warm?.readsFlags, exit = warm?.exit, runWarm = warm?.run, direction = warm?.direction;
    while (n > 0) {
      let eip = c.eip;
      // Before the fetch: a #PF on fetching this instruction must report this EIP, not the last one's.
      c.curEip = eip;
      const lin = (csBase + eip) | 0;
      const j = jumpIndex(lin);
      const shape = jumps[j + 2]!, jumpCount = shape >>> 24;
      if (jumps[j] === lin && jumps[j + 1] === c.fetchEpoch && jumpCount <= h) {
        // A compiled block found from this address in this epoch: fetch page, physical lookup and
        // CS-limit test were done when the entry was stored and nothing since has changed them.
        const start = shape & 0xffffff;
        if (mix) { c.mixBlock = start; c.mixRetired = c.retired; }
        // With the mix counted, a one-block loop runs once per call (the mix walks the block's slots once).
        const done = jumpFns[j >> 2]!(c, mix ? jumpCount : n > jumpCount ? n : jumpCount, start);
        if (mix) countBlockMix(c);
        if (c.chunkBreak === true) return;
        n -= done;
        h -= done;
        continue;
      }
      if ((lin & -4096) !== c.fetchLin) refillFetch(c, lin);
      const phys = (c.fetchPhys + (lin & 4095)) | 0;
      let b = blockIndex(phys);
      if (bTag[b] !== phys || bGen[b] !== c.fetchGenKey) b = findBlock(c, b, lin, phys);
      let count = bCount[b]!;
      if (count === 0 || (eip >>> 0) + bBytes[b]! - 1 > maxEnd) {
        step(c);
        n--; h--;
        if (c.chunkBreak === true) return;
        continue;
      }
      if (c.bFn[b] === null) {
        if (count <= h && c.compileBlocks) {
          const runs = ++c.bRuns[b];
          // A warm block the dispatcher ran CHAIN_LIMIT times without the run loop seeing it is hot too.
          if (runs === c.compileThreshold || (bWarm[b]! >= 0 && warm!.chainedOut(bStart[b]!))) {
            // Translated into WebAssembly (CpuOptions.wasmHotBlocks), it stays a warm block that the
            // dispatcher runs through its translation; else it is compiled into JavaScript.
            if (warm !== null && warm.translating && translateHot(c, b, lin, phys)) {
              c.bRuns[b] = 0;
              // Translating rebuilt it with what it follows: its translation runs all of that.
              count = bCount[b]!;
            } else {
              compileHot(c, b, lin, phys, ipMask);
              continue; // the block was rebuilt: dispatch it again
            }
          }
          // (Run counts survive rebuilds of the same address, so >=: a rebuilt block is queued again.)
          if (warm !== null && runs >= warm.threshold && bWarm[b] === WARM_NONE && warm.enqueue(b)) continue; // warm now: dispatch it again
        }
      } else {
        jumps[j] = lin;
        jumps[j + 1] = c.fetchEpoch;
        c.fetchStamp[lin >>> 12] = c.fetchEpoch;
        jumps[j + 2] = (count << 24) | bStart[b]!;
        jumpFns[j >> 2] = c.bFn[b];
        if (count <= h) continue; // found in the jump cache now
      }
      const start = bStart[b]!;
      let d = start;
      if (mix) { c.mixBlock = start; c.mixRetired = c.retired; }
      if (bWarm[b]! >= 0 && count <= h && !mix) {
        // A warm block (wasm/warm-blocks.ts: the interpreter runs the block loop's part of it), and
        // the warm blocks after it that the dispatcher finds in its jump cache: the lazy flags they
        // left come back in the exit record.
        // (The first block runs whole when it fits in h, as a compiled block does: n only spaces out
        // the interrupt checks. A translation stops at its entry when the budget is below its count.)
        const reads = warmReadsFlags![b] !== 0, retired = c.retired, budget = Math.min(n > count ? n : count, h, 0xffff);
        const linear = bLinear[b]! < count ? bLinear[b]! : count;
        warm!.remember(lin, c.fetchEpoch, start, warm!.runLength(start, linear, count), reads);
        c.fetchStamp[lin >>> 12] = c.fetchEpoch;
        warm!.entryRetired = retired;
        c.stats[CpuStat.WarmCalls]++;
        exit![X_BLOCK_SLOT] = start;
        clearExitFlags(exit!);
        direction![0] = c.flags & DF;
        const result = runWarm!(start, linear, eip, c.userKind, reads ? c.getFlags() : 0, c.ss32 === true ? 1 : 0, c.fetchEpoch, budget);
        const done = result & 0xffff;
        if ((result & IN_CORE) === 0) {
          c.eip = exit![X_EIP]!;
          applyExitFlags(c, exit!);
        }
        c.retired = retired + done;
        // The last block run and how many of its instructions ran.
        const before = exit![X_BLOCK_DONE]!, lastSlot = exit![X_BLOCK_SLOT]!;
        if ((result & BAIL) === 0 || before !== 0) {
          // (A block the dispatcher went on to and that stopped early goes on from the run loop at its EIP.)
          if ((result & BAIL) === 0) dLast[lastSlot + done - before - 1]++;
          n -= done;
          h -= done;
          if (c.chunkBreak === true) return;
          continue;
        }
        // Stopped before an instruction (an access that is not plain RAM...): the rest of the block runs here.
        d = start + done;
        eip = c.eip;
        c.curEip = eip;
      }
      // c.curEip is this instruction's EIP whenever a handler runs (a fault restarts it); the block is
      // left as soon as an instruction moves EIP off the fall-through (taken branch, REP yield) or
      // asks for attention (chunkBreak: mode change, code write, TLB flush, STI...). Only compiled
      // code goes past the block's first followed call, jump or return (bLinear, blocks.ts).
      const linear = bLinear[b]!, end = start + (linear < h ? linear : h);
      for (;;) {
        eip = (eip + dLen[d]) & ipMask;
        c.eip = eip;
        handlers[dH[d]](c, d);
        c.retired++;
        if (++d === end || c.eip !== eip || c.chunkBreak === true) break;
        c.curEip = eip;
      }
      dLast[d - 1]++;
      if (mix) countBlockMix(c);
      if (c.chunkBreak === true) return;
      n -= d - start;
      h -= d - start;
    }
  };
}

/**
 * Compile the hot block in entry `b` (at linear `lin`, physical `phys`), built again first so that
 * it follows calls, returns and forward jumps (blocks.ts buildBlock).
 */
function compileHot(c: CpuCore, b: number, lin: number, phys: number, ipMask: number): void {
  const taken = buildFollowing(c, b, lin, phys);
  const count = c.bCount[b]!;
  // The followed build may have found its function kept in compiledCache already (with its own mask).
  if (count === 0 || c.bFn[b] !== null) return;
  const compiled = c.bFn[b] = compileBlock(c, c.bStart[b]!, count, ipMask);
  if (compiled !== null) rememberCompiled(c, phys, count, compiled, taken.lo, taken.hi);
}

/**
 * Build the block in entry `b` again so that it follows calls, returns, forward jumps and the Jccs
 * its block-loop runs took nearly always (blocks.ts buildBlock); returns the mask of those Jccs.
 */
function buildFollowing(c: CpuCore, b: number, lin: number, phys: number): { lo: number; hi: number } {
  const taken = takenBranches(c, c.bStart[b]!, c.bLinear[b]!);
  buildBlock(c, b, lin, phys, c.fetchGenKey, true, taken.lo, taken.hi);
  return taken;
}

/**
 * Translate the hot block in entry `b` into WebAssembly (CpuOptions.wasmHotBlocks), built again
 * first so that it follows calls, returns and forward jumps as a compiled block does, with the
 * records of all its instructions; one translated already (hot again after CHAIN_LIMIT dispatcher
 * runs) may get its region made again (WarmTier.translateAgain). Returns whether it runs translated
 * now (if not, the run loop compiles it into JavaScript).
 */
function translateHot(c: CpuCore, b: number, lin: number, phys: number): boolean {
  if (c.warm!.translateAgain(b, lin)) return true;
  if (c.bWarm[b] === WARM_NOTHING || !c.warm!.mayTranslate(b)) return false;
  buildFollowing(c, b, lin, phys);
  if (c.bCount[b] === 0 || c.bFn[b] !== null) return false;
  return c.warm!.enqueue(b, true) && c.warm!.translate(b, lin);
}

/**
 * A Jcc of the block loop's part of a block (`linear` instructions from pool slot `start`) that
 * took at least this share of the runs that reached it, and was reached at least MIN_REACHED times,
 * is followed when the block is compiled (blocks.ts buildBlock): the compiled block goes on at its
 * target and leaves when it is not taken. In busybox awk 46 M of the 65 M taken Jccs were at sites
 * taken 90 % of the time or more, nearly all of them forward within the page.
 */
const TAKEN_SHARE = 0.9;
const MIN_REACHED = 64;
/** The mask (bit i of 64, in two halves) of the Jccs that the followed build follows and the kept function is compiled with. */
function takenBranches(c: CpuCore, start: number, linear: number): { lo: number; hi: number } {
  let lo = 0, hi = 0;
  // Runs that reached instruction i: those that ended at i or after it. A Jcc to a later
  // instruction of the block is left alone: compiled, it skips them inside the block either way.
  let reached = 0, end = 0;
  for (let i = 0; i < linear; i++) end += c.dLen[start + i]!;
  for (let i = linear - 1, after = end; i >= 0; i--) {
    const d = start + i, ended = c.dLast[d]!;
    reached += ended;
    const jumpsOut = after + c.dImm[d]! >= end;
    after -= c.dLen[d]!;
    if (i === linear - 1 || CONDITIONAL_JCC[c.dH[d]!] === 0 || !jumpsOut) continue;
    if (reached >= MIN_REACHED && ended >= TAKEN_SHARE * reached) {
      if (i < 32) lo |= 1 << i; else hi |= 1 << (i - 32);
    }
  }
  return { lo, hi };
}

/** Keep a newly compiled block for later rebuilds of the same code (core.ts compiledCache). */
function rememberCompiled(c: CpuCore, phys: number, count: number, fn: CompiledBlock, takenLo: number, takenHi: number): void {
  if (c.compiledCache.size >= COMPILED_CACHE_SIZE) c.compiledCache.clear();
  c.compiledCache.set(phys, { genKey: c.fetchGenKey, count, fn, takenLo, takenHi, direct: compilesDirect(c) });
}

/**
 * Add the classes of the instructions the current block retired (from `c.mixBlock`, as many as
 * `c.retired` advanced) to the instruction mix: after a block, and for the part before a fault.
 */
function countBlockMix(c: CpuCore): void {
  const from = c.mixBlock;
  if (from < 0) return;
  c.mixBlock = -1;
  const mix = c.mix, dClass = c.dClass;
  for (let d = from, end = from + (c.retired - c.mixRetired); d < end; d++) mix[dClass[d]]++;
}

/**
 * Instruction breakpoints are faults, checked before the instruction at EIP is fetched: #DB with
 * DR6.Bn, EIP = the instruction. EFLAGS.RF suppresses them for one instruction and is cleared here,
 * at the start of that instruction after the check (SDM 17.3.1.1), so a handler's IRET with RF set
 * in the image resumes past the breakpoint once.
 */
function instructionBreakpoints(c: CpuCore): void {
  c.curEip = c.eip;
  if ((c.flags & RF) !== 0) {
    c.flags &= ~RF;
    return;
  }
  const lin = (c.segBase[CS] + c.eip) >>> 0;
  let hit = 0;
  for (let n = 0; n < 4; n++) {
    if ((c.bpExec & (1 << n)) !== 0 && c.bpFirst[n] === lin) hit |= 1 << n;
  }
  if (hit === 0) return;
  c.dr[6] |= hit;
  c.bpFault = true;
  c.fault(DB, -1);
}

/** Execute one instruction through the per-instruction decoded cache (with its own CS-limit check). */
function step(c: CpuCore): void {
  const eip = c.eip;
  c.curEip = eip;
  const lin = (c.segBase[CS] + eip) | 0;
  if ((lin & -4096) !== c.fetchLin) refillFetch(c, lin);
  const phys = (c.fetchPhys + (lin & 4095)) | 0;
  let d = (phys ^ (phys >>> 13)) & DMASK;
  if (c.dTag[d] !== phys || c.dGen[d] !== c.fetchGenKey) d = decodeSlot(c, d, lin, phys, c.cs32 === true ? 1 : 0);
  const len = c.dLen[d];
  if ((eip >>> 0) + len - 1 > c.segLimit[CS]) c.gp(0);
  c.eip = (eip + len) & c.ipMask;
  HANDLERS[c.dH[d]](c, d);
  c.retired++;
  if (c.countMix === true) c.mix[c.dClass[d]]++;
}

/** Jump-cache entry (index of its first Int32) for linear address `lin`. */
function jumpIndex(lin: number): number {
  return ((lin ^ (lin >>> JUMP_CACHE_BITS)) & ((1 << JUMP_CACHE_BITS) - 1)) << 2;
}

function refillFetch(c: CpuCore, lin: number): void {
  const i = fetchIndex(lin, c.userKind), tag = (lin & -4096) | 1;
  let frame: number;
  if (c.fetchTag[i] === tag) frame = c.fetchFrame[i]!;
  else {
    frame = (c.translateFetch(lin) - (lin & 4095)) | 0;
    c.fetchTag[i] = tag;
    c.fetchFrame[i] = frame;
  }
  const phys = frame + (lin & 4095);
  c.fetchLin = lin & -4096;
  c.fetchPhys = frame;
  // Valid decoded slots of this page carry this value; a code write to any page forces a refill.
  c.fetchGenKey = (c.pageGen[(phys >>> 12) & 0xfffff] << 1) | (c.cs32 === true ? 1 : 0);
}

function decodeSlot(c: CpuCore, d: number, lin: number, phys: number, key: number): number {
  const page = phys >>> 12;
  if ((phys & 4095) > 4096 - 15) {
    const kept = crossingSlot(c, lin, phys);
    if (kept >= 0) return kept;
  }
  c.stats[CpuStat.DecodedInstructions]++;
  decodeInto(c, SCRATCH_SLOT, lin, phys);
  if (lastDecodeCrossedPage()) return keepCrossing(c, lin, phys, key);
  c.codeDecodedFrom(page);
  copySlot(c, SCRATCH_SLOT, d);
  c.dTag[d] = phys;
  c.dGen[d] = (c.pageGen[page] << 1) | key;
  return d;
}
/**
 * Instructions whose bytes run into the next page are kept apart (core.ts CROSS_BASE), each valid
 * while its first page is unchanged (as for the direct-mapped slots) and the next linear page still
 * maps, through the fetch translation cache, to the same physical page, also unchanged. Decoding
 * such an instruction each time it ran, with a walk of the page tables for its second page, made
 * a loop around one ten times slower (the Debian kernel's init runs one 585,000 times).
 */
function crossingSlot(c: CpuCore, lin: number, phys: number): number {
  const x = crossIndex(phys);
  if (c.crossTag[x] !== phys || c.crossGen[x] !== c.fetchGenKey) return -1;
  const next = c.crossNextFrame[x]!, lin2 = ((lin & -4096) + 4096) | 0, i = fetchIndex(lin2, c.userKind);
  if (c.fetchTag[i] !== (lin2 | 1) || c.fetchFrame[i] !== next || c.pageGen[next >>> 12] !== c.crossNextGen[x]) return -1;
  return CROSS_BASE + x;
}
/** Keep the page-crossing instruction just decoded into SCRATCH_SLOT (see crossingSlot); returns its slot. */
function keepCrossing(c: CpuCore, lin: number, phys: number, key: number): number {
  const next = lastDecodeNextRamPage(), page = phys >>> 12;
  // Like blocks (blocks.ts), only RAM below 2 GiB: that is where code writes are seen.
  if (next < 0 || next >= 0x80000000 || page >= 0x80000 || !c.memory.isRamPage(page)) return SCRATCH_SLOT;
  const x = crossIndex(phys), slot = CROSS_BASE + x;
  c.codeDecodedFrom(page);
  c.codeDecodedFrom(next >>> 12);
  copySlot(c, SCRATCH_SLOT, slot);
  c.crossTag[x] = phys;
  c.crossGen[x] = (c.pageGen[page]! << 1) | key;
  c.crossNextFrame[x] = next;
  c.crossNextGen[x] = c.pageGen[next >>> 12]!;
  // The decoder has just translated the next page for this fetch: the lookup finds it there.
  const lin2 = ((lin & -4096) + 4096) | 0, i = fetchIndex(lin2, c.userKind);
  c.fetchTag[i] = lin2 | 1;
  c.fetchFrame[i] = next;
  return slot;
}
function crossIndex(phys: number): number {
  return (phys ^ (phys >>> 10)) & (CROSS_SIZE - 1);
}
function copySlot(c: CpuCore, from: number, to: number): void {
  c.dH[to] = c.dH[from]; c.dLen[to] = c.dLen[from]; c.dRm[to] = c.dRm[from]; c.dPfx[to] = c.dPfx[from];
  c.dSeg[to] = c.dSeg[from]; c.dEa[to] = c.dEa[from]; c.dDisp[to] = c.dDisp[from]; c.dImm[to] = c.dImm[from];
  c.dImm2[to] = c.dImm2[from]; c.dExt[to] = c.dExt[from]; c.dClass[to] = c.dClass[from];
}

/** Deliver the pending fault (with the double/triple fault rules). Returns a stop reason or null to continue. */
function handleFault(c: CpuCore): StopReason | null {
  let vector = c.pendingVector, error = c.pendingError;
  // Faults restart the instruction; a trap stop (INT3/INTO/INT1 under stopOnException) keeps EIP after it.
  const trap = c.pendingTrap;
  if (trap) c.pendingTrap = false; else c.eip = c.curEip;
  c.shadow = false;
  c.bpHit = 0; // the faulting instruction did not complete: its data breakpoints are not reported
  const instructionBreakpoint = c.bpFault;
  c.bpFault = false;
  if (c.stopOnException) {
    // Not delivered, so deliver() does not see it: count it here.
    countException(c, vector);
    stopInfo.vector = vector; stopInfo.error = error;
    return 'exception';
  }
  // Fault-class exceptions (except instruction breakpoints) push RF = 1, so returning to the
  // faulting instruction does not hit its instruction breakpoint again (SDM 17.3.1.1).
  if (!trap && !instructionBreakpoint) c.flags |= RF;
  for (;;) {
    try {
      deliver(c, vector, error, EV_EXCEPTION);
      return null;
    } catch (e) {
      if (e !== FAULT) throw internalError(c, e);
      const nv = c.pendingVector, ne = c.pendingError;
      c.eip = c.curEip;
      if (vector === DFV) {
        stopInfo.vector = nv; stopInfo.error = ne;
        c.halted = true;
        return 'shutdown';
      }
      if ((isContributory(vector) && isContributory(nv)) || (vector === PFV && (nv === PFV || isContributory(nv)))) {
        vector = DFV; error = 0;
      } else {
        vector = nv; error = ne;
      }
    }
  }
}

function internalError(c: CpuCore, cause: unknown): CpuInternalError {
  const bytes: number[] = [];
  try {
    for (let i = 0; i < 15; i++) bytes.push(c.read8k((c.segBase[CS] + c.curEip + i) | 0, 0));
  } catch {
    // the bytes are best effort
  }
  return new CpuInternalError(c.curEip, Uint8Array.from(bytes), cause);
}
