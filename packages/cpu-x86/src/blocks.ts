import { P_O32 } from './constants.js';
import { BCACHE_SIZE, cachedFetchPhys, POOL_BASE, POOL_SIZE, type CpuCore } from './core.js';
import { decodeInPage, ENDS_BLOCK, HANDLERS } from './decoder/decode.js';
import { callRel, JCC, jmpRel, loop, retNear } from './exec/control.js';
import { CpuStat } from './stats.js';
import { compilesDirect } from './block-compiler.js';
import { WARM_NONE } from './wasm/warm-records.js';

/** Longest block: bounds decoding work past a rarely-taken side exit and the pool use of one block. */
export const MAX_BLOCK = 64;
const BMASK = BCACHE_SIZE - 1;

/** Block-cache entry for the instruction at physical address `phys`. */
export function blockIndex(phys: number): number {
  return (phys ^ (phys >>> 12)) & BMASK;
}

/**
 * The block-cache entry for the block at physical `phys` (linear `lin`), built there if neither way
 * of its set holds it: the cache is two-way set associative, entry `b` (from {@link blockIndex})
 * and its neighbour `b ^ 1`, because with one way two hot blocks whose addresses share an index
 * evicted each other on every other run. Neither ever reached the compile threshold (their run
 * counts start over with each build): on the Debian boot, pairs of blocks evicted each other
 * thousands of times each and ran a tenth of the block loop's instructions.
 * A miss replaces the colder of the two: an empty entry, else the one without a compiled function,
 * else the one with the lower run count; except when the block missing is the one the last miss
 * in that entry put out (bEvicted): then the block that replaced it runs along with it, and the
 * other way goes. Without that exception a long-lived block (compiled, or with a high count) held
 * one way for good, and two blocks of a loop that shared the other way took turns in it: each
 * rebuilt on every run and, its count starting over each time, never colder than the first (in the
 * Debian boot one pair in mul_n was rebuilt 7,800 times each, while rb_insert_color held the other
 * way).
 */
export function findBlock(c: CpuCore, b: number, lin: number, phys: number): number {
  const gen = c.fetchGenKey, other = b ^ 1;
  if (c.bTag[other] === phys && c.bGen[other] === gen) return other;
  // The home entry `b` is the one the run loop probes first, so a block goes there unless it holds
  // another live block. (Choosing the neighbour whenever it was empty put almost every block there:
  // 247 M of the awk loop's 243 M block runs took this slow path for a second probe.)
  let victim = b;
  const home = c.bTag[b];
  if (home !== phys && home !== -1) {
    if (c.bTag[other] === phys || c.bTag[other] === -1 || c.bEvicted[b] === phys) victim = other;
    else if (c.bEvicted[other] !== phys && colder(c, other, b)) victim = other;
  }
  const evicted = c.bTag[victim]!;
  if (evicted !== -1 && evicted !== phys) c.bEvicted[victim] = evicted;
  buildBlock(c, victim, lin, phys, gen);
  return victim;
}
function colder(c: CpuCore, x: number, y: number): boolean {
  const xCompiled = c.bFn[x] !== null, yCompiled = c.bFn[y] !== null;
  if (xCompiled !== yCompiled) return yCompiled;
  return c.bRuns[x]! < c.bRuns[y]!;
}

/**
 * Decode the block starting at linear `lin` / physical `phys` into consecutive pool slots and record
 * it in block entry `b` with generation `gen`. A block is a straight-line run of instructions that
 * ends after an unconditional transfer, at the end of its page or after MAX_BLOCK instructions;
 * conditional branches do not end it (the run loop leaves a block whenever an instruction changes
 * EIP away from the fall-through).
 *
 * A block about to be compiled is built again with `follow` (and so is one whose compiled function
 * is kept in compiledCache): in 32-bit code a near CALL or a forward JMP to a constant target, and a
 * RET to the return address of a CALL earlier in the same block, then do not end it either:
 * decoding follows them into the target's run ("followed" transfers), into another page too when
 * the fetch translation cache knows where that page is (it is never walked here, so building never
 * faults). In busybox awk more than half of the block changes were a call or a return between
 * pages. Only compiled code goes past the first followed transfer (the block loop stops at
 * `bLinear` instructions); it checks that each other page still maps to the same physical page
 * with the same generation, and that a return goes where the block expects, before it runs on
 * (block-compiler.ts). Cold blocks are not built that way: decoding past the first transfer of
 * every block decoded 5 times as many instructions during a boot.
 *
 * `takenLo`/`takenHi` (bit i of a 64-bit mask in two halves) mark the Jccs that a followed build
 * follows when taken (interpreter.ts takenBranches); a build that gets a kept function back uses
 * the mask kept with it instead.
 *
 * A block of 0 instructions (the first one crosses the page, or the page is not RAM) means
 * "execute this address one instruction at a time".
 */
