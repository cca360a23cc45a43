/**
 * The parts of `@typevisor/mmu` the CPU uses, written from the CPU's side. `PhysicalMemory` and
 * `Paging` from `@typevisor/mmu` satisfy these structurally; tests may pass small fakes.
 */
export interface CpuMemory {
  readonly ram: Uint8Array;
  readPhys8(addr: number): number;
  readPhys16(addr: number): number;
  readPhys32(addr: number): number;
  writePhys8(addr: number, v: number): void;
  writePhys16(addr: number, v: number): void;
  writePhys32(addr: number, v: number): void;
  isRamPage(page: number): boolean;
  /**
   * The memory map as ranges (RAM first, then ROM and MMIO), as `PhysicalMemory.describe()` gives
   * it. Optional: without it the CPU finds where plain RAM ends page by page (isRamPage).
   */
  describe?(): ReadonlyArray<{ readonly kind: string; readonly base: number; readonly size: number }>;
  markCodePage(page: number): void;
  onCodeWrite: ((page: number) => void) | null;
  /**
   * Bytes in front of RAM in the same `WebAssembly.Memory` (`PhysicalMemory` with `hostAreaBytes`
   * of at least `CPU_HOST_AREA_BYTES`): the CPU keeps there the state its WebAssembly blocks use.
   * Optional; without it blocks run in the block loop and JavaScript only.
   */
  readonly hostArea?: Uint8Array | null;
  /** The WebAssembly memory that holds {@link CpuMemory.hostArea} and RAM. */
  readonly wasmMemory?: WebAssembly.Memory | null;
}

/** x86 paging as the CPU drives it (see `Paging` in `@typevisor/mmu`). */
export interface CpuPaging {
  setControl(cr0: number, cr3: number, cr4: number, efer: number): void;
  /** Single-register writes with exactly the flushes that MOV does (optional; setControl is the fallback). */
  writeCr0?(cr0: number): void;
  writeCr3?(cr3: number): void;
  writeCr4?(cr4: number): void;
  /** Set after a PAE PDPTE load that found reserved bits (MOV CR3/CR0/CR4 then raises #GP(0)). */
  readonly pdpteReservedFault?: boolean;
  setA20(enabled: boolean): void;
  invalidatePage(linear: number): void;
  /**
   * Whether the last successful translate() went through a 4 MiB or 2 MiB page. Without it the CPU
   * takes every translation for a large one: INVLPG then empties its whole TLB.
   */
  readonly lastTranslationLarge?: boolean;
  flush(includeGlobal: boolean): void;
  translate(linear: number, access: 0 | 1 | 2, user: boolean): number;
  readonly faultErrorCode: number;
  readonly faultAddress: number;
}
