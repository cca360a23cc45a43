/**
 * Exact conversions between virtual nanoseconds and the edges of a slower device clock (the 8254's
 * 1.193182 MHz input, the RTC's periodic rates). Splitting the time into whole seconds and a
 * remainder keeps every product below 2^53, so a count is exact for the whole life of a machine.
 */

const NS_PER_SECOND = 1_000_000_000;

/**
 * The number of clock edges of a `hz` clock that happened in (0, ns]; edge k is at k / hz seconds.
 * Exact for integral `hz` up to 9 MHz; negative times give negative counts.
 */
export function cyclesAt(ns: number, hz: number): number {
  const t = Math.floor(ns);
  const seconds = Math.floor(t / NS_PER_SECOND);
  const rest = t - seconds * NS_PER_SECOND;
  return seconds * hz + Math.floor((rest * hz) / NS_PER_SECOND);
}

/** The earliest whole nanosecond at which {@link cyclesAt} reaches `cycles`. */
export function timeOfCycle(cycles: number, hz: number): number {
  const seconds = Math.floor(cycles / hz);
  const rest = cycles - seconds * hz;
  let ns = seconds * NS_PER_SECOND + Math.ceil((rest * NS_PER_SECOND) / hz);
  // Guard against a rounded quotient: the result must really be the first such nanosecond.
  while (cyclesAt(ns, hz) < cycles) ns++;
  while (cyclesAt(ns - 1, hz) >= cycles) ns--;
  return ns;
}
