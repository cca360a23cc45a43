import { CR0_PE, CR4_PCE, VM } from '../constants.js';
import type { CpuCore } from '../core.js';

/**
 * P6-family performance-monitoring counters (SDM vol. 3, "Performance Monitoring for P6 Family
 * Processors"): PerfEvtSel0/1 (MSR 0x186/0x187) and the 40-bit PerfCtr0/1 (MSR 0xC1/0xC2), read
 * with RDMSR or RDPMC.
 *
 * Counting costs nothing per instruction. The CPU already counts retired instructions (`retired`);
 * the counters take the difference since the last "fold" and add it to every enabled counter that
 * counts at the privilege level the instructions ran at. A fold happens wherever that privilege
 * can change (`setCpl`), before any counter or event select is read or written, before a snapshot,
 * at HLT and at the end of each run piece, so each instruction is attributed to the CPL it retired
 * at (an IRET to ring 3 counts as a ring-3 instruction, an INT n from ring 3 as a ring-0 one).
 *
 * What a cycle is here (CPU_CLK_UNHALTED): one tick of the TSC the machine supplies (`time.readTsc`;
 * without a time source the TSC is the retired-instruction count, so one cycle per instruction).
 * typevisor's machine clock advances its TSC with the instructions the guest retires and, while
 * the CPU is halted, with idle time; counting TSC ticks between folds while the CPU is not halted
 * therefore measures exactly the virtual time the guest spent executing, at the TSC frequency the
 * guest calibrates against, which is what the P6 event reports on hardware whose core clock is its
 * TSC clock. Halted time is excluded: HLT folds and the wake-up (interrupt delivery) discards the
 * ticks that passed in between.
 *
 * Events counted: INST_RETIRED (0xC0), CPU_CLK_UNHALTED (0x79), HW_INT_RX (0xC8, external
 * interrupts and NMI delivered). With any other event select a counter never advances. The
 * unit mask, E (edge), PC (pin control), INV and CMASK fields are stored but do not change what is
 * counted: there is no per-cycle event stream to compare against CMASK.
 */
export class PerformanceCounters {
  /** PerfEvtSel0/1 as written (the high dword is reserved and reads 0). */
  readonly eventSelect = new Int32Array(2);
  /** PerfCtr0/1: unsigned 40-bit values (exact in a float64). */
  readonly counter = new Float64Array(2);
  /** PerfEvtSel0.EN: on P6 it enables both counters. The only thing `setCpl` looks at. */
  active = false;
  /**
   * Some event select has INT set (enabled or not): run() then runs in pieces that end where a
   * counter can wrap (`instructionsUntilOverflow`).
   */
  armed = false;
  /**
   * What the current piece's length was computed from has changed (a PMU MSR written, the CPL
   * changed, a counter wrapped): run() ends the piece at the next chunk and computes a new one.
   */
  pieceStale = false;
  /** TSC ticks per retired instruction over the last executing stretch (0: not measured yet). */
  ticksPerInstruction = 0;
  /** `retired` and the raw TSC at the last fold. */
  markRetired = 0;
  markTsc = 0;
  /** The CPU halted with counters enabled: the TSC ticks until the next fold are not cycles. */
  sleeping = false;
  /** The TSC mark is not trustworthy (reset, restore): the next fold drops its TSC ticks. */
  rebaseTime = true;
  /** A counter with INT set wrapped; run() reports it through `onInterrupt` and clears this. */
  interruptPending = false;
  /** The machine's performance-monitoring interrupt (its local APIC LVT performance-counter entry). */
  onInterrupt: (() => void) | null = null;
}

/** PerfEvtSel bits. */
export const EVTSEL_USR = 1 << 16, EVTSEL_OS = 1 << 17, EVTSEL_INT = 1 << 20, EVTSEL_EN = 1 << 22;
/** The events typevisor counts. */
export const EVENT_INST_RETIRED = 0xc0, EVENT_CPU_CLK_UNHALTED = 0x79, EVENT_HW_INT_RX = 0xc8;
/** MSR numbers. */
export const MSR_PERFCTR0 = 0xc1, MSR_PERFCTR1 = 0xc2, MSR_PERFEVTSEL0 = 0x186, MSR_PERFEVTSEL1 = 0x187;

const COUNTER_RANGE = 2 ** 40;
/**
 * Shortest run piece for an interrupting CPU_CLK_UNHALTED counter: its wrap is reported at the end
 * of the piece it falls in, so at most about this many instructions late.
 */
const MIN_CYCLE_PIECE = 1024;
/** Fewest instructions a fold must span for its TSC ticks to be taken as the rate (`ticksPerInstruction`). */
const RATE_SPAN = 256;

function rawTsc(c: CpuCore): number {
  return c.time !== null ? c.time.readTsc() : c.retired;
}