export function buildBlock(c: CpuCore, b: number, lin: number, phys: number, gen: number, follow = false, takenLo = 0, takenHi = 0): void {
  const page = phys >>> 12;
  c.stats[CpuStat.BlocksBuilt]++;
  c.bTag[b] = phys;
  c.bGen[b] = gen;
  c.bCount[b] = 0;
  c.bBytes[b] = 0;
  c.bLinear[b] = 0;
  // The run count survives a rebuild of the same address (a pool flush drops every block, and the
  // Debian boot flushes 57 times): blocks that ran fewer than compileThreshold times per flush never
  // compiled, and ran 10 % of that boot's instructions in the block loop. A count that reached the
  // threshold starts over (the code there changed, or it was compiled and its function is cached).
  if (c.bLastTag[b] !== phys || c.bRuns[b] >= c.compileThreshold) c.bRuns[b] = 0;
  c.bLastTag[b] = phys;
  c.bFn[b] = null;
  c.bWarm[b] = WARM_NONE;
  if (!c.memory.isRamPage(page) || page >= 0x80000) return;
  if (c.poolNext + MAX_BLOCK > POOL_BASE + POOL_SIZE) {
    // Pool exhausted: every block goes (this one is rebuilt right below), and the jump cache's
    // entries with it (their compiled functions run the slots that are about to be reused).
    c.bTag.fill(-1);
    c.advanceFetchEpoch();
    c.warm?.poolRestarted();
    c.bTag[b] = phys;
    c.poolNext = POOL_BASE;
  }
  const start = c.poolNext;
  // A compiled function kept for this address (compiledCache) was compiled from the followed build,
  // with the taken branches it followed then.
  const cached = c.compiledCache.get(phys);
  const reuse = cached !== undefined && cached.genKey === gen && cached.direct === compilesDirect(c);
  if (reuse) {
    takenLo = cached.takenLo;
    takenHi = cached.takenHi;
  }
  follow = (follow || reuse) && c.cs32 === true;
  let n = 0, linear = 0, bytes = 0;
  let runLin = lin, runPhys = phys, off = 0, calls = 0;
  runs = 0;
  while (n < MAX_BLOCK) {
    const d = start + n;
    if (!decodeInPage(c, d, (runLin + off) | 0, runPhys + off)) break;
    c.dPhys[d] = runPhys + off;
    c.dPageGen[d] = c.pageGen[(runPhys + off) >>> 12]!;
    c.dLast[d] = 0;
    const len = c.dLen[d]!;
    off += len;
    n++;
    // The run that decoding goes on into, if this instruction is a transfer that is followed.
    let to = NOT_FOLLOWED, toPhys = NOT_FOLLOWED;
    if (CONDITIONAL[c.dH[d]] !== 0) {
      // A Jcc that the block loop saw taken nearly always (takenLo/Hi) is followed to its target
      // when it jumps forward within the block's first page and nothing was followed before it
      // (the counts are of the block loop's part of the block); any other one ends following.
      const i = n - 1, marked = i < 32 ? (takenLo >>> i) & 1 : (takenHi >>> (i - 32)) & 1;
      const target = (runLin + off + c.dImm[d]!) | 0;
      if (follow && marked !== 0 && linear === 0 && n < MAX_BLOCK && CONDITIONAL_JCC[c.dH[d]] !== 0 &&
          (c.dPfx[d] & P_O32) !== 0 && c.dImm[d]! > 0 && ((target ^ lin) & -4096) === 0) {
        toPhys = visitRun(c, runLin, off, target, lin, phys);
        if (toPhys !== NOT_FOLLOWED) to = target;
      }
      if (to === NOT_FOLLOWED) follow = false;
    } else if (ENDS_BLOCK[c.dH[d]] !== 0) {
      const next = (runLin + off) | 0;
      const target = follow ? followedTarget(c, d, next, calls) : NOT_FOLLOWED;
      if (target === NOT_FOLLOWED || n === MAX_BLOCK) break;
      toPhys = visitRun(c, runLin, off, target, lin, phys);
      if (toPhys === NOT_FOLLOWED) break;
      to = target;
      if (c.dH[d] === H_CALL_REL) {
        callAt[calls] = n;
        callStack[calls++] = next;
      } else if (c.dH[d] === H_RET_NEAR) {
        calls--;
      }
    }
    if (to !== NOT_FOLLOWED) {
      if (linear === 0) {
        linear = n;
        bytes = off;
      }
      runLin = to;
      runPhys = toPhys;
      off = 0;
      continue;
    }
    if (off >= 4096 - (runPhys & 4095)) break;
  }
  c.stats[CpuStat.DecodedInstructions] += n;
  // A followed call must return within the block: a block that ends inside the callee ran its
  // instructions in a copy that other callers do not share (measured slower on the Debian boot).
  if (calls > 0) n = callAt[0]!;
  if (n === 0) return;
  c.codeDecodedFrom(page);
  c.poolNext = start + n;
  c.bStart[b] = start;
  c.bCount[b] = n;
  c.bLinear[b] = linear === 0 ? n : linear;
  c.bBytes[b] = linear === 0 ? off : bytes;
  // The same bytes decoded in the same mode give the same block: its compiled function still fits
  // (pages reached through followed transfers are checked by the compiled code itself).
  if (reuse && cached.count === n) c.bFn[b] = cached.fn;
}

