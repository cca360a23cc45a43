import type { Clock, TimerHandle } from '../types.js';

interface Timer {
  readonly deadline: number;
  readonly order: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A {@link Clock} that only moves when the test says so. `advance` fires due timers in deadline order
 * (ties in creation order), each seeing `now()` equal to its own deadline; timers created by a
 * callback fire in the same `advance` if they are due.
 */
export class ManualClock implements Clock {
  private time: number;
  private readonly timers: Timer[] = [];
  private created = 0;

  constructor(startNs = 0) {
    this.time = startNs;
  }

  /** @inheritDoc */
  now(): number {
    return this.time;
  }

  /** @inheritDoc */
  setTimer(deadlineNs: number, callback: () => void): TimerHandle {
    const timer: Timer = { deadline: deadlineNs, order: this.created++, callback, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers that have neither fired nor been cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }

  /** Moves time forward by `ns` nanoseconds, firing every timer that becomes due. */
  advance(ns: number): void {
    this.advanceTo(this.time + ns);
  }

  /** Moves time to `targetNs` (never backwards), firing every timer that becomes due. */
  advanceTo(targetNs: number): void {
    for (;;) {
      let next: Timer | null = null;
      let nextIndex = -1;
      for (let i = 0; i < this.timers.length; i++) {
        const timer = this.timers[i] as Timer;
        if (timer.cancelled) {
          this.timers.splice(i--, 1);
          continue;
        }
        if (timer.deadline > targetNs) continue;
        if (next === null || timer.deadline < next.deadline || (timer.deadline === next.deadline && timer.order < next.order)) {
          next = timer;
          nextIndex = i;
        }
      }
      if (next === null) break;
      this.timers.splice(nextIndex, 1);
      if (next.deadline > this.time) this.time = next.deadline;
      next.callback();
    }
    if (targetNs > this.time) this.time = targetNs;
  }
}
