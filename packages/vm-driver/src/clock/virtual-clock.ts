import type { Clock, TimerHandle } from '@typevisor/devices';
import type { ClockMode } from '../config.js';
import { TimerQueue } from './timer-queue.js';

/** TSC frequency the guest sees: 1 GHz, so one TSC tick is one virtual nanosecond. */
export const TSC_HZ = 1_000_000_000;
/** Most timers fired in one {@link VirtualClock.fireDueTimers} call. */
export const MAX_TIMERS_PER_STEP = 1024;

/** Options of {@link VirtualClock}. */
export type VirtualClockOptions =
  | {
      readonly mode: 'realtime';
      /** Host monotonic time in milliseconds; defaults to `performance.now`. */
      readonly hostNowMs?: () => number;
      /** Guest speed to assume until the machine has measured it (default 100 ns per instruction). */
      readonly initialNsPerInstruction?: number;
    }
  | {
      readonly mode: 'deterministic';
      /** Guest instructions per virtual nanosecond. */
      readonly instructionsPerNs: number;
    };

/** Guest speed a real-time clock assumes before the first measurement: 10 MIPS. */
export const DEFAULT_REALTIME_NS_PER_INSTRUCTION = 100;

/**
 * The one clock of a machine: the devices' {@link Clock} (PIT, RTC, LAPIC timer, PM timer), the CPU's
 * TSC source, and the timer queue the run loop drives.
 *
 * While the guest executes, virtual time always advances with the instructions it retires, so every
 * device sees one smooth, consistent time and a guest cannot observe host hiccups between two of its
 * instructions. The modes differ in the rate and in idle time:
 * - `deterministic`: a fixed rate, and idle time is skipped to the next deadline, so a run with the
 *   same inputs is reproducible instruction by instruction;
 * - `realtime`: the rate is the guest's measured speed on this host ({@link VirtualClock.setGuestSpeed}),
 *   and while the guest idles (HLT, waiting) time follows the host's monotonic clock, so timers and
 *   sleeps take real time. Host stalls (the process descheduled, a GC pause) are not guest time; on an
 *   overloaded host the guest's clock therefore runs behind the wall clock.
 * Time stands still while the machine is paused.
 */
export class VirtualClock implements Clock {
  readonly mode: ClockMode;
  private readonly timers = new TimerQueue();
  private readonly hostNowMs: () => number;
  private nsPerInstruction: number;
  private instructionCounter: () => number = () => 0;
  // The three counts below start as -0, a double, and the constructor sets 0, so that V8 keeps them
  // as double fields from the start: they outgrow its 31-bit small integers in a long run, and the
  // change of the object's field layout then would throw away all optimised code that uses the clock.
  /** Virtual time at the last rebase. */
  private baseNs = -0;
  /** Instruction count at the last rebase. */
  private baseInstructions = -0;
  /** Host time (ms) at the last rebase. */
  private baseHostMs = -0;
  private running = false;
  /** Realtime mode: the guest is idle and time follows the host clock. */
  private idle = false;

  constructor(options: VirtualClockOptions) {
    this.mode = options.mode;
    if (options.mode === 'realtime') {
      this.hostNowMs = options.hostNowMs ?? (() => performance.now());
      this.nsPerInstruction = options.initialNsPerInstruction ?? DEFAULT_REALTIME_NS_PER_INSTRUCTION;
    } else {
      this.hostNowMs = () => 0;
      this.nsPerInstruction = 1 / options.instructionsPerNs;
    }
    if (!(this.nsPerInstruction > 0) || !Number.isFinite(this.nsPerInstruction)) throw new RangeError('the guest instruction rate must be positive');
    this.baseNs = 0;
    this.baseInstructions = 0;
    this.baseHostMs = 0;
  }

  /** Where the instruction count comes from (the CPU's `instructionsRetired`). */
  attachInstructionCounter(counter: () => number): void {
    this.rebase();
    this.instructionCounter = counter;
    this.baseInstructions = counter();
  }

