import { BCACHE_SIZE, POOL_BASE, POOL_SIZE, type CpuCore } from './core.js';
import { decodeInPage, ENDS_BLOCK } from './decoder/decode.js';
import { CpuStat } from './stats.js';

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
 * else the one with the lower run count.
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
    if (c.bTag[other] === phys || c.bTag[other] === -1 || colder(c, other, b)) victim = other;
  }
  buildBlock(c, victim, lin, phys, gen);
  return victim;
}
function colder(c: CpuCore, x: number, y: number): boolean {
  const xCompiled = c.bFn[x] !== null, yCompiled = c.bFn[y] !== null;
  if (xCompiled !== yCompiled) return yCompiled;
  return c.bRuns[x]! < c.bRuns[y]!;
}

/**
 * Decode the straight-line run starting at linear `lin` / physical `phys` into consecutive pool
 * slots and record it in block entry `b` with generation `gen`. A block never leaves its page (so
 * it never faults while being built and one page generation covers it) and ends after an
 * unconditional transfer or MAX_BLOCK instructions. Conditional branches do not end it: the run
 * loop leaves a block whenever an instruction changes EIP away from the fall-through. A block of 0
 * instructions (the first one crosses the page, or the page is not RAM) means "execute this
 * address one instruction at a time".
 */
export function buildBlock(c: CpuCore, b: number, lin: number, phys: number, gen: number): void {
  const page = phys >>> 12;
  c.stats[CpuStat.BlocksBuilt]++;
  c.bTag[b] = phys;
  c.bGen[b] = gen;
  c.bCount[b] = 0;
  c.bBytes[b] = 0;
  // The run count survives a rebuild of the same address (a pool flush drops every block, and the
  // Debian boot flushes 57 times): blocks that ran fewer than compileThreshold times per flush never
  // compiled, and ran 10 % of that boot's instructions in the block loop. A count that reached the
  // threshold starts over (the code there changed, or it was compiled and its function is cached).
  if (c.bLastTag[b] !== phys || c.bRuns[b] >= c.compileThreshold) c.bRuns[b] = 0;
  c.bLastTag[b] = phys;
  c.bFn[b] = null;
  if (!c.memory.isRamPage(page) || page >= 0x80000) return;
  if (c.poolNext + MAX_BLOCK > POOL_BASE + POOL_SIZE) {
    // Pool exhausted: every block goes (this one is rebuilt right below).
    c.bTag.fill(-1);
    c.bTag[b] = phys;
    c.poolNext = POOL_BASE;
  }
  const start = c.poolNext;
  let n = 0, off = 0;
  while (n < MAX_BLOCK) {
    const d = start + n;
    if (!decodeInPage(c, d, (lin + off) | 0, phys + off)) break;
    off += c.dLen[d];
    n++;
    if (ENDS_BLOCK[c.dH[d]] !== 0 || off >= 4096 - (phys & 4095)) break;
  }
  c.stats[CpuStat.DecodedInstructions] += n;
  if (n === 0) return;
  if (c.codePages[page] === 0) {
    c.codePages[page] = 1;
    c.memory.markCodePage(page);
  }
  c.poolNext = start + n;
  c.bStart[b] = start;
  c.bCount[b] = n;
  c.bBytes[b] = off;
  // The same bytes decoded in the same mode give the same block: its compiled function still fits.
  const cached = c.compiledCache.get(phys);
  if (cached !== undefined && cached.genKey === gen && cached.count === n) c.bFn[b] = cached.fn;
}
