import {
  AC, ACV, AF, ARITH, CF, CR0_AM, CR0_PE, CR0_PG, CR4_DE, CS, FLAGS_FIXED, GP, OF, OP_ADC, OP_ADD, OP_LOGIC, OP_SBB, OP_SHIFT, OP_SUB, PF, PFV, SF,
  SS, SSF, VM, ZF,
} from './constants.js';
import type { CpuMemory, CpuPaging } from './memory-ports.js';
import { CPU_HOST_AREA_BYTES, HOST } from './wasm/host-area.js';
import type { WarmTier } from './wasm/warm-blocks.js';
import { CPU_STAT_COUNT, CpuStat } from './stats.js';
import { INSTRUCTION_CLASS_COUNT } from './instruction-class.js';
import type { InterruptSource, PortIoBus, TimeSource } from './types.js';
import type { FpuHost } from './fpu/fpu-host.js';
import type { FpuEngine } from './fpu-engine.js';
import type { CachedBlock, CompiledBlock } from './block-compiler.js';
import { foldCounters, PerformanceCounters } from './system/pmu.js';

/**
 * The one object thrown for every guest fault. Handlers set `pendingVector`/`pendingError` on the core
 * and throw this; only the run loop catches it. Never escapes to the embedder.
 */
export class FaultSignal {
  readonly isFaultSignal = true;
}
/** The preallocated fault sentinel. */
export const FAULT = new FaultSignal();

/** Segment-check bits (segCheck): accesses that must take the slow path. */
export const CHK_NO_READ = 1, CHK_NO_WRITE = 2, CHK_EXPAND_DOWN = 4;
/**
 * Alignment checking is on (CR0.AM, EFLAGS.AC, CPL 3): set in every data segment's check bits so the
 * one-compare fast path of linR/linW sends every access to segSlow, which tests alignment there.
 */
export const CHK_ALIGN = 8;
/** Alignment mask of an access of `size` bytes (SDM table "Alignment Requirements by Data Type"). */
const ALIGN_MASK = new Int32Array([0, 0, 1, 0, 3, 0, 3, 0, 7, 0, 7]); // 6: 48-bit pointer / GDTR image, 10: m80

const SIZE_MASK = [0xff, 0xffff, -1];
const SIGN_BIT = [0x80, 0x8000, 0x80000000 | 0];

/** Parity of a byte: PF set when the number of set bits is even. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let bits = 0;
  for (let b = i; b; b >>= 1) bits += b & 1;
  PARITY[i] = bits & 1 ? 0 : PF;
}

/** Number of decoded-instruction slots (direct mapped by physical address); the extra slot is scratch. */
export const DCACHE_BITS = 16;
export const DCACHE_SIZE = 1 << DCACHE_BITS;
export const SCRATCH_SLOT = DCACHE_SIZE;
/**
 * Basic blocks keep their instructions in consecutive slots of the same decoded arrays, allocated
 * from a pool after the direct-mapped slots; a full pool drops every block and starts over.
 */
export const POOL_BASE = DCACHE_SIZE + 1;
export const POOL_SIZE = 1 << 18;
/** Block cache entries (by physical address of the block's first instruction; two-way sets, see blocks.ts findBlock). */
export const BCACHE_BITS = 16;
export const BCACHE_SIZE = 1 << BCACHE_BITS;
/**
 * Slots for instructions whose bytes run into the next page, after the pool (interpreter.ts
 * crossingSlot): the direct-mapped slots only hold instructions within one page.
 */
export const CROSS_BASE = POOL_BASE + POOL_SIZE;
export const CROSS_SIZE = 64;
const DSLOTS = CROSS_BASE + CROSS_SIZE;
export const TLB_BITS = 10;
/** The kind (TLB part) that is never filled: every lookup in it misses. */
export const TLB_NEVER = 4;
/** Linear pages per privilege in the fetch translation cache (CpuCore.fetchTag). */
export const FETCH_BITS = 8;
/** Entries of the jump cache (CpuCore.jumpCache), a power of two. */
export const JUMP_CACHE_BITS = 12;
/** The fetch translation cache entry of linear address `lin` for privilege kind `userKind` (0 supervisor, 2 user). */
export function fetchIndex(lin: number, userKind: number): number {
  return ((userKind >> 1) << FETCH_BITS) | ((lin >>> 12) & ((1 << FETCH_BITS) - 1));
}
/**
 * The physical address of linear `lin` as the fetch translation cache of the current privilege
 * maps it, or -1 when the cache holds no entry for its page. It never walks the page tables (so
 * never faults): for looking ahead at code (followed transfers, translated regions).
 */
export function cachedFetchPhys(c: CpuCore, lin: number): number {
  const i = fetchIndex(lin, c.userKind);
  return c.fetchTag[i] === ((lin & -4096) | 1) ? c.fetchFrame[i]! | (lin & 4095) : -1;
}
const TLB_SIZE = 1 << TLB_BITS;

/**
 * All architectural and micro-architectural state of one x86 CPU plus its memory access paths.
 * Instruction handlers are free functions taking `(core, slot)`; this class is internal.
 */
export class CpuCore implements FpuHost {
  // ---- general registers: 16 slots of 8 bytes so a 64-bit mode can widen them in place ----
  // They, the segment base/limit/check arrays, the data TLB and the code-page marks live in the
  // memory's host area when it has one (wasm/host-area.ts), where WebAssembly blocks reach them.
  /** GPR n low dword at r32[n * 2]. */
  readonly r32: Int32Array;
  /** GPR n low word at r16[n * 4]. */
  readonly r16: Uint16Array;
  /** GPR n low byte at r8[n * 8], AH..BH at r8[(n - 4) * 8 + 1]. */
  readonly r8: Uint8Array;

  eip = 0;
  /** EIP of the instruction being executed (faults restart here). */
  curEip = 0;
  /** EFLAGS; the bits in `lazy` are stale and computed from the last arithmetic operation. */
  flags = FLAGS_FIXED;
  lazy = 0;
  lfOp = 0; lfDst = 0; lfSrc = 0; lfRes = 0; lfSize = 0;

  // ---- segments (descriptor caches) ----
  // Base, limit and check are read by compiled blocks (block-compiler.ts CORE_VIEWS). Over an
  // ArrayBuffer of their own their elements are not stored in the V8 heap (where V8 keeps typed
  // arrays of 64 bytes or less when created with a length), so optimised code can address them
  // directly instead of loading the array's base, data pointer and length at every access.
  readonly segSel: Int32Array;
  readonly segBase: Int32Array;
  /** Effective byte limit (0..0xFFFFFFFF). */
  readonly segLimit: Float64Array;
  /** Descriptor attribute bits (descriptor bits 40..55 with the limit nibble cleared). */
  readonly segAttr = new Int32Array(8);
  readonly segCheck: Int32Array;
  /** CHK_ALIGN when alignment checking is on, else 0; OR-ed into segCheck of ES..GS. */
  alignCheck = 0;
  gdtBase = 0; gdtLimit = 0xffff; idtBase = 0; idtLimit = 0x3ff;