const NOT_FOLLOWED = -1;
/** Conditional branches (Jcc, LOOP, JCXZ): a block follows no transfer after one (see buildBlock). */
const CONDITIONAL = new Uint8Array(HANDLERS.length);
for (const h of [...JCC, loop]) CONDITIONAL[HANDLERS.indexOf(h)] = 1;
/** The Jcc handlers (rel8 and rel32 decode to the same ones). */
export const CONDITIONAL_JCC = new Uint8Array(HANDLERS.length);
for (const h of JCC) CONDITIONAL_JCC[HANDLERS.indexOf(h)] = 1;
const H_CALL_REL = HANDLERS.indexOf(callRel), H_JMP_REL = HANDLERS.indexOf(jmpRel), H_RET_NEAR = HANDLERS.indexOf(retNear);
/** Return addresses of the followed CALLs of the block being built, innermost last. */
const callStack = new Int32Array(MAX_BLOCK);
/** How many instructions the block had up to and including each of those CALLs. */
const callAt = new Int32Array(MAX_BLOCK);
/** Linear start and end of each run of the block being built (a run is not decoded twice). */
const runStarts = new Int32Array(MAX_BLOCK + 1), runEnds = new Int32Array(MAX_BLOCK + 1);
let runs = 0;

/**
 * The linear target of slot `d` if it is a transfer that decoding follows (a 32-bit near CALL or
 * JMP rel, or a 32-bit RET with a return address from this block's `calls` followed CALLs),
 * else NOT_FOLLOWED. `next` is the linear address after it.
 */
function followedTarget(c: CpuCore, d: number, next: number, calls: number): number {
  if ((c.dPfx[d] & P_O32) === 0) return NOT_FOLLOWED;
  const h = c.dH[d];
  // Not a JMP back: that closes a loop, and a block that followed it would start each pass one
  // block length further round the loop (a new block, compiled, for every instruction of it).
  if (h === H_CALL_REL || (h === H_JMP_REL && c.dImm[d]! >= 0)) return (next + c.dImm[d]!) | 0;
  if (h === H_RET_NEAR && calls > 0) return callStack[calls - 1]!;
  return NOT_FOLLOWED;
}

/**
 * Close the run that started at linear `runLin` (`bytes` long) and open one at linear `target`:
 * its physical address, or NOT_FOLLOWED when the target is inside a run already decoded (a loop:
 * compiled blocks go round their first instruction themselves) or its page is not known, not RAM
 * or above 2 GiB. `lin`/`phys` are the block's start.
 */
function visitRun(c: CpuCore, runLin: number, bytes: number, target: number, lin: number, phys: number): number {
  runStarts[runs] = runLin;
  runEnds[runs] = (runLin + bytes) | 0;
  runs++;
  for (let i = 0; i < runs; i++) {
    if (((target - runStarts[i]!) >>> 0) < ((runEnds[i]! - runStarts[i]!) >>> 0)) return NOT_FOLLOWED;
  }
  let targetPhys: number;
  if (((target ^ lin) & -4096) === 0) targetPhys = (phys & -4096) | (target & 4095);
  else {
    targetPhys = cachedFetchPhys(c, target);
    if (targetPhys === -1) return NOT_FOLLOWED;
  }
  const page = targetPhys >>> 12;
  if (!c.memory.isRamPage(page) || page >= 0x80000) return NOT_FOLLOWED;
  c.codeDecodedFrom(page);
  return targetPhys;
}
