/**
 * How the run loop waits on the host: "soon" (yield to the event loop so host I/O gets its turn) and
 * "after a delay". Uses only globals that browsers and Node share, preferring setImmediate where it
 * exists because setTimeout(0) is clamped to 1 ms or more.
 */
export interface HostScheduler {
  /** Host monotonic time in milliseconds. */
  now(): number;
  /** Runs `callback` after `ms` milliseconds (0 = as soon as the event loop is free). */
  schedule(callback: () => void, ms: number): { cancel(): void };
}

type Immediate = (callback: () => void) => unknown;
type ClearImmediate = (handle: unknown) => void;

/** The default scheduler: performance.now, setImmediate/setTimeout. */
export const defaultHostScheduler: HostScheduler = {
  now: () => performance.now(),
  schedule(callback, ms) {
    const g = globalThis as { setImmediate?: Immediate; clearImmediate?: ClearImmediate };
    if (ms <= 0 && g.setImmediate !== undefined && g.clearImmediate !== undefined) {
      const handle = g.setImmediate(callback);
      const clear = g.clearImmediate;
      return { cancel: () => clear(handle) };
    }
    const handle = setTimeout(callback, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};
