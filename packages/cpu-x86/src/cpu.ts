import { Paging, type PhysicalMemory } from '@typevisor/mmu';
import { Fpu } from './fpu/fpu.js';
import { CR0_PE, CR4_SUPPORTED, CS, DS, ES, FLAGS_FIXED, FS, GS, LDTR, SS, TR, VM } from './constants.js';
import { CpuConfigurationError } from './errors.js';
import { BCACHE_SIZE, CpuCore } from './core.js';
import { WARM_RUNS, WarmTier } from './wasm/warm-blocks.js';
import { HOST } from './wasm/host-area.js';
import { HOT_RUNS } from './block-compiler.js';
import type { FpuEngine } from './fpu-engine.js';
import { checkCr0Change } from './exec/control-registers.js';
import { run, stopInfo } from './interpreter.js';
import { resetCounters } from './system/pmu.js';
import { restoreCpu, saveCpu, type CpuSnapshot } from './snapshot.js';
import type { CpuMemory, CpuPaging } from './memory-ports.js';
import type { ExceptionRecord, InterruptSource, PortIoBus, Registers, StopReason, TimeSource } from './types.js';

/** Options for {@link Cpu}. */
export interface CpuOptions {
  /** Guest physical memory (RAM, ROM, MMIO). */
  memory: PhysicalMemory;
  /** Port I/O (IN/OUT/INS/OUTS). */
  io: PortIoBus;
  /** The INTR line (e.g. a PIC or LAPIC); without it no external interrupts arrive. */
  interrupts?: InterruptSource;
  /** RDTSC source; without it the TSC counts retired instructions. */
  time?: TimeSource;
  /** Embedding/test mode: stop run() at the first exception instead of delivering it through the IDT/IVT. */
  stopOnException?: boolean;
  /** Paging unit to use instead of `new Paging(memory)` (tests, alternative MMUs). */
  paging?: CpuPaging;
  /** x87 unit to use instead of a new `Fpu`; `null` builds a CPU without FPU (CPUID reports none, ESC raises #NM). */
  fpu?: FpuEngine | null;
  /** Report an on-chip local APIC in CPUID (leaf 1 EDX bit 9): set when the machine has a LAPIC at APIC_BASE. */
  apic?: boolean;
  /** FERR# for x87 errors when CR0.NE = 0 (PC-compatible error reporting): the machine raises IRQ 13. */
  onFerr?: () => void;
  /**
   * Compile hot basic blocks to JavaScript functions (default true). Off, every block runs in the
   * block loop; the results are the same either way. Turned off automatically where the host
   * forbids code generation (a Content Security Policy without 'unsafe-eval').
   */
  compileBlocks?: boolean;
  /**
   * Runs of a block before it is compiled (default 16384, at most 65535): the JavaScript engine
   * charges each compiled block creation and warm-up time, so only code that loops gains. 1 compiles
   * every block on its first run (tests).
   */
  compileThreshold?: number;
  /**
   * Run blocks that have run {@link CpuOptions.warmThreshold} times, until they reach the compile
   * threshold, in the WebAssembly interpreter (default true; the README's "Warm blocks in
   * WebAssembly"). Needs a memory whose RAM sits in a `WebAssembly.Memory` behind a host area of at
   * least `CPU_HOST_AREA_BYTES` (`new PhysicalMemory({ ramSize, hostAreaBytes: CPU_HOST_AREA_BYTES })`);
   * with any other memory, or false, every block below the compile threshold runs in the
   * JavaScript block loop. The results are the same either way.
   */
  warmBlocks?: boolean;
  /** Block-loop runs of a block before the interpreter takes it (default 32, 1-65535; with {@link CpuOptions.warmBlocks}). */
  warmThreshold?: number;
  /**
   * With {@link CpuOptions.warmBlocks}: a warm block that reaches the compile threshold is translated
   * into a WebAssembly function of its own instead of compiled into JavaScript (the README's "Hot
   * blocks in WebAssembly"; a block that starts with HLT is still compiled). Default true (since
   * 2026-11-29: the default guest's boot, sha256 and the awk loop 5-15 % faster than with compiled
   * JavaScript, the Debian boot too); false compiles hot blocks into JavaScript. The results are
   * the same either way.
   */
  wasmHotBlocks?: boolean;
  /**
   * The performance-monitoring interrupt: called from inside {@link Cpu.run}, between instructions,
   * when a performance counter whose PerfEvtSel has INT (bit 20) set wraps past 2^40-1. On a P6 the
   * counter overflow is signalled to the local APIC, which delivers it as its LVT performance-counter
   * entry (APIC offset 0x340) says (fixed vector, NMI, or nothing while masked); the machine does
   * exactly that here and then lets run() continue (the interrupt is seen before the next
   * instruction when it is already pending at the APIC). For an INST_RETIRED counter the call comes
   * right after the wrapping instruction, otherwise at the end of the run() piece (see the README).
   * Must not call back into this CPU's run().
   */
  onPerformanceInterrupt?: () => void;
}

