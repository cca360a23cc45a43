import type { TimerHandle } from '@typevisor/devices';

/** One armed timer. Cancelled entries stay in the heap until they surface (lazy deletion). */
class Timer implements TimerHandle {
  cancelled = false;
  fired = false;

  constructor(
    readonly deadline: number,
    readonly sequence: number,
    readonly callback: () => void,
    private readonly queue: TimerQueue,
  ) {}

  cancel(): void {
    if (this.cancelled || this.fired) return;
    this.cancelled = true;
    this.queue.noteCancelled();
  }
}

/**
 * A min-heap of timers ordered by deadline, then by arming order, so timers with equal deadlines fire
 * in the order they were set — that keeps deterministic runs reproducible.
 */
export class TimerQueue {
  private heap: Timer[] = [];
  private sequence = 0;
  private cancelledCount = 0;

  /** Number of armed, not cancelled timers. */
  get size(): number {
    return this.heap.length - this.cancelledCount;
  }

  add(deadline: number, callback: () => void): TimerHandle {
    if (typeof deadline !== 'number' || Number.isNaN(deadline)) throw new RangeError(`timer deadline ${String(deadline)} is not a number`);
    const timer = new Timer(deadline, this.sequence++, callback, this);
    this.heap.push(timer);
    this.siftUp(this.heap.length - 1);
    return timer;
  }

  /** Deadline of the earliest live timer, or `Infinity`. */
  nextDeadline(): number {
    this.dropCancelledTop();
    return this.heap.length === 0 ? Infinity : this.heap[0]!.deadline;
  }

  /**
   * Fires timers whose deadline is at or before `now`, at most `limit` of them (a device that keeps
   * re-arming a timer in the past cannot hang the host). Returns how many fired.
   */
  fireDue(now: number, limit: number): number {
    let fired = 0;
    while (fired < limit) {
      this.dropCancelledTop();
      const top = this.heap[0];
      if (top === undefined || top.deadline > now) break;
      this.pop();
      top.fired = true;
      fired++;
      top.callback();
    }
    return fired;
  }

  /** Called by a timer when cancelled; compacts the heap when it is mostly dead entries. */
  noteCancelled(): void {
    this.cancelledCount++;
    if (this.cancelledCount > 64 && this.cancelledCount * 2 > this.heap.length) {
      this.heap = this.heap.filter((timer) => !timer.cancelled);
      this.cancelledCount = 0;
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    }
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) {
      this.pop();
      this.cancelledCount--;
    }
  }

  private pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
  }

  private less(a: Timer, b: Timer): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.sequence < b.sequence);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && this.less(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.less(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === index) return;
      [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
      index = smallest;
    }
  }
}
