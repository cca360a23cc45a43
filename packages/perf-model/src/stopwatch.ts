/**
 * Host-time measurement that works in Node and browsers alike (the `performance` global), so the
 * core packages can time things without importing Node.
 */

/** A monotonic host clock in nanoseconds (float64). */
export function hostNowNs(): number {
  return globalThis.performance.now() * 1e6;
}

/** Measures elapsed host time. */
export class Stopwatch {
  #startedNs = hostNowNs();

  /** Starts counting again from now. */
  restart(): void {
    this.#startedNs = hostNowNs();
  }

  /** Nanoseconds since construction or the last restart. */
  elapsedNs(): number {
    return hostNowNs() - this.#startedNs;
  }

  /** Seconds since construction or the last restart. */
  elapsedSeconds(): number {
    return this.elapsedNs() / 1e9;
  }
}
