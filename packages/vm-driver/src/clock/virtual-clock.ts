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
    }
  | {
      readonly mode: 'deterministic';
      /** Guest instructions per virtual nanosecond. */
      readonly instructionsPerNs: number;
    };

/**
 * The one clock of a machine: the devices' {@link Clock} (PIT, RTC, LAPIC timer, PM timer), the CPU's
 * TSC source, and the timer queue the run loop drives. In `realtime` mode virtual time is host
 * monotonic time while the machine runs (it stands still while paused); in `deterministic` mode it is
 * `instructions retired / rate` plus the idle time skipped while the guest was halted, so a run with
 * the same inputs is reproducible instruction by instruction.
 */
export class VirtualClock implements Clock {
  readonly mode: ClockMode;
  private readonly timers = new TimerQueue();
  private readonly hostNowMs: () => number;
  private readonly nsPerInstruction: number;
  private instructionCounter: () => number = () => 0;
  /** Virtual time at the last rebase. */
  private baseNs = 0;
  /** Host time (ms) or instruction count at the last rebase. */
  private baseSource = 0;
  private running = false;
  /** Realtime mode: the largest time returned so far (monotonic across {@link discountHostTime}). */
  private floorNs = 0;

  constructor(options: VirtualClockOptions) {
    this.mode = options.mode;
    if (options.mode === 'realtime') {
      this.hostNowMs = options.hostNowMs ?? (() => performance.now());
      this.nsPerInstruction = 0;
    } else {
      if (!(options.instructionsPerNs > 0)) throw new RangeError('instructionsPerNs must be positive');
      this.hostNowMs = () => 0;
      this.nsPerInstruction = 1 / options.instructionsPerNs;
    }
  }

  /** Deterministic mode: where the instruction count comes from (the CPU's `instructionsRetired`). */
  attachInstructionCounter(counter: () => number): void {
    this.baseNs = this.now();
    this.instructionCounter = counter;
    this.baseSource = counter();
  }

  /** Call right before the instruction counter restarts from zero (CPU reset); time keeps going. */
  instructionCounterWillReset(): void {
    this.baseNs = this.now();
    this.baseSource = 0;
  }

  /** Realtime mode: starts or stops the passing of time (pause, resume). */
  setRunning(running: boolean): void {
    if (running === this.running) return;
    this.baseNs = this.now();
    this.running = running;
    this.baseSource = this.mode === 'realtime' ? this.hostNowMs() : this.instructionCounter();
  }

  now(): number {
    if (this.mode === 'deterministic') {
      return this.baseNs + (this.instructionCounter() - this.baseSource) * this.nsPerInstruction;
    }
    if (!this.running) return this.baseNs;
    const ns = this.baseNs + (this.hostNowMs() - this.baseSource) * 1e6;
    // After a discount the formula may fall below a value already handed out: hold time still instead.
    if (ns < this.floorNs) return this.floorNs;
    this.floorNs = ns;
    return ns;
  }

  /**
   * Realtime mode: hides `ms` of host time that has passed (a host stall the guest should not see as
   * time). Virtual time never goes backwards: if the guest already saw part of the stall, time stands
   * still until the host clock catches up with what it saw.
   */
  discountHostTime(ms: number): void {
    if (this.mode !== 'realtime' || !this.running || !(ms > 0)) return;
    this.baseSource += ms;
  }

  setTimer(deadlineNs: number, callback: () => void): TimerHandle {
    return this.timers.add(deadlineNs, callback);
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

  /** Instructions the guest may run before virtual time reaches `deadlineNs` (deterministic mode). */
  instructionsUntil(deadlineNs: number): number {
    if (this.mode !== 'deterministic') return Infinity;
    const ns = deadlineNs - this.now();
    return ns <= 0 ? 0 : Math.ceil(ns / this.nsPerInstruction);
  }

  /** Plain state for snapshots: the virtual time (timers belong to their devices). */
  saveState(): { readonly nowNs: number } {
    return { nowNs: this.now() };
  }

  /** Continues from a saved virtual time. */
  restoreState(state: { readonly nowNs: number }): void {
    this.baseNs = state.nowNs;
    this.floorNs = state.nowNs;
    this.baseSource = this.mode === 'realtime' ? this.hostNowMs() : this.instructionCounter();
  }
}