  // ---- control ----
  /** CR0 lives in the host area (wasm/host-area.ts), where translations read EM and TS. */
  private readonly cr0Word: Int32Array;
  get cr0(): number { return this.cr0Word[0]!; }
  set cr0(v: number) { this.cr0Word[0] = v; }
  cr2 = 0; cr3 = 0; cr4 = 0; efer = 0;
  readonly dr = new Int32Array(8);
  /**
   * Breakpoints enabled in DR7 (bit n = DRn), split by kind; all 0 when none is enabled, which is
   * the only thing the fast paths ever look at (through `debugArmed`, the data TLB and the run loop).
   */
  bpExec = 0; bpData = 0; bpIo = 0;
  /** Some breakpoint is enabled: the run loop executes one instruction at a time and checks them. */
  debugArmed = false;
  /** First and last byte (unsigned) of each breakpoint's range (DRn aligned down to its LEN). */
  readonly bpFirst = new Float64Array(4);
  readonly bpLast = new Float64Array(4);
  /** DR6 B0-B3 bits of data/I/O breakpoints hit by the current instruction (reported as a trap after it). */
  bpHit = 0;
  /** The pending fault is an instruction breakpoint: its EFLAGS image keeps RF as it is (SDM 17.3.1.1). */
  bpFault = false;
  cpl = 0;
  /** 0 for supervisor accesses, 2 for user (CPL 3): offset into the TLB kinds. */
  userKind = 0;
  /** CS.D: default operand/address size 32. */
  cs32 = false;
  /** SS.B: 32-bit stack pointer. */
  ss32 = false;
  ipMask = 0xffff;

  // ---- MSRs ----
  sysenterCs = 0; sysenterEsp = 0; sysenterEip = 0;
  tscOffset = 0; apicBase = 0xfee00900 | 0; miscEnable = 1; patLo = 0x00070406; patHi = 0x00070406;
  readonly msrStore = new Map<number, [number, number]>();
  /** P6 performance-monitoring counters (src/system/pmu.ts). */
  readonly pmu = new PerformanceCounters();

  // ---- run state ----
  // V8 keeps no field type for true/false (a boolean field is typed "any"), so a bare `if (c.flag)`
  // compiles to a whole ToBoolean (tests for false, '', undetectable objects, numbers and BigInt).
  // The run loop, the stack accessors and compiled blocks test these fields with `=== true`: one
  // compare (compiled blocks 23 % smaller, the awk loop 8 % faster).
  halted = false;
  /** Triple fault happened: only reset() leaves this state. */
  shutdown = false;
  /** Interrupts (and NMI) are inhibited for one instruction after STI, MOV SS, POP SS. */
  shadow = false;
  nmiPending = false;
  nmiBlocked = false;
  /** Set when something outside the instruction stream needs attention: ends the current chunk. */
  chunkBreak = false;
  /** Cpu.requestStop(): the run() in progress returns at the next chunk (cleared when run() starts). */
  stopRequested = false;
  /**
   * Starts as -0, a double, and the constructor sets 0: V8 then stores it as a double field from the
   * start. Started as a small integer, the count outgrew V8's 31-bit small integers after 2^30
   * instructions and changed the core's field layout (a new map), which threw away the optimised
   * code of every function that touches the core and every compiled block, all at once.
   */
  retired = -0;

  // ---- fault state ----
  pendingVector = 0;
  pendingError = -1;
  /** The pending event is a trap (EIP already after the instruction), not a fault. */
  pendingTrap = false;

  // ---- decoded instruction cache (flat arrays, one slot per instruction) ----
  readonly dH = new Uint16Array(DSLOTS);
  readonly dLen = new Uint8Array(DSLOTS);
  readonly dRm = new Uint8Array(DSLOTS);
  readonly dPfx = new Uint16Array(DSLOTS);
  readonly dSeg = new Uint8Array(DSLOTS);
  readonly dEa = new Int32Array(DSLOTS);
  readonly dDisp = new Int32Array(DSLOTS);
  readonly dImm = new Int32Array(DSLOTS);
  readonly dImm2 = new Int32Array(DSLOTS);
  readonly dExt = new Uint8Array(DSLOTS);
  /** InstructionClass of the decoded instruction (src/instruction-class.ts), for the retired-instruction mix. */
  readonly dClass = new Uint8Array(DSLOTS);
  readonly dTag = new Int32Array(DCACHE_SIZE + 1).fill(-1);
  /** Page generation << 1 | CS.D at decode time: a mismatch means stale or decoded for the other mode. */
  readonly dGen = new Int32Array(DCACHE_SIZE + 1);
  /**
   * Page-crossing instructions in slots CROSS_BASE + i: physical address of the first byte (-1 =
   * empty), dGen's value for its page, and the physical page the next linear page mapped to when it
   * was decoded, with that page's generation then.
   */
  readonly crossTag = new Int32Array(CROSS_SIZE).fill(-1);
  readonly crossGen = new Int32Array(CROSS_SIZE);
  readonly crossNextFrame = new Int32Array(CROSS_SIZE);
  readonly crossNextGen = new Int32Array(CROSS_SIZE);
  /** Per physical page generation: bumped on a write to a page code was decoded from. */
  readonly pageGen = new Int32Array(1 << 20);
  /** Pages marked with memory.markCodePage (cleared by onCodeWrite). */
  readonly codePages: Uint8Array;

  // ---- basic-block cache (see src/blocks.ts) ----
  /** Physical address of the block's first instruction, -1 = empty. */
  readonly bTag = new Int32Array(BCACHE_SIZE).fill(-1);
  /** Same meaning as dGen: pageGen << 1 | CS.D when the block was built. */
  readonly bGen = new Int32Array(BCACHE_SIZE);
  /** First pool slot of the block. */
  readonly bStart = new Int32Array(BCACHE_SIZE);
  /** Instructions in the block; 0 = run this address one instruction at a time. */
  readonly bCount = new Int32Array(BCACHE_SIZE);
  /** Bytes covered by the block (its last byte is at start + bBytes - 1). */
  readonly bBytes = new Int32Array(BCACHE_SIZE);
  /** Next free pool slot. */
  poolNext = POOL_BASE;
  /** Times the block at each entry's address ran, to find blocks worth compiling (see blocks.ts). */
  readonly bRuns = new Uint16Array(BCACHE_SIZE);
  /** Physical address the entry was last built for; unlike bTag, pool flushes leave it. */
  readonly bLastTag = new Int32Array(BCACHE_SIZE).fill(-1);
  /** Physical address of the block a miss last put out of each entry, or -1 (blocks.ts findBlock). */
  readonly bEvicted = new Int32Array(BCACHE_SIZE).fill(-1);
  /** The compiled function of each block entry, or null (src/block-compiler.ts). */
  readonly bFn: Array<CompiledBlock | null> = new Array<CompiledBlock | null>(BCACHE_SIZE).fill(null);
  /** Compile hot blocks (CpuOptions.compileBlocks), after this many runs (CpuOptions.compileThreshold). */
  compileBlocks = true;
  /** Whether each block entry is warm (wasm/warm-blocks.ts): WARM_READY, WARM_NONE or WARM_NOTHING. */
  readonly bWarm = new Int32Array(BCACHE_SIZE).fill(-1);
  /** The warm tier (CpuOptions.warmBlocks), or null when it is off or the memory has no host area. */
  warm: WarmTier | null = null;
  /**
   * Compiled blocks by physical address, kept when their block-cache entry goes (pool flush,
   * eviction): a block rebuilt from unchanged code under the same generation key gets its compiled
   * function back at once instead of running the compile threshold again (57 pool flushes in the
   * Debian boot each dropped every compiled block).
   */
  readonly compiledCache = new Map<number, CachedBlock>();
  /** This core's block-by-block run loop (interpreter.ts chunkRunner), made on the first run. */
  chunkRunner: ((n: number, h: number) => void) | null = null;
  compileThreshold = 16384;