const FLAT_CODE_HI = 0x00cf9b00;
const FLAT_DATA_HI = 0x00cf9300;

/**
 * An i686 (P6-class) x86 CPU interpreter: real, 16/32-bit protected and virtual-8086 modes, paging
 * through `@typevisor/mmu`, IDT/IVT interrupt delivery, task switching, x87 through `Fpu`.
 *
 * @example
 * ```ts
 * const memory = new PhysicalMemory({ ramSize: 1 << 20 });
 * memory.ram.set([0xb8, 0x2a, 0, 0, 0, 0xf4], 0x1000);   // mov eax, 42; hlt
 * const cpu = new Cpu({ memory, io: { read: () => 0xff, write: () => {} } });
 * cpu.enterFlatProtectedMode(0);
 * cpu.setRegisters({ eip: 0x1000 });
 * cpu.run(100);                                            // 'halt'
 * cpu.getRegisters().eax;                                  // 42
 * ```
 */
export class Cpu {
  readonly #core: CpuCore;

  constructor(options: CpuOptions) {
    const memory = options.memory as unknown as CpuMemory;
    const paging = options.paging ?? (new Paging(options.memory) as CpuPaging);
    this.#core = new CpuCore(memory, paging, options.io, options.interrupts ?? null, options.time ?? null);
    // The built-in FPU's registers go into the host area, where translated code reads them.
    const hostArea = this.#core.hostArea;
    this.#core.fpu = options.fpu !== undefined ? options.fpu
      : new Fpu(hostArea !== null ? { buffer: hostArea.buffer, byteOffset: hostArea.byteOffset + HOST.fpu } : undefined);
    this.#core.compileBlocks = options.compileBlocks ?? true;
    const threshold = options.compileThreshold ?? HOT_RUNS;
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > 65535) {
      throw new CpuConfigurationError(`compileThreshold must be a whole number from 1 to 65535, not ${threshold}.`);
    }
    this.#core.compileThreshold = threshold;
    const warmThreshold = options.warmThreshold ?? WARM_RUNS;
    if (!Number.isInteger(warmThreshold) || warmThreshold < 1 || warmThreshold > 65535) {
      throw new CpuConfigurationError(`warmThreshold must be a whole number from 1 to 65535, not ${warmThreshold}.`);
    }
    const wasmMemory = memory.wasmMemory ?? null, area = this.#core.hostArea;
    if (options.warmBlocks !== false && area !== null && area.byteOffset === 0 && wasmMemory !== null && memory.ram.buffer === wasmMemory.buffer) {
      this.#core.warm = new WarmTier(this.#core, wasmMemory, BCACHE_SIZE, warmThreshold, options.wasmHotBlocks !== false);
    }
    this.#core.stopOnException = options.stopOnException ?? false;
    this.#core.reportApic = options.apic ?? false;
    this.#core.ferrHandler = options.onFerr ?? null;
    this.#core.pmu.onInterrupt = options.onPerformanceInterrupt ?? null;
    const core = this.#core;
    memory.onCodeWrite = (page: number): void => core.codeWritten(page);
    this.reset();
  }

  /**
   * Power-on state: real mode, CS=F000 (base FFFF0000), EIP=FFF0, EDX = CPU signature. Also forgets
   * every decoded instruction, so RAM rewritten directly through `memory.ram` before a reset is seen.
   */
  reset(): void {
    const c = this.#core;
    c.r32.fill(0);
    c.r32[4] = 0x0619;
    c.flags = FLAGS_FIXED;
    c.lazy = 0;
    c.cr0 = 0x60000010; c.cr2 = 0; c.cr3 = 0; c.cr4 = 0; c.efer = 0;
    c.dr.fill(0);
    c.dr[6] = 0xffff0ff0 | 0; c.dr[7] = 0x400;
    c.setCpl(0);
    for (const s of [ES, CS, SS, DS, FS, GS]) {
      c.segSel[s] = 0; c.segBase[s] = 0; c.segLimit[s] = 0xffff; c.segAttr[s] = 0x93; c.segCheck[s] = 0;
    }
    c.segSel[CS] = 0xf000;
    c.segBase[CS] = 0xffff0000 | 0;
    c.segAttr[CS] = 0x9b;
    c.segSel[LDTR] = 0; c.segBase[LDTR] = 0; c.segLimit[LDTR] = 0xffff; c.segAttr[LDTR] = 0x82;
    c.segSel[TR] = 0; c.segBase[TR] = 0; c.segLimit[TR] = 0xffff; c.segAttr[TR] = 0x8b;
    c.gdtBase = 0; c.gdtLimit = 0xffff; c.idtBase = 0; c.idtLimit = 0xffff;
    c.eip = 0xfff0; c.curEip = 0xfff0;
    c.sysenterCs = 0; c.sysenterEsp = 0; c.sysenterEip = 0; c.tscOffset = 0;
    c.msrStore.clear();
    c.halted = false; c.shadow = false; c.nmiPending = false; c.nmiBlocked = false; c.shutdown = false;
    c.retired = 0;
    resetCounters(c);
    c.csChanged(); c.ssChanged();
    c.paging.setControl(c.cr0, c.cr3, c.cr4, c.efer);
    c.paging.setA20(true);
    c.a20Open = true;
    c.flushTlb();
    c.syncAlignCheck();
    c.updateBreakpoints();
    // The embedder may have rewritten RAM directly (ram.set) before a reset: decode everything afresh.
    c.dropDecoded();
    c.fpu?.reset();
    this.#a20 = true;
    this.#lastException = null;
  }

  /** Run at most `budget` instructions. Never throws for guest behaviour (a CpuInternalError is an interpreter bug). */
  run(budget: number): StopReason {
    const c = this.#core;
    if (c.shutdown) return 'shutdown';
    const r = run(c, budget);
    if (r === 'exception' || r === 'shutdown') {
      this.#lastException = { vector: stopInfo.vector, errorCode: stopInfo.error < 0 ? null : stopInfo.error };
      if (r === 'shutdown') c.shutdown = true;
    }
    return r;
  }

  /** The architectural registers (segment registers as selectors; EFLAGS fully computed). */
  getRegisters(): Registers {
    const c = this.#core, r = c.r32;
    return {
      eax: r[0] >>> 0, ecx: r[2] >>> 0, edx: r[4] >>> 0, ebx: r[6] >>> 0,
      esp: r[8] >>> 0, ebp: r[10] >>> 0, esi: r[12] >>> 0, edi: r[14] >>> 0,
      eip: c.eip >>> 0, eflags: c.getFlags() >>> 0,
      cs: c.segSel[CS], ds: c.segSel[DS], es: c.segSel[ES], fs: c.segSel[FS], gs: c.segSel[GS], ss: c.segSel[SS],
      cr0: c.cr0 >>> 0, cr2: c.cr2 >>> 0, cr3: c.cr3 >>> 0, cr4: c.cr4 >>> 0,
    };
  }

  /**
   * Set registers. In real and v8086 mode a segment selector also sets the base (selector * 16);
   * in protected mode only the selector value changes and the descriptor cache is kept.
   * Throws {@link CpuConfigurationError} for control-register values the CPU would refuse with #GP.
   */
  setRegisters(values: Partial<Registers>): void {
    const c = this.#core, r = c.r32;
    const gpr: Array<[keyof Registers, number]> = [['eax', 0], ['ecx', 1], ['edx', 2], ['ebx', 3], ['esp', 4], ['ebp', 5], ['esi', 6], ['edi', 7]];
    for (const [k, n] of gpr) { const v = values[k]; if (v !== undefined) r[n * 2] = v; }
    if (values.eip !== undefined) c.eip = values.eip | 0;
    if (values.eflags !== undefined) {
      c.flags = (values.eflags & 0x3f7fd5) | FLAGS_FIXED;
      c.lazy = 0;
    }
    if (values.cr4 !== undefined) {
      if ((values.cr4 & ~CR4_SUPPORTED) !== 0) {
        throw new CpuConfigurationError(`CR4 bits 0x${(values.cr4 & ~CR4_SUPPORTED).toString(16)} are not supported by this CPU.`);
      }
      c.cr4 = values.cr4 | 0;
    }
    if (values.cr3 !== undefined) c.cr3 = values.cr3 | 0;
    if (values.cr2 !== undefined) c.cr2 = values.cr2 | 0;
    if (values.cr0 !== undefined) {
      const v = values.cr0 | 0;
      if ((v & 0x80000000) !== 0 && (v & CR0_PE) === 0) throw new CpuConfigurationError('CR0.PG requires CR0.PE; set both or neither.');
      if ((v & 0x20000000) !== 0 && (v & 0x40000000) === 0) throw new CpuConfigurationError('CR0.NW requires CR0.CD.');
      checkCr0Change(c, v);
    }
    if (values.cr3 !== undefined || values.cr4 !== undefined) {
      c.paging.setControl(c.cr0, c.cr3, c.cr4, c.efer);
      c.flushTlb();
    }
    const segs: Array<[keyof Registers, number]> = [['es', ES], ['cs', CS], ['ss', SS], ['ds', DS], ['fs', FS], ['gs', GS]];
    const realLike = (c.cr0 & CR0_PE) === 0 || (c.flags & VM) !== 0;
    for (const [k, s] of segs) {
      const v = values[k];
      if (v === undefined) continue;
      if (realLike) c.loadSegReal(s, v);
      else c.segSel[s] = v & 0xffff;
    }
    c.csChanged(); c.ssChanged();
    c.syncAlignCheck();
    c.halted = false;
  }

  /**
   * Put the CPU in 32-bit protected mode with flat 4 GiB code/data segments at CPL `cpl` (0 or 3),
   * paging off, no IDT and no TSS (so CPL 3 port I/O raises #GP(0)). Selectors: CS 0x08, data 0x10
   * (RPL = cpl). For embedding and differential tests.
   */
  enterFlatProtectedMode(cpl: 0 | 3 = 0): void {
    const c = this.#core;
    c.cr0 = (c.cr0 | CR0_PE | 0x10) & ~0x80000000;
    c.paging.setControl(c.cr0, c.cr3, c.cr4, c.efer);
    c.flushTlb();
    c.flags &= ~VM;
    const dpl = cpl << 13;
    c.setCpl(cpl);
    for (const s of [ES, SS, DS, FS, GS]) {
      const hi = FLAT_DATA_HI | dpl;
      c.segSel[s] = 0x10 | cpl; c.segBase[s] = 0; c.segLimit[s] = 0xffffffff; c.segAttr[s] = (hi >>> 8) & 0xf0ff;
      c.updateSegCheck(s);
    }
    const hi = FLAT_CODE_HI | dpl;
    c.segSel[CS] = 0x08 | cpl; c.segBase[CS] = 0; c.segLimit[CS] = 0xffffffff; c.segAttr[CS] = (hi >>> 8) & 0xf0ff;
    c.updateSegCheck(CS);
    c.idtBase = 0; c.idtLimit = 0;
    // No TSS either: CPL 3 port I/O finds no I/O permission bitmap and raises #GP(0), as on Linux.
    c.segSel[TR] = 0; c.segBase[TR] = 0; c.segLimit[TR] = 0; c.segAttr[TR] = 0;
    c.csChanged(); c.ssChanged();
    c.syncAlignCheck();
    c.halted = false;
  }

  #lastException: ExceptionRecord | null = null;
  /** After run() returned 'exception' (stopOnException) or 'shutdown' (the fault that caused the triple fault). */
  get lastException(): ExceptionRecord | null { return this.#lastException; }
  /** Instructions retired since reset (a REP string instruction counts once per resumption). */
  get instructionsRetired(): number { return this.#core.retired; }
  /**
   * Event statistics indexed by {@link CpuStat} (decoded instructions, blocks built, TLB misses,
   * page faults, exceptions). A live view: the CPU increments it on its slow paths only, and the
   * values only grow over the CPU's lifetime (`reset()` and `restoreState()` leave them), so a
   * reader takes differences. Decode-cache hits are `instructionsRetired - stats[CpuStat.DecodedInstructions]`.
   */
  get stats(): ArrayLike<number> { return this.#core.stats; }
  /**
   * Retired instructions by {@link InstructionClass} (ALU, data transfer, branch, string, x87,
   * system), counted while {@link Cpu.countInstructionMix} is on. A live view that only grows; while
   * counting, its sum advances exactly as {@link Cpu.instructionsRetired} does.
   */
  get instructionMix(): ArrayLike<number> { return this.#core.mix; }
  /**
   * Whether to count {@link Cpu.instructionMix}. Off by default: when off it costs two branches per
   * executed block; when on, one increment per retired instruction, added at the end of each block.
   */
  get countInstructionMix(): boolean { return this.#core.countMix; }
  set countInstructionMix(on: boolean) {
    this.#core.countMix = on;
    this.#core.mixBlock = -1;
  }
  /** Whether the CPU is halted (HLT) waiting for an interrupt. */
  get halted(): boolean { return this.#core.halted; }
  /** Current privilege level. */
  get cpl(): number { return this.#core.cpl; }
  /** Open/close the A20 gate (physical address bit 20 forced to 0 when closed). */
  setA20(enabled: boolean): void {
    this.#a20 = enabled;
    this.#core.paging.setA20(enabled);
    this.#core.a20Open = enabled;
    this.#core.flushTlb();
  }
  #a20 = true;

  /** Plain, versioned copy of the whole CPU state (registers, caches, MSRs, FPU). */
  saveState(): CpuSnapshot {
    return saveCpu(this.#core, this.#a20);
  }
  /**
   * Restore state from {@link Cpu.saveState} (typically after the machine restored RAM). Validates the
   * data and throws {@link CpuConfigurationError} for anything malformed.
   */
  restoreState(snapshot: CpuSnapshot): void {
    restoreCpu(this.#core, snapshot);
    this.#a20 = snapshot.a20 !== false;
    this.#lastException = null;
  }
  /** Assert NMI (edge): delivered before the next instruction unless an NMI handler is running. */
  raiseNmi(): void {
    this.#core.nmiPending = true;
    this.#core.chunkBreak = true;
  }
  /** Request that run() re-checks interrupts soon (call after raising an interrupt line). */
  notifyInterrupt(): void {
    this.#core.chunkBreak = true;
  }
  /**
   * End the run() in progress after the current instruction: it returns 'budget' early, with the
   * instructions retired so far. For a callback inside run() (port I/O, MMIO, a timer armed by a
   * device) whose consequence must not wait for the end of the budget, e.g. a machine that sized
   * the budget to reach its next timer deadline and sees an earlier one armed. A request made
   * while no run() is in progress is dropped.
   */
  requestStop(): void {
    const c = this.#core;
    c.stopRequested = true;
    c.chunkBreak = true;
  }
}
