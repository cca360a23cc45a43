/**
 * CPU event statistics. Every counter sits on a path that is already slow (decoding, a page walk,
 * exception delivery, a call from JavaScript into WebAssembly), so counting costs one array
 * increment there and nothing in the block loop.
 */

/**
 * Index of each CPU statistic in `Cpu.stats`, e.g. `cpu.stats[CpuStat.PageFaults]`.
 *
 * Decode-cache hits are not counted: they are `instructionsRetired - DecodedInstructions`
 * (approximately: a block may decode instructions past a taken branch that never run).
 */
export const CpuStat = {
  /** Instructions decoded, into a block or the single-step cache: the decode-cache misses. */
  DecodedInstructions: 0,
  /** Basic blocks built (including empty ones for addresses run one instruction at a time). */
  BlocksBuilt: 1,
  /** Data-TLB refills: data accesses that walked the page tables (`Paging.translate`). */
  TlbMisses: 2,
  /** Instruction-fetch page translations: the fetch page changed to one the fetch translation cache did not hold (first fetch from it, or after a TLB flush). */
  FetchTranslations: 3,
  /** Page faults (#PF) delivered or stopped on. */
  PageFaults: 4,
  /** Exceptions delivered or stopped on (any vector, #PF and #DF included; not INT n/INT3/INTO). */
  Exceptions: 5,
  /** Hot blocks compiled to JavaScript functions (src/block-compiler.ts). */
  BlocksCompiled: 6,
  /** Blocks handed to the WebAssembly interpreter (CpuOptions.warmBlocks; src/wasm/warm-blocks.ts). */
  BlocksWarmed: 7,
  /**
   * Calls of the warm-block dispatcher from the run loop: each a crossing from JavaScript into
   * WebAssembly and back, after which the dispatcher ran one warm block or more (it goes on from
   * block to block by itself while it finds the next one warm).
   */
  WarmCalls: 8,
  /**
   * Jump-cache epochs: how often the run loop's and the warm dispatcher's jump caches (compiled and
   * warm blocks by linear address) were emptied because what a linear address runs may have
   * changed: a TLB flush, an INVLPG of a page blocks were entered on, a CS with another base, limit
   * or size, a write to decoded code, the decoded-slot pool starting over.
   */
  FetchEpochs: 9,
  /** Hot warm blocks translated into WebAssembly functions (CpuOptions.wasmHotBlocks; src/wasm/hot-blocks.ts). */
  BlocksTranslated: 10,
  /**
   * Blocks that translations took in besides their first: the region of a translated block is the
   * translated blocks it reaches through constant targets, which it goes on to without returning to
   * the dispatcher (src/wasm/hot-blocks.ts).
   */
  RegionMembers: 11,
} as const;

/** Number of CPU statistics (the length of `Cpu.stats`). */
export const CPU_STAT_COUNT = 12;