  /**
   * Physical address and page generation (pageGen at decode) of each pool slot's instruction: a
   * block may follow calls, jumps and returns into other pages (blocks.ts), and its compiled code
   * checks each of those pages against these before running into it.
   */
  readonly dPhys = new Int32Array(DSLOTS);
  /**
   * Block runs of the block loop that ended at each pool slot (its last instruction executed): for
   * a conditional branch that is not its block's last instruction, the runs that took it. The
   * compile of a hot block reads them (interpreter.ts compileHot) to follow branches that are
   * nearly always taken.
   */
  readonly dLast = new Int32Array(DSLOTS);
  readonly dPageGen = new Int32Array(DSLOTS);
  /** Instructions of the block before its first followed transfer: what the block loop runs of it. */
  readonly bLinear = new Int32Array(BCACHE_SIZE);

  // ---- code fetch page cache ----
  fetchLin = 1; // linear page base of the cached fetch page, 1 = invalid
  /**
   * Recent instruction-fetch translations, direct mapped by linear page, one half per privilege
   * (see fetchIndex): the linear page base | 1 (0 = empty) and the physical page base. The run loop
   * refills its fetch page from here on every change of code page (a call or return between pages:
   * more than half of the block changes in busybox awk), and compiled blocks check that a page they
   * run into still maps where it did. flushTlb empties it.
   */
  readonly fetchTag = new Int32Array(2 << FETCH_BITS);
  readonly fetchFrame = new Int32Array(2 << FETCH_BITS);
  fetchPhys = 0;
  /** pageGen[fetch page] << 1 | CS.D, recomputed on every refill of the fetch page. */
  fetchGenKey = -1;
  /**
   * The run loop's jump cache: compiled blocks by the linear address of their first instruction,
   * direct mapped, four Int32 per entry (linear address, `fetchEpoch` when stored, instruction
   * count << 24 | first pool slot, unused) and the function in `jumpFns`. A hit goes straight to
   * the compiled function, without the fetch page, the physical lookup and the CS-limit test of the
   * block, which were all done when it was stored, and without reading the block cache's arrays
   * (256 KiB each, so a dispatch touched four cache lines more). The entry holds everything the call
   * needs, so it stays right when the block-cache entry is evicted or rebuilt: the function and its
   * pool slots are still those of the same bytes until the pool starts over.
   */
  readonly jumpCache = new Int32Array(4 << JUMP_CACHE_BITS);
  readonly jumpFns: Array<CompiledBlock | null> = new Array<CompiledBlock | null>(1 << JUMP_CACHE_BITS).fill(null);
  /**
   * The epoch jump-cache entries are stored with and must match (here and in the warm tier's
   * dispatcher): the current privilege's one of a pair of epochs, `supervisorEpoch` for CPL 0-2 and
   * `userEpoch` for CPL 3. Both are replaced by everything that can make an entry wrong: a new
   * translation for code fetches (TLB flush, INVLPG of a page code was fetched from this epoch), a
   * CS with another base, limit or size, a write to code, the decoded-slot pool starting over,
   * decoded code dropped. A CPL change only switches between the two, because what the privilege
   * changes (fetch permission through the U/S bit) is the same for the same pair: a Debian boot
   * enters and leaves the kernel ~8,000 times, and its interrupts reload the same CS ~80,000 times
   * and its INVLPGs of data pages (the kernel's fixmap) ~70,000 times; each of those emptied both
   * jump caches, and 9 M of the warm dispatcher's 12 M returns to the run loop were misses on
   * entries of an older epoch. Entries of another epoch are misses. Never 0, so an empty entry
   * (all zeros) never hits.
   */
  fetchEpoch = 2;
  private supervisorEpoch = 2;
  private userEpoch = 3;
  /** The last epoch number handed out (each advance takes two). */
  private epochCounter = 3;
  /** CS base, limit and size when the epochs were last advanced: a reload of the same CS keeps them. */
  private epochCsBase = 0;
  private epochCsLimit = -1;
  private epochCs32 = false;
  /**
   * The epoch of the last jump-cache entry (either cache) stored for a block on each linear page:
   * an INVLPG of a page with no entry of a current epoch leaves both caches as they are.
   */
  readonly fetchStamp = new Int32Array(1 << 20);
  advanceFetchEpoch(): void {
    // Before the counter could come round to an epoch that old entries still hold, empty them.
    if (this.epochCounter >= 0x40000000 - 2) {
      this.jumpCache.fill(0);
      this.warm?.forgetJumps();
      this.fetchStamp.fill(0);
      this.epochCounter = 1;
    }
    this.stats[CpuStat.FetchEpochs]++;
    this.supervisorEpoch = ++this.epochCounter;
    this.userEpoch = ++this.epochCounter;
    this.selectFetchEpoch();
    this.epochCsBase = this.segBase[CS]!;
    this.epochCsLimit = this.segLimit[CS]!;
    this.epochCs32 = this.cs32;
  }
  /** `fetchEpoch` = the current privilege's epoch of the pair. */
  private selectFetchEpoch(): void {
    this.fetchEpoch = this.userKind === 2 ? this.userEpoch : this.supervisorEpoch;
  }

  /** Event statistics indexed by CpuStat (src/stats.ts); only slow paths increment them. */
  readonly stats = new Float64Array(CPU_STAT_COUNT);
  /** Retired instructions by InstructionClass, counted only while `countMix` is set. */
  readonly mix = new Float64Array(INSTRUCTION_CLASS_COUNT);
  /** Count the instruction mix: the block loop then adds one increment per instruction. */
  countMix = false;
  /** First pool slot of the block being run while counting the mix (-1: none), and `retired` when it began. */
  mixBlock = -1;
  mixRetired = -0; // a double from the start, as `retired` (set to 0 in the constructor)

  // ---- data TLB in front of Paging.translate: 4 kinds (sup read, sup write, user read, user write) ----
  // and a fifth part (TLB_NEVER) that is never filled, so no lookup in it hits: compiled blocks
  // look up accesses through a segment that is not flat there (block-compiler.ts ramFastPath).
  readonly tlbTag: Int32Array;
  /** RAM pages: physical base (even). Others: physical page * 2 + 1. */
  readonly tlbVal: Int32Array;
  /**
   * 4 MiB regions of the linear space (by lin >>> 22) from which a translation through a large page
   * went into the data TLB or the fetch translation cache since the last flushTlb: INVLPG there must
   * drop pieces of that page at any index.
   */
  private readonly largePageRegions = new Uint8Array(1024);

  readonly ram: Uint8Array;
  /** The memory's host area when the CPU's state lives there (wasm/host-area.ts), else null. */
  readonly hostArea: Uint8Array | null;
  readonly ram16: Uint16Array | null;
  readonly ram32: Int32Array | null;

  fpu: FpuEngine | null = null;
  /** CPUID reports a local APIC. */
  reportApic = false;
  stopOnException = false;