  /** Call right before the instruction counter restarts from zero (CPU reset); time keeps going. */
  instructionCounterWillReset(): void {
    this.baseNs = this.now();
    this.baseInstructions = 0;
  }

  /** Starts or stops the passing of time (start, pause, resume, stop). */
  setRunning(running: boolean): void {
    if (running === this.running) return;
    this.rebase();
    this.running = running;
  }

  /** Realtime mode: the guest went idle (time follows the host) or executes again (time follows instructions). */
  setIdle(idle: boolean): void {
    if (this.mode !== 'realtime' || idle === this.idle) return;
    this.rebase();
    this.idle = idle;
  }

  /** Realtime mode: the guest's measured speed in host nanoseconds per instruction (from now on). */
  setGuestSpeed(nsPerInstruction: number): void {
    if (this.mode !== 'realtime' || !(nsPerInstruction > 0) || !Number.isFinite(nsPerInstruction)) return;
    this.rebase();
    this.nsPerInstruction = nsPerInstruction;
  }

  /** Virtual nanoseconds per guest instruction (fixed in deterministic mode, learned in realtime mode). */
  get guestNsPerInstruction(): number {
    return this.nsPerInstruction;
  }

  now(): number {
    if (this.mode === 'realtime') {
      if (!this.running) return this.baseNs;
      if (this.idle) return this.baseNs + (this.hostNowMs() - this.baseHostMs) * 1e6;
    }
    return this.baseNs + (this.instructionCounter() - this.baseInstructions) * this.nsPerInstruction;
  }

  private rebase(): void {
    this.baseNs = this.now();
    this.baseInstructions = this.instructionCounter();
    this.baseHostMs = this.hostNowMs();
  }

  /**
   * Called with the deadline of every timer armed (the machine ends a CPU slice sized for a later
   * deadline when a device arms an earlier one from inside it).
   */
  onTimerArmed: ((deadlineNs: number) => void) | null = null;

  setTimer(deadlineNs: number, callback: () => void): TimerHandle {
    const handle = this.timers.add(deadlineNs, callback);
    this.onTimerArmed?.(deadlineNs);
    return handle;
  }

  /** The TSC: cycles at {@link TSC_HZ}, integral and monotonic. Implements cpu-x86's `TimeSource`. */
  readTsc(): number {
    return Math.floor(this.now() * (TSC_HZ / 1e9));
  }

  /** Deadline of the next timer in virtual ns, or `Infinity`. */
  nextDeadline(): number {
    return this.timers.nextDeadline();
  }

  /** Number of live timers. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Fires every due timer (bounded by {@link MAX_TIMERS_PER_STEP}); returns how many fired. */
  fireDueTimers(): number {
    return this.timers.fireDue(this.now(), MAX_TIMERS_PER_STEP);
  }

  /** Deterministic mode: jumps virtual time forward to `ns` (idle guest). Never goes backwards. */
  skipTo(ns: number): void {
    if (this.mode !== 'deterministic') throw new Error('only a deterministic clock can skip time');
    const now = this.now();
    if (ns > now && Number.isFinite(ns)) this.baseNs += ns - now;
  }

  /** Instructions the guest may run before virtual time reaches `deadlineNs` at the current rate. */
  instructionsUntil(deadlineNs: number): number {
    const ns = deadlineNs - this.now();
    if (ns <= 0) return 0;
    return Number.isFinite(ns) ? Math.ceil(ns / this.nsPerInstruction) : Infinity;
  }

  /** Plain state for snapshots: the virtual time (timers belong to their devices). */
  saveState(): { readonly nowNs: number } {
    return { nowNs: this.now() };
  }

  /** Continues from a saved virtual time. */
  restoreState(state: { readonly nowNs: number }): void {
    this.rebase();
    this.baseNs = state.nowNs;
  }
}