function add(p: PerformanceCounters, i: number, n: number): void {
  let v = p.counter[i] + n;
  if (v >= COUNTER_RANGE) {
    v %= COUNTER_RANGE;
    if ((p.eventSelect[i] & EVTSEL_INT) !== 0) p.interruptPending = p.pieceStale = true;
  }
  p.counter[i] = v;
}

function selectsChanged(p: PerformanceCounters): void {
  p.active = (p.eventSelect[0] & EVTSEL_EN) !== 0;
  p.armed = ((p.eventSelect[0] | p.eventSelect[1]) & EVTSEL_INT) !== 0;
}

/** Attribute the instructions and cycles since the last fold to the current CPL. */
export function foldCounters(c: CpuCore): void {
  const p = c.pmu;
  const retired = c.retired, tsc = rawTsc(c);
  const instructions = retired - p.markRetired;
  let cycles = tsc - p.markTsc;
  p.markRetired = retired;
  p.markTsc = tsc;
  if (p.sleeping || p.rebaseTime || cycles < 0) cycles = 0;
  else if (instructions >= RATE_SPAN) p.ticksPerInstruction = cycles / instructions;
  p.rebaseTime = false;
  if (p.sleeping && !c.halted) p.sleeping = false;
  if (!p.active) return;
  const mode = c.cpl === 3 ? EVTSEL_USR : EVTSEL_OS;
  for (let i = 0; i < 2; i++) {
    const sel = p.eventSelect[i];
    if ((sel & mode) === 0) continue;
    const event = sel & 0xff;
    if (event === EVENT_INST_RETIRED) add(p, i, instructions);
    else if (event === EVENT_CPU_CLK_UNHALTED) add(p, i, cycles);
  }
}

/** HLT with counters enabled: cycles stop until the CPU is woken (deliver calls countersWake). */
export function countersHalt(c: CpuCore): void {
  foldCounters(c);
  c.pmu.sleeping = true;
}

/**
 * An interrupt or NMI ends HLT: fold while still marked asleep, so the TSC ticks since the HLT are
 * dropped and the HLT instruction itself (it retired after countersHalt) is counted.
 */
export function countersWake(c: CpuCore): void {
  foldCounters(c);
  c.pmu.sleeping = false;
}

/** HW_INT_RX: an external interrupt or NMI is being delivered (at the CPL it interrupted). */
export function countHardwareInterrupt(c: CpuCore): void {
  const p = c.pmu;
  const mode = c.cpl === 3 ? EVTSEL_USR : EVTSEL_OS;
  for (let i = 0; i < 2; i++) {
    const sel = p.eventSelect[i];
    if ((sel & mode) !== 0 && (sel & 0xff) === EVENT_HW_INT_RX) add(p, i, 1);
  }
}

/**
 * Instructions run() may execute as one piece (Infinity when no counter can interrupt now).
 *
 * - An INST_RETIRED counter that counts at the current CPL ends the piece exactly where it wraps.
 * - A CPU_CLK_UNHALTED counter advances with the TSC, which no instruction count predicts exactly
 *   (the machine's clock may follow host time). The piece covers half of what is left to its wrap
 *   at the last measured rate, so pieces shrink as the wrap nears, down to MIN_CYCLE_PIECE. A
 *   watchdog counter loaded with two seconds of cycles costs a few dozen pieces, not one per
 *   thousand instructions (which sent the Debian boot's every block-run end to the slow path).
 * - Anything else cannot wrap inside a piece: a counter that does not count at this CPL or is not
 *   enabled waits for a CPL change or a WRMSR, and HW_INT_RX for an interrupt delivery, and each of
 *   those marks the piece stale (`pieceStale`), which ends it.
 */
export function instructionsUntilOverflow(c: CpuCore): number {
  const p = c.pmu;
  foldCounters(c);
  p.pieceStale = false;
  if (!p.active) return Infinity;
  let min = Infinity;
  const mode = c.cpl === 3 ? EVTSEL_USR : EVTSEL_OS;
  for (let i = 0; i < 2; i++) {
    const sel = p.eventSelect[i];
    if ((sel & EVTSEL_INT) === 0 || (sel & mode) === 0) continue;
    const left = COUNTER_RANGE - p.counter[i];
    const event = sel & 0xff;
    if (event === EVENT_INST_RETIRED) min = Math.min(min, left);
    else if (event === EVENT_CPU_CLK_UNHALTED) {
      const rate = p.ticksPerInstruction;
      const piece = rate > 0 ? Math.floor(left / rate / 2) : MIN_CYCLE_PIECE;
      min = Math.min(min, Math.max(piece, MIN_CYCLE_PIECE));
    }
  }
  return min;
}

/** End of a run piece: fold, and raise the performance-monitoring interrupt if a counter wrapped. */
export function reportOverflow(c: CpuCore): void {
  foldCounters(c);
  const p = c.pmu;
  if (!p.interruptPending) return;
  p.interruptPending = false;
  if (p.onInterrupt !== null) p.onInterrupt();
}