  constructor(
    readonly memory: CpuMemory,
    readonly paging: CpuPaging,
    readonly io: PortIoBus,
    readonly interrupts: InterruptSource | null,
    readonly time: TimeSource | null,
  ) {
    this.ram = memory.ram;
    // Over ArrayBuffers of their own (or the host area) these arrays' elements are not kept in the
    // V8 heap, so optimised code addresses them directly (see the segment arrays above).
    const area = memory.hostArea ?? null;
    const host = area !== null && area.byteLength >= CPU_HOST_AREA_BYTES && (area.byteOffset & 7) === 0;
    const buffer = host ? area.buffer : null, at = host ? area.byteOffset : 0;
    const view = <T>(make: (b: ArrayBufferLike, offset: number, length: number) => T, offset: number, length: number, bytes: number): T =>
      buffer !== null ? make(buffer, at + offset, length) : make(new ArrayBuffer(length * bytes), 0, length);
    const regs = view((b, o, l) => new Uint8Array(b, o, l), HOST.regs, 16 * 8, 1);
    this.r32 = new Int32Array(regs.buffer, regs.byteOffset, 32);
    this.r16 = new Uint16Array(regs.buffer, regs.byteOffset, 64);
    this.r8 = regs;
    this.segSel = view((b, o, l) => new Int32Array(b, o, l), HOST.segSel, 8, 4);
    this.segBase = view((b, o, l) => new Int32Array(b, o, l), HOST.segBase, 8, 4);
    this.cr0Word = view((b, o, l) => new Int32Array(b, o, l), HOST.cr0, 1, 4);
    this.directEndWord = view((b, o, l) => new Int32Array(b, o, l), HOST.directEnd, 1, 4);
    this.segCheck = view((b, o, l) => new Int32Array(b, o, l), HOST.segCheck, 8, 4);
    this.segLimit = view((b, o, l) => new Float64Array(b, o, l), HOST.segLimit, 8, 8);
    this.tlbTag = view((b, o, l) => new Int32Array(b, o, l), HOST.tlbTag, 5 * TLB_SIZE, 4);
    this.tlbVal = view((b, o, l) => new Int32Array(b, o, l), HOST.tlbVal, 5 * TLB_SIZE, 4);
    this.codePages = view((b, o, l) => new Uint8Array(b, o, l), HOST.codePages, 1 << 20, 1);
    if (host) new Uint8Array(area.buffer, area.byteOffset, CPU_HOST_AREA_BYTES).fill(0);
    this.cr0 = 0x60000010;
    this.hostArea = host ? area : null;
    const aligned = (memory.ram.byteOffset & 3) === 0 && (memory.ram.byteLength & 3) === 0;
    this.ram16 = aligned ? new Uint16Array(memory.ram.buffer, memory.ram.byteOffset, memory.ram.byteLength >>> 1) : null;
    this.ram32 = aligned ? new Int32Array(memory.ram.buffer, memory.ram.byteOffset, memory.ram.byteLength >>> 2) : null;
    this.retired = 0;
    this.mixRetired = 0;
  }

  // =====================================================================================
  // Faults
  // =====================================================================================

  /** Raise exception `vector` with an error code (-1 = none). Never returns. */
  fault(vector: number, error: number): never {
    this.pendingVector = vector;
    this.pendingError = error;
    throw FAULT;
  }
  /**
   * Software exception instructions (INT3, INTO, INT1) under stopOnException: stop with their own
   * vector and EIP after the instruction, as hardware reports these traps.
   */
  trapStop(vector: number): never {
    this.pendingTrap = true;
    return this.fault(vector, -1);
  }
  /** FpuHost: raise an exception without error code. */
  raise(vector: number): never {
    return this.fault(vector, -1);
  }
  gp(error: number): never {
    return this.fault(GP, error & 0xffff);
  }

  // =====================================================================================
  // Lazy flags
  // =====================================================================================

