import type { CharBackend, Clock, IrqLine, TimerHandle } from '../../src/types.js';

/**
 * Small local fakes for the PC device tests (the shared test kit in src/testing may replace them).
 */

interface PendingTimer {
  deadline: number;
  callback: () => void;
  cancelled: boolean;
  order: number;
}

/** A virtual clock moved by hand; timers fire in deadline order with now() at their deadline. */
export class ManualClock implements Clock {
  private time = 0;
  private timers: PendingTimer[] = [];
  private order = 0;

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(deadlineNs: number, callback: () => void): TimerHandle {
    const timer: PendingTimer = { deadline: deadlineNs, callback, cancelled: false, order: this.order++ };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  advance(ns: number): void {
    this.advanceTo(this.time + ns);
  }

  advanceTo(target: number): void {
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: PendingTimer | undefined;
      for (const t of this.timers) {
        if (t.deadline <= target && (next === undefined || t.deadline < next.deadline || (t.deadline === next.deadline && t.order < next.order))) next = t;
      }
      if (next === undefined) break;
      next.cancelled = true;
      if (next.deadline > this.time) this.time = next.deadline;
      next.callback();
    }
    if (target > this.time) this.time = target;
  }
}

/** An IrqLine that records every level change. */
export class RecordingIrqLine implements IrqLine {
  level = false;
  readonly history: boolean[] = [];
  /** Number of low-to-high transitions. */
  risingEdges = 0;

  setLevel(high: boolean): void {
    if (high === this.level) return;
    this.level = high;
    this.history.push(high);
    if (high) this.risingEdges++;
  }
}

/** A CharBackend that collects output and lets a test type input. */
export class LoopbackCharBackend implements CharBackend {
  readonly output: number[] = [];
  private receiver: ((bytes: Uint8Array) => void) | null = null;

  write(bytes: Uint8Array): void {
    for (const b of bytes) this.output.push(b);
  }

  setReceiver(receiver: ((bytes: Uint8Array) => void) | null): void {
    this.receiver = receiver;
  }

  type(text: string | number[]): void {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : Uint8Array.from(text);
    this.receiver?.(bytes);
  }

  get outputText(): string {
    return String.fromCharCode(...this.output);
  }
}