/** RDMSR of a PMU MSR into EDX:EAX; false (nothing read) when `msr` is not one. */
export function readCounterMsr(c: CpuCore, msr: number): boolean {
  const p = c.pmu;
  foldCounters(c);
  switch (msr) {
    case MSR_PERFCTR0: case MSR_PERFCTR1: {
      const v = p.counter[msr - MSR_PERFCTR0];
      c.r32[0] = v % 4294967296;
      c.r32[4] = Math.floor(v / 4294967296);
      return true;
    }
    case MSR_PERFEVTSEL0: case MSR_PERFEVTSEL1:
      c.r32[0] = p.eventSelect[msr - MSR_PERFEVTSEL0];
      c.r32[4] = 0;
      return true;
    default: return false;
  }
}

/**
 * WRMSR of a PMU MSR (false when `msr` is not one). A counter write takes the low 32 bits
 * sign-extended to 40 (the high dword is ignored), so software loads -period with one write.
 */
export function writeCounterMsr(c: CpuCore, msr: number, lo: number): boolean {
  const p = c.pmu;
  foldCounters(c);
  switch (msr) {
    case MSR_PERFCTR0: case MSR_PERFCTR1:
      p.counter[msr - MSR_PERFCTR0] = lo < 0 ? COUNTER_RANGE + lo : lo;
      break;
    case MSR_PERFEVTSEL0: case MSR_PERFEVTSEL1:
      p.eventSelect[msr - MSR_PERFEVTSEL0] = lo;
      selectsChanged(p);
      break;
    default: return false;
  }
  // The run piece was measured for the old values: end it after this instruction.
  p.pieceStale = true;
  c.chunkBreak = true;
  return true;
}

/**
 * RDPMC: ECX 0 or 1 (anything else #GP(0)); allowed at CPL 0 and in real mode, at CPL > 0 and in
 * v8086 mode only with CR4.PCE. EDX:EAX = the 40-bit counter.
 */
export function rdpmc(c: CpuCore): void {
  const n = c.r32[2];
  if (n !== 0 && n !== 1) c.gp(0);
  if ((c.cr4 & CR4_PCE) === 0 && (c.cr0 & CR0_PE) !== 0 && (c.cpl !== 0 || (c.flags & VM) !== 0)) c.gp(0);
  readCounterMsr(c, MSR_PERFCTR0 + n);
}

/** Power-on state: event selects cleared (counting off), counters 0. */
export function resetCounters(c: CpuCore): void {
  const p = c.pmu;
  p.eventSelect.fill(0);
  p.counter.fill(0);
  p.active = false;
  p.armed = false;
  p.sleeping = false;
  p.interruptPending = false;
  p.markRetired = c.retired;
  p.rebaseTime = true;
  p.ticksPerInstruction = 0;
  p.pieceStale = true;
}

/** Snapshot form of the counters (folded first, so nothing is left uncounted). */
export interface PmuSnapshot {
  /** PerfEvtSel0, PerfEvtSel1 (uint32). */
  readonly eventSelect: readonly [number, number];
  /** PerfCtr0, PerfCtr1 (0 .. 2^40-1). */
  readonly counters: readonly [number, number];
  /** A counter overflow not yet reported to the machine. */
  readonly interruptPending: boolean;
}

export function savePmu(c: CpuCore): PmuSnapshot {
  foldCounters(c);
  const p = c.pmu;
  return {
    eventSelect: [p.eventSelect[0] >>> 0, p.eventSelect[1] >>> 0],
    counters: [p.counter[0], p.counter[1]],
    interruptPending: p.interruptPending,
  };
}

/** Validates like the rest of the snapshot: returns what is wrong, or null. */
export function pmuSnapshotProblem(s: unknown): string | null {
  if (typeof s !== 'object' || s === null) return 'pmu must be an object';
  const v = s as Partial<PmuSnapshot>;
  const pair = (x: unknown, max: number): boolean => Array.isArray(x) && x.length === 2
    && x.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max);
  if (!pair(v.eventSelect, 0xffffffff)) return 'pmu.eventSelect must be two uint32';
  if (!pair(v.counters, COUNTER_RANGE - 1)) return 'pmu.counters must be two 40-bit unsigned integers';
  if (typeof v.interruptPending !== 'boolean') return 'pmu.interruptPending must be a boolean';
  return null;
}

/** Restore (after `retired`, CPL and `halted` are restored); `s` null means a version-1 snapshot. */
export function restorePmu(c: CpuCore, s: PmuSnapshot | null): void {
  resetCounters(c);
  if (s === null) return;
  const p = c.pmu;
  p.eventSelect[0] = s.eventSelect[0]; p.eventSelect[1] = s.eventSelect[1];
  p.counter[0] = s.counters[0]; p.counter[1] = s.counters[1];
  selectsChanged(p);
  p.interruptPending = s.interruptPending;
  p.sleeping = c.halted;
}