  setLazy(op: number, dst: number, src: number, res: number, size: number): void {
    this.lfOp = op; this.lfDst = dst; this.lfSrc = src; this.lfRes = res; this.lfSize = size;
    this.lazy = ARITH;
  }
  /** SHL/SHR/SAR: result flags lazy, CF and OF already known. */
  setLazyShift(res: number, size: number, cf: number, of: boolean): void {
    this.lfOp = OP_SHIFT; this.lfDst = of ? 1 : 0; this.lfSrc = cf; this.lfRes = res; this.lfSize = size;
    this.lazy = ARITH;
  }
  /** INC/DEC: like ADD/SUB 1 but CF keeps its value. */
  setLazyKeepCf(op: number, dst: number, res: number, size: number): void {
    if (this.lazy & CF) this.flags = (this.flags & ~CF) | this.getCF();
    this.lfOp = op; this.lfDst = dst; this.lfSrc = 1; this.lfRes = res; this.lfSize = size;
    this.lazy = ARITH & ~CF;
  }
  getCF(): number {
    if ((this.lazy & CF) === 0) return this.flags & CF;
    const m = SIZE_MASK[this.lfSize];
    switch (this.lfOp) {
      case OP_ADD: return ((this.lfRes & m) >>> 0) < ((this.lfDst & m) >>> 0) ? 1 : 0;
      case OP_ADC: return ((this.lfRes & m) >>> 0) <= ((this.lfDst & m) >>> 0) ? 1 : 0;
      case OP_SUB: return ((this.lfDst & m) >>> 0) < ((this.lfSrc & m) >>> 0) ? 1 : 0;
      case OP_SBB: return ((this.lfDst & m) >>> 0) <= ((this.lfSrc & m) >>> 0) ? 1 : 0;
      case OP_SHIFT: return this.lfSrc & 1;
      default: return 0;
    }
  }
  getZF(): number {
    if ((this.lazy & ZF) === 0) return this.flags & ZF;
    return (this.lfRes & SIZE_MASK[this.lfSize]) === 0 ? ZF : 0;
  }
  getSF(): number {
    if ((this.lazy & SF) === 0) return this.flags & SF;
    return (this.lfRes & SIGN_BIT[this.lfSize]) !== 0 ? SF : 0;
  }
  getPF(): number {
    if ((this.lazy & PF) === 0) return this.flags & PF;
    return PARITY[this.lfRes & 0xff];
  }
  getAF(): number {
    if ((this.lazy & AF) === 0) return this.flags & AF;
    if (this.lfOp >= OP_LOGIC) return 0;
    return (this.lfDst ^ this.lfSrc ^ this.lfRes) & AF;
  }
  getOF(): number {
    if ((this.lazy & OF) === 0) return this.flags & OF;
    const s = SIGN_BIT[this.lfSize];
    switch (this.lfOp) {
      case OP_ADD: case OP_ADC:
        return ((this.lfDst ^ this.lfRes) & (this.lfSrc ^ this.lfRes) & s) !== 0 ? OF : 0;
      case OP_SUB: case OP_SBB:
        return ((this.lfDst ^ this.lfSrc) & (this.lfDst ^ this.lfRes) & s) !== 0 ? OF : 0;
      case OP_SHIFT: return this.lfDst !== 0 ? OF : 0;
      default: return 0;
    }
  }
  /** Full EFLAGS with the lazy bits computed. */
  getFlags(): number {
    if (this.lazy === 0) return this.flags;
    const f = (this.flags & ~ARITH) | this.getCF() | this.getPF() | this.getAF() | this.getZF() | this.getSF() | this.getOF();
    this.flags = f;
    this.lazy = 0;
    return f;
  }
  /** Replace the arithmetic flags selected by `mask` with `value` (other flags untouched). */
  setArith(mask: number, value: number): void {
    // The flags outside `mask` stay as they are, lazy ones included: each lazy flag is computed from
    // the lazy operands alone, never from another flag, so nothing needs computing here (BT's CF,
    // LSL/LAR/VERR's ZF, BSF/BSR's ZF used to compute all six).
    this.flags = (this.flags & ~mask) | (value & mask);
    this.lazy &= ~mask;
  }
  /** Evaluate condition code cc (0..15, the Jcc/SETcc/CMOVcc low nibble). */
  cond(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = this.getOF() !== 0; break;
      case 1: r = this.getCF() !== 0; break;
      case 2: r = this.getZF() !== 0; break;
      case 3: r = this.getCF() !== 0 || this.getZF() !== 0; break;
      case 4: r = this.getSF() !== 0; break;
      case 5: r = this.getPF() !== 0; break;
      case 6: r = (this.getSF() !== 0) !== (this.getOF() !== 0); break;
      default: r = this.getZF() !== 0 || (this.getSF() !== 0) !== (this.getOF() !== 0); break;
    }
    return (cc & 1) !== 0 ? !r : r;
  }

  // ---- FpuHost extras ----
  /** Legacy x87 error reporting (CR0.NE = 0): the machine raises IRQ 13 from this. */
  ferrHandler: (() => void) | null = null;
  signalFerr(): void {
    if (this.ferrHandler !== null) this.ferrHandler();
  }
  setEflagsZPC(zf: boolean, pf: boolean, cf: boolean): void {
    this.setArith(ARITH, (zf ? ZF : 0) | (pf ? PF : 0) | (cf ? CF : 0));
  }
  readEflags(): number {
    return this.getFlags();
  }
  setAx(value: number): void {
    this.r16[0] = value;
  }

  // =====================================================================================
  // Linear memory (paging + data TLB)
  // =====================================================================================

  /** Drop every cached translation (data TLB and fetch page). */
  flushTlb(): void {
    this.tlbTag.fill(0);
    this.fetchTag.fill(0);
    this.largePageRegions.fill(0);
    this.fetchLin = 1;
    this.advanceFetchEpoch();
    this.updateDirectRange();
    // The next instruction's linear address may now map elsewhere: end the running block.
    this.chunkBreak = true;
  }
  /**
   * With paging off and the A20 gate open a linear address is the physical one, so compiled code
   * reaches plain RAM without the TLB: `directEnd` is 3 less than the end of the RAM that starts at
   * physical 0 and runs without a ROM or MMIO page (so a dword access at an offset below it stays
   * inside), and 0 when that shortcut does not apply (block-compiler.ts ramFastPath). Recomputed
   * wherever the TLB is emptied: mode, paging and A20 changes, and memory-map changes, which must
   * be followed by a flush anyway because TLB entries hold whether a page is plain RAM.
   */
  get directEnd(): number { return this.directEndWord[0]!; }
  set directEnd(v: number) { this.directEndWord[0] = v; }
  /** directEnd lives in the host area, where translations made with paging off read it at entry (wasm/hot-blocks.ts). */
  private readonly directEndWord: Int32Array;
  /** Whether the A20 gate is open (what the paging unit was last told; Cpu.setA20, reset, restore). */
  a20Open = true;
  private updateDirectRange(): void {
    // (ram32 is not set yet when the constructor flushes.)
    if ((this.cr0 & CR0_PG) !== 0 || !this.a20Open || (this.ram32 ?? null) === null) {
      this.directEnd = 0;
      return;
    }
    let end = Math.min(this.ram.length, 0x80000000) & -4096;
    if (this.memory.describe !== undefined) {
      // A few ranges instead of a page-by-page walk: flushes come often where A20 is toggled a lot.
      for (const region of this.memory.describe()) if (region.kind !== 'ram' && region.base < end) end = region.base & -4096;
    } else {
      let page = 0;
      while (page < end >>> 12 && this.memory.isRamPage(page)) page++;
      end = page * 4096;
    }
    this.directEnd = end > 0 ? end - 3 : 0;
  }
  /**
   * INVLPG: drops the cached translations of the page holding `lin` (the paging unit's, the data
   * TLB's in all four kinds, the fetch translation cache's) and keeps the others, as the processor
   * does. Linux runs INVLPG on its fixmap pages every few system calls; emptying the whole TLB each
   * time made a run of 200,000 one-byte reads and writes do 70,000 full flushes. Where a large page
   * was cached in the page's 4 MiB region, its pieces may sit at any index: everything goes then.
   */
  invalidateTlbPage(lin: number): void {
    this.paging.invalidatePage(lin);
    if (this.largePageRegions[lin >>> 22] !== 0) {
      this.flushTlb();
      return;
    }
    const tag = (lin & -4096) | 1;
    const index = (lin >>> 12) & (TLB_SIZE - 1);
    for (let kind = 0; kind < TLB_NEVER; kind++) {
      const i = (kind << TLB_BITS) | index;
      if (this.tlbTag[i] === tag) this.tlbTag[i] = 0;
    }
    const supervisorFetch = fetchIndex(lin, 0), userFetch = fetchIndex(lin, 2); // both privileges
    if (this.fetchTag[supervisorFetch] === tag) this.fetchTag[supervisorFetch] = 0;
    if (this.fetchTag[userFetch] === tag) this.fetchTag[userFetch] = 0;
    if (this.fetchLin === (lin & -4096)) this.fetchLin = 1;
    // Jump-cache entries may have been found through it if the run loop fetched from it this epoch.
    const stamp = this.fetchStamp[lin >>> 12]!;
    if (stamp === this.supervisorEpoch || stamp === this.userEpoch) this.advanceFetchEpoch();
    this.chunkBreak = true; // the running block may continue on that page
  }
  /** A translation of `lin` is about to be cached: remember its region if it came from a large page. */
  private noteLargePage(lin: number): void {
    if (this.paging.lastTranslationLarge !== false) this.largePageRegions[lin >>> 22] = 1;
  }
  /**
   * Fill the TLB for `lin` with access kind `kind` (0..3) or raise #PF. Returns the tlbVal entry.
   * `size` is the access (0 = translate only). Pages holding a data breakpoint are never cached, so
   * every access to them comes here and is matched against the breakpoints.
   */
  private tlbFill(lin: number, kind: number, size: number): number {
    this.stats[CpuStat.TlbMisses]++;
    const phys = this.paging.translate(lin, (kind & 1) as 0 | 1, (kind & 2) !== 0);
    if (phys < 0) {
      this.cr2 = this.paging.faultAddress | 0;
      this.fault(PFV, this.paging.faultErrorCode);
    }
    this.noteLargePage(lin);
    const page = Math.floor(phys / 4096);
    const val = this.memory.isRamPage(page) && page < 0x80000 ? (page << 12) : (page * 2 + 1);
    if (this.bpData !== 0 && this.dataBreakpointPage(lin)) {
      if (size !== 0) this.matchData(lin, size, (kind & 1) !== 0);
      return val;
    }
    const i = (kind << TLB_BITS) | ((lin >>> 12) & (TLB_SIZE - 1));
    this.tlbTag[i] = (lin & -4096) | 1;
    this.tlbVal[i] = val;
    return val;
  }

  // =====================================================================================
  // Debug breakpoints (DR0-DR3, DR7)
  // =====================================================================================

  /** Recompute the enabled breakpoints after a write to DR0-DR3, DR7 or CR4 (DE), a task switch or a restore. */
  updateBreakpoints(): void {
    const dr7 = this.dr[7];
    let exec = 0, data = 0, io = 0;
    for (let n = 0; n < 4; n++) {
      if (((dr7 >>> (n * 2)) & 3) === 0) continue;
      const rw = (dr7 >>> (16 + n * 4)) & 3;
      const lenBits = (dr7 >>> (18 + n * 4)) & 3;
      // LEN 00 = 1, 01 = 2, 11 = 4 bytes; 10 is undefined on P6 and taken as 8 (what later processors do).
      const len = lenBits === 0 ? 1 : lenBits === 1 ? 2 : lenBits === 3 ? 4 : 8;
      const first = (this.dr[n] >>> 0) - ((this.dr[n] >>> 0) % len);
      this.bpFirst[n] = rw === 2 ? first & 0xffff : first;
      this.bpLast[n] = this.bpFirst[n] + len - 1;
      if (rw === 0) exec |= 1 << n;
      else if (rw !== 2) data |= 1 << n;
      else if ((this.cr4 & CR4_DE) !== 0) io |= 1 << n; // RW = 10 without CR4.DE is undefined: never triggers
    }
    this.bpExec = exec; this.bpData = data; this.bpIo = io;
    this.debugArmed = (exec | data | io) !== 0;
    this.flushTlb(); // data-breakpoint pages must leave the TLB (and the loop must see debugArmed)
  }
  /** Some enabled data breakpoint lies in the 4 KiB page of `lin`. */
  private dataBreakpointPage(lin: number): boolean {
    const page = Math.floor((lin >>> 0) / 4096);
    for (let n = 0; n < 4; n++) {
      if ((this.bpData & (1 << n)) !== 0 && Math.floor(this.bpFirst[n] / 4096) === page) return true;
    }
    return false;
  }
  /** Record (for the trap after this instruction) the data breakpoints a `size`-byte access at `lin` hits. */
  private matchData(lin: number, size: number, write: boolean): void {
    const first = lin >>> 0, last = first + size - 1;
    for (let n = 0; n < 4; n++) {
      if ((this.bpData & (1 << n)) === 0) continue;
      if (!write && ((this.dr[7] >>> (16 + n * 4)) & 3) === 1) continue; // RW 01: writes only
      if (first <= this.bpLast[n] && last >= this.bpFirst[n]) this.bpHit |= 1 << n;
    }
  }
  /** Record the I/O breakpoints (RW 10, CR4.DE) a `size`-byte port access hits. */
  matchIo(port: number, size: number): void {
    for (let n = 0; n < 4; n++) {
      if ((this.bpIo & (1 << n)) !== 0 && port <= this.bpLast[n] && port + size - 1 >= this.bpFirst[n]) this.bpHit |= 1 << n;
    }
  }
  private physOf(val: number, lin: number): number {
    return (val & 1) === 0 ? (val | (lin & 4095)) >>> 0 : ((val - 1) / 2) * 4096 + (lin & 4095);
  }

  read8k(lin: number, kind: number): number {
    const i = (kind << TLB_BITS) | ((lin >>> 12) & (TLB_SIZE - 1));
    let v = this.tlbVal[i];
    if (this.tlbTag[i] !== ((lin & -4096) | 1)) v = this.tlbFill(lin, kind, 1);
    if ((v & 1) === 0) return this.ram[v | (lin & 4095)];
    return this.memory.readPhys8(this.physOf(v, lin)) & 0xff;
  }
  read16k(lin: number, kind: number): number {
    if ((lin & 4095) > 4094) return this.read8k(lin, kind) | (this.read8k((lin + 1) | 0, kind) << 8);
    const i = (kind << TLB_BITS) | ((lin >>> 12) & (TLB_SIZE - 1));
    let v = this.tlbVal[i];
    if (this.tlbTag[i] !== ((lin & -4096) | 1)) v = this.tlbFill(lin, kind, 2);
    if ((v & 1) === 0) {
      const p = v | (lin & 4095);
      if ((p & 1) === 0 && this.ram16 !== null) return this.ram16[p >>> 1];
      return this.ram[p] | (this.ram[p + 1] << 8);
    }
    return this.memory.readPhys16(this.physOf(v, lin)) & 0xffff;
  }
  read32k(lin: number, kind: number): number {
    if ((lin & 4095) > 4092) return this.read16k(lin, kind) | (this.read16k((lin + 2) | 0, kind) << 16);
    const i = (kind << TLB_BITS) | ((lin >>> 12) & (TLB_SIZE - 1));
    let v = this.tlbVal[i];
    if (this.tlbTag[i] !== ((lin & -4096) | 1)) v = this.tlbFill(lin, kind, 4);
    if ((v & 1) === 0) {
      const p = v | (lin & 4095);
      if ((p & 3) === 0 && this.ram32 !== null) return this.ram32[p >>> 2];
      const r = this.ram;
      return r[p] | (r[p + 1] << 8) | (r[p + 2] << 16) | (r[p + 3] << 24);
    }
    return this.memory.readPhys32(this.physOf(v, lin)) | 0;
  }
  write8k(lin: number, value: number, kind: number): void {
    const i = (kind << TLB_BITS) | ((lin >>> 12) & (TLB_SIZE - 1));
    let v = this.tlbVal[i];
    if (this.tlbTag[i] !== ((lin & -4096) | 1)) v = this.tlbFill(lin, kind, 1);
    if ((v & 1) === 0 && this.codePages[v >>> 12] === 0) { this.ram[v | (lin & 4095)] = value; return; }
    this.memory.writePhys8(this.physWrite(v, lin), value & 0xff);
  }
  write16k(lin: number, value: number, kind: number): void {
    if ((lin & 4095) > 4094) {
      // Both pages must be writable before either byte is stored.
      this.probeSpan(lin, 2, kind);
      this.write8k(lin, value, kind); this.write8k((lin + 1) | 0, value >> 8, kind); return;
    }
    const i = (kind << TLB_BITS) | ((lin >>> 12) & (TLB_SIZE - 1));
    let v = this.tlbVal[i];
    if (this.tlbTag[i] !== ((lin & -4096) | 1)) v = this.tlbFill(lin, kind, 2);
    if ((v & 1) === 0 && this.codePages[v >>> 12] === 0) {
      const p = v | (lin & 4095);
      if ((p & 1) === 0 && this.ram16 !== null) this.ram16[p >>> 1] = value;
      else { this.ram[p] = value; this.ram[p + 1] = value >> 8; }
      return;
    }
    this.memory.writePhys16(this.physWrite(v, lin), value & 0xffff);
  }
  write32k(lin: number, value: number, kind: number): void {
    if ((lin & 4095) > 4092) {
      this.probeSpan(lin, 4, kind);
      for (let k = 0; k < 4; k++) this.write8k((lin + k) | 0, value >> (k * 8), kind);
      return;
    }
    const i = (kind << TLB_BITS) | ((lin >>> 12) & (TLB_SIZE - 1));
    let v = this.tlbVal[i];
    if (this.tlbTag[i] !== ((lin & -4096) | 1)) v = this.tlbFill(lin, kind, 4);
    if ((v & 1) === 0 && this.codePages[v >>> 12] === 0) {
      const p = v | (lin & 4095);
      if ((p & 3) === 0 && this.ram32 !== null) this.ram32[p >>> 2] = value;
      else { const r = this.ram; r[p] = value; r[p + 1] = value >> 8; r[p + 2] = value >> 16; r[p + 3] = value >> 24; }
      return;
    }
    this.memory.writePhys32(this.physWrite(v, lin), value | 0);
  }
  /** Instruction-fetch translation (execute access at the current privilege); raises #PF. */
  translateFetch(lin: number): number {
    this.stats[CpuStat.FetchTranslations]++;
    const phys = this.paging.translate(lin, 2, this.cpl === 3);
    if (phys < 0) {
      this.cr2 = this.paging.faultAddress | 0;
      this.fault(PFV, this.paging.faultErrorCode);
    }
    this.noteLargePage(lin);
    return phys;
  }
  /** Code was decoded from `page`: have the memory report writes to it (codeWritten). */
  codeDecodedFrom(page: number): void {
    if (this.codePages[page] === 0) {
      this.codePages[page] = 1;
      this.memory.markCodePage(page);
    }
  }
  /** A write hit a page code was decoded from: drop its decoded instructions. */
  codeWritten(page: number): void {
    this.codePages[page] = 0;
    this.pageGen[page]++;
    this.fetchLin = 1; // refetch so the cached generation of the current code page is re-read
    this.advanceFetchEpoch();
    this.chunkBreak = true; // the rest of the running block may be stale
  }
  /** Forget every decoded instruction and block (RAM may have been rewritten without notification). */
  dropDecoded(): void {
    this.dTag.fill(-1);
    this.crossTag.fill(-1);
    this.bTag.fill(-1);
    this.advanceFetchEpoch();
    this.poolNext = POOL_BASE;
    this.codePages.fill(0);
    this.compiledCache.clear(); // the page generations did not see what changed
    this.warm?.forget();
  }
  private physWrite(val: number, lin: number): number {
    const phys = this.physOf(val, lin);
    const page = Math.floor(phys / 4096);
    // A device register write may raise an interrupt line: the run loop looks right after it.
    // (RAM above 2 GiB also takes this path: it is not a device.)
    if ((val & 1) !== 0 && !this.memory.isRamPage(page)) this.chunkBreak = true;
    if (page < 0x100000 && this.codePages[page] !== 0) this.codeWritten(page);
    return phys;
  }
  /** Translate (and fault) without accessing. */
  probe(lin: number, kind: number): void {
    const i = (kind << TLB_BITS) | ((lin >>> 12) & (TLB_SIZE - 1));
    if (this.tlbTag[i] !== ((lin & -4096) | 1)) this.tlbFill(lin, kind, 0);
  }
  /**
   * Translate (and fault) for an access of `kind` to the `bytes` at linear `lin`: its first page,
   * then, when the access runs into the next page, that one. A #PF on the second page reports its
   * first byte in CR2, as hardware does for a split access; both pages fault in address order.
   */
  probeSpan(lin: number, bytes: number, kind: number): void {
    this.probe(lin, kind);
    if ((lin & 4095) + bytes > 4096) this.probe((lin + bytes - 1) & -4096, kind);
  }
  /**
   * A store of `bytes` at linear `lin` written piece by piece (x87 operands, FNSAVE, FXSAVE, SGDT;
   * split word and dword stores call probeSpan themselves) that runs into the next page: both
   * pages are translated for writing first, so that a #PF on the second one leaves the first one
   * untouched.
   */
  probeStore(lin: number, bytes: number): void {
    if ((lin & 4095) + bytes > 4096) this.probeSpan(lin, bytes, this.userKind + 1);
  }
  /**
   * Offset into `ram` of linear `lin` for an access of `kind` (0..3) when its page is plain RAM
   * (and, for writes, holds no decoded code); -1 otherwise. Raises #PF like any access.
   */
  ramOffset(lin: number, kind: number): number {
    const i = (kind << TLB_BITS) | ((lin >>> 12) & (TLB_SIZE - 1));
    let v = this.tlbVal[i];
    if (this.tlbTag[i] !== ((lin & -4096) | 1)) {
      v = this.tlbFill(lin, kind, 0);
      // Pages with a data breakpoint are never cached (so they always miss): a bulk string access
      // would skip the breakpoint, so the caller goes element by element.
      if (this.bpData !== 0 && this.dataBreakpointPage(lin)) return -1;
    }
    if ((v & 1) !== 0 || ((kind & 1) !== 0 && this.codePages[v >>> 12] !== 0)) return -1;
    return v | (lin & 4095);
  }

  // Current-privilege linear accesses.
  read8(lin: number): number { return this.read8k(lin, this.userKind); }
  read16(lin: number): number { return this.read16k(lin, this.userKind); }
  read32(lin: number): number { return this.read32k(lin, this.userKind); }
  write8(lin: number, v: number): void { this.write8k(lin, v, this.userKind + 1); }
  write16(lin: number, v: number): void { this.write16k(lin, v, this.userKind + 1); }
  write32(lin: number, v: number): void { this.write32k(lin, v, this.userKind + 1); }
  /** Reads for read-modify-write: translated as writes so the fault (and dirty bit) is the write's. */
  readW8(lin: number): number { return this.read8k(lin, this.userKind + 1); }
  readW16(lin: number): number { return this.read16k(lin, this.userKind + 1); }
  readW32(lin: number): number { return this.read32k(lin, this.userKind + 1); }

  // =====================================================================================
  // Segmentation
  // =====================================================================================

  /** Linear address for a `size`-byte read of segment `seg` at offset `off`, with limit/type checks. */
  linR(seg: number, off: number, size: number): number {
    if (this.segCheck[seg] !== 0 || (off >>> 0) + size - 1 > this.segLimit[seg]) this.segSlow(seg, off, size, false);
    return (this.segBase[seg] + off) | 0;
  }
  /** Linear address for a `size`-byte write. */
  linW(seg: number, off: number, size: number): number {
    if (this.segCheck[seg] !== 0 || (off >>> 0) + size - 1 > this.segLimit[seg]) this.segSlow(seg, off, size, true);
    return (this.segBase[seg] + off) | 0;
  }
  /**
   * Linear address for a `size`-byte access with the segment's type and limit checks but not the
   * alignment check: x87 operands have alignment rules of their own (exec/system.ts esc).
   */
  linUnaligned(seg: number, off: number, size: number, write: boolean): number {
    if (this.segCheck[seg] !== 0 || (off >>> 0) + size - 1 > this.segLimit[seg]) this.segSlow(seg, off, size, write, false);
    return (this.segBase[seg] + off) | 0;
  }
  private segSlow(seg: number, off: number, size: number, write: boolean, align = true): void {
    const chk = this.segCheck[seg];
    const vec = seg === SS ? SSF : GP;
    if (chk & (write ? CHK_NO_WRITE : CHK_NO_READ)) this.fault(vec, 0);
    const o = off >>> 0;
    if (chk & CHK_EXPAND_DOWN) {
      const upper = (this.segAttr[seg] & 0x4000) !== 0 ? 0xffffffff : 0xffff;
      if (o <= this.segLimit[seg] || o + size - 1 > upper) this.fault(vec, 0);
    } else if (o + size - 1 > this.segLimit[seg]) this.fault(vec, 0);
    if (align && (chk & CHK_ALIGN) !== 0 && size < ALIGN_MASK.length) {
      this.checkAlignment((this.segBase[seg] + off) | 0, ALIGN_MASK[size], size, write ? this.userKind + 1 : this.userKind);
    }
  }
  /**
   * #AC(0) when linear `lin` is not aligned to `mask` + 1. The SDM ranks #PF above #AC, so the
   * pages of the access are translated first (a not-present page faults as #PF).
   */
  checkAlignment(lin: number, mask: number, size: number, kind: number): void {
    if ((lin & mask) === 0) return;
    this.probeSpan(lin, size, kind);
    this.fault(ACV, 0);
  }
  /**
   * Recompute whether alignment checks apply (CR0.AM and EFLAGS.AC at CPL 3) after a change of
   * CR0, EFLAGS.AC or CPL, and fold the result into the data segments' check bits.
   */
  /** updateAlignCheck after segment check bits were rewritten wholesale (reset, restore, mode switch). */
  syncAlignCheck(): void {
    this.alignCheck = 0;
    for (let s = 0; s < 6; s++) this.segCheck[s] &= ~CHK_ALIGN;
    this.updateAlignCheck();
  }
  updateAlignCheck(): void {
    const on = (this.cr0 & CR0_AM) !== 0 && (this.flags & AC) !== 0 && this.cpl === 3 ? CHK_ALIGN : 0;
    if (on === this.alignCheck) return;
    this.alignCheck = on;
    for (let s = 0; s < 6; s++) this.segCheck[s] = (this.segCheck[s] & ~CHK_ALIGN) | on;
    this.chunkBreak = true;
  }

  readSeg8(seg: number, off: number): number { return this.read8(this.linR(seg, off, 1)); }
  readSeg16(seg: number, off: number): number { return this.read16(this.linR(seg, off, 2)); }
  readSeg32(seg: number, off: number): number { return this.read32(this.linR(seg, off, 4)); }
  writeSeg8(seg: number, off: number, v: number): void { this.write8(this.linW(seg, off, 1), v); }
  writeSeg16(seg: number, off: number, v: number): void { this.write16(this.linW(seg, off, 2), v); }
  writeSeg32(seg: number, off: number, v: number): void { this.write32(this.linW(seg, off, 4), v); }

  /** Recompute the check bits of a segment from its attributes (protected mode). */
  updateSegCheck(seg: number): void {
    const a = this.segAttr[seg];
    let chk = 0;
    if ((a & 0x80) === 0) chk = CHK_NO_READ | CHK_NO_WRITE; // unusable (null or not present)
    else if (a & 0x8) { // code
      chk = CHK_NO_WRITE;
      if ((a & 0x2) === 0) chk |= CHK_NO_READ;
    } else {
      if ((a & 0x2) === 0) chk |= CHK_NO_WRITE;
      if (a & 0x4) chk |= CHK_EXPAND_DOWN;
    }
    this.segCheck[seg] = chk | (seg < 6 ? this.alignCheck : 0);
  }
  /** Real-mode / v8086 segment load: base = selector * 16. */
  loadSegReal(seg: number, sel: number): void {
    sel &= 0xffff;
    this.segSel[seg] = sel;
    this.segBase[seg] = sel << 4;
    if (this.flags & VM) {
      this.segLimit[seg] = 0xffff;
      this.segAttr[seg] = seg === CS ? 0xfb : 0xf3;
    } else {
      // Real mode keeps the cached limit ("unreal mode") but makes the segment usable and writable.
      this.segAttr[seg] = (this.segAttr[seg] & ~0xff) | 0x93 | (seg === CS ? 0x8 | 0x2 : 0);
    }
    this.segCheck[seg] = this.alignCheck;
    if (seg === CS) this.csChanged();
    else if (seg === SS) this.ssChanged();
  }
  csChanged(): void {
    this.cs32 = (this.segAttr[CS] & 0x4000) !== 0 && (this.cr0 & CR0_PE) !== 0 && (this.flags & VM) === 0;
    this.ipMask = this.cs32 ? -1 : 0xffff;
    this.chunkBreak = true;
    if (!(this.cr0 & CR0_PE) || (this.flags & VM)) this.segCheck[CS] = this.alignCheck;
    this.fetchLin = 1;
    // Interrupts and returns reload the same flat CS: entries of linear addresses stay right.
    if (this.segBase[CS] !== this.epochCsBase || this.segLimit[CS] !== this.epochCsLimit || this.cs32 !== this.epochCs32) this.advanceFetchEpoch();
  }
  ssChanged(): void {
    this.ss32 = (this.segAttr[SS] & 0x4000) !== 0 && (this.cr0 & CR0_PE) !== 0 && (this.flags & VM) === 0;
  }
  setCpl(cpl: number): void {
    if (cpl !== this.cpl) {
      // Instructions retired so far belong to the old CPL (USR/OS qualification of the counters),
      // and the run piece was measured for counters counting at the old one.
      if (this.pmu.active) foldCounters(this);
      if (this.pmu.armed) this.pmu.pieceStale = true;
      this.cpl = cpl; this.fetchLin = 1; this.chunkBreak = true;
    }
    this.userKind = cpl === 3 ? 2 : 0;
    this.selectFetchEpoch();
    this.updateAlignCheck();
  }

  // ---- stack ----
  /** Push a value of 2 or 4 bytes. ESP changes only if the write succeeded. */
  push16(v: number): void {
    if (this.ss32 === true) {
      const sp = (this.r32[8] - 2) | 0;
      this.write16(this.linW(SS, sp, 2), v);
      this.r32[8] = sp;
    } else {
      const sp = (this.r16[16] - 2) & 0xffff;
      this.write16(this.linW(SS, sp, 2), v);
      this.r16[16] = sp;
    }
  }
  push32(v: number): void {
    if (this.ss32 === true) {
      const sp = (this.r32[8] - 4) | 0;
      this.write32(this.linW(SS, sp, 4), v);
      this.r32[8] = sp;
    } else {
      const sp = (this.r16[16] - 4) & 0xffff;
      this.write32(this.linW(SS, sp, 4), v);
      this.r16[16] = sp;
    }
  }
  pushV(v: number, o32: boolean): void {
    if (o32) this.push32(v); else this.push16(v);
  }
  /** Stack offset of the top of stack plus `delta`, wrapped to the stack size. */
  spOff(delta: number): number {
    return this.ss32 === true ? (this.r32[8] + delta) | 0 : (this.r16[16] + delta) & 0xffff;
  }
  addSp(delta: number): void {
    if (this.ss32 === true) this.r32[8] = (this.r32[8] + delta) | 0;
    else this.r16[16] = (this.r16[16] + delta) & 0xffff;
  }
  pop16(): number {
    const v = this.read16(this.linR(SS, this.spOff(0), 2));
    this.addSp(2);
    return v;
  }
  pop32(): number {
    const v = this.read32(this.linR(SS, this.spOff(0), 4));
    this.addSp(4);
    return v;
  }
  /** Read the stack at ESP+delta without popping. */
  peek16(delta: number): number { return this.read16(this.linR(SS, this.spOff(delta), 2)); }
  peek32(delta: number): number { return this.read32(this.linR(SS, this.spOff(delta), 4)); }

  // ---- GPR helpers ----
  getReg8(n: number): number { return this.r8[((n & 3) << 3) | (n >> 2)]; }
  setReg8(n: number, v: number): void { this.r8[((n & 3) << 3) | (n >> 2)] = v; }

  /** Protected mode, not v8086. */
  get protectedMode(): boolean { return (this.cr0 & CR0_PE) !== 0 && (this.flags & VM) === 0; }
  get iopl(): number { return (this.flags >> 12) & 3; }

  /** Descriptor table access (always supervisor). */
  readSys32(lin: number): number { return this.read32k(lin, 0); }
  writeSys32(lin: number, v: number): void { this.write32k(lin, v, 1); }
  readSys16(lin: number): number { return this.read16k(lin, 0); }
  writeSys16(lin: number, v: number): void { this.write16k(lin, v, 1); }
  readSys8(lin: number): number { return this.read8k(lin, 0); }
  writeSys8(lin: number, v: number): void { this.write8k(lin, v, 1); }
}
