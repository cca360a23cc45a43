/**
 * Where the CPU state that WebAssembly code reads and writes lives in the host area of a
 * `WebAssembly.Memory` (`PhysicalMemory` with `hostAreaBytes`; RAM follows the area in the same
 * memory). JavaScript keeps ordinary typed-array views of the same bytes, so the interpreter, its
 * handlers and the JavaScript block compiler use these arrays exactly as before; only where the
 * bytes are changes. Byte offsets from the start of the area; every array is aligned to its element.
 */
// (The FPU's FPU_BYTES (116) end below HOST.zero; a test checks that the areas do not overlap.)
export const HOST = {
  /** 16 registers of 8 bytes (CpuCore.regs). */
  regs: 0,
  /** Segment bases, 8 x i32. */
  segBase: 128,
  /** Segment check bits, 8 x i32. */
  segCheck: 160,
  /** Segment limits, 8 x f64. */
  segLimit: 192,
  /** What a WebAssembly block leaves for the JavaScript side when it returns (wasm/warm-blocks.ts EXIT). */
  exit: 256,
  /** Segment selectors, 8 x i32 (for the x87 pointers a translation writes). */
  segSel: 320,
  /** CR0, i32 (a translation checks EM and TS before it runs an x87 instruction itself). */
  cr0: 352,
  /** CpuCore.directEnd, i32 (translations made with paging off reach RAM below it without the TLB). */
  directEnd: 356,
  /**
   * EFLAGS.DF while WebAssembly runs, i32 (0 or DF): the run loop writes it before each call of the
   * dispatcher and the handler import after each handler (the only way WebAssembly code changes it),
   * so translations know which way a string instruction goes.
   */
  direction: 360,
  /** The built-in FPU's registers (fpu/fpu-registers.ts FPU_*, FPU_BYTES). */
  fpu: 384,
  /** Data TLB tags, 5 parts of 1024 x i32. */
  tlbTag: 4096,
  /** Data TLB values, 5 parts of 1024 x i32. */
  tlbVal: 4096 + 20480,
  /** Code-page marks, one byte per 4 KiB page of the 4 GiB space. */
  codePages: 65536,
  /** A dword that is always 0 (the interpreter's address operand for "no base" and "no index"). */
  zero: 4088,
  /** The dispatcher's jump cache: 2^WARM_JUMP_BITS entries of 8 x i32 (wasm/warm-blocks.ts WJ_*). */
  warmJumps: 65536 + (1 << 20),
  /** Runs of each warm block (by its first pool slot) through the dispatcher's chaining, WARM_SLOTS x u16. */
  warmRuns: 65536 + (1 << 20) + (32 << 14),
  /** The interpreter's record of each pool slot of a warm block, WARM_SLOTS x WARM_RECORD bytes (wasm/warm-blocks.ts R_*). */
  warmSlots: 65536 + (1 << 20) + (32 << 14) + (1 << 20),
} as const;

/** Entries of the dispatcher's jump cache, as a power of two (a Debian boot makes ~20,000 blocks warm). */
export const WARM_JUMP_BITS = 14;
/** Decoded-instruction slots the warm tier has records for (at least CpuCore's slot count). */
export const WARM_SLOTS = 1 << 19;
/** Bytes of one slot record. */
export const WARM_RECORD = 32;

/** Bytes of host area the CPU needs in front of RAM for its WebAssembly interpreter. */
export const CPU_HOST_AREA_BYTES = HOST.warmSlots + WARM_SLOTS * WARM_RECORD;
