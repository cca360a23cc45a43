/**
 * A latency histogram with bounded memory and bounded error: values are kept in log-linear buckets
 * (each power of two split into linear steps), so a percentile is reported within 1/SUB_BUCKETS
 * (about 1.6 %) of the true value for values of at least SUB_BUCKETS, and within 0.5 below that.
 * Record latencies in nanoseconds and the absolute part never matters.
 */

const SUB_BUCKET_BITS = 6;
/** Linear steps per power of two. */
export const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const MAGNITUDES = 64;

/** Percentiles and extremes of recorded values, in the unit they were recorded in. */
export interface HistogramSummary {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** Records non-negative values (e.g. nanoseconds) and answers percentile queries. */
export class Histogram {
  readonly #buckets = new Float64Array(MAGNITUDES * SUB_BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Number of recorded values. */
  get count(): number {
    return this.#count;
  }

  /** Records one value. Negative values and NaN are rejected with a RangeError. */
  record(value: number): void {
    if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`Histogram.record: expected a finite value >= 0, got ${value}`);
    this.#buckets[bucketOf(value)]++;
    this.#count++;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /** The value below which `p` percent of the recorded values fall (0 <= p <= 100); 0 when empty. */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`Histogram.percentile: p must be in [0, 100], got ${p}`);
    if (this.#count === 0) return 0;
    if (p === 100) return this.#max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i];
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, bucketMidpoint(i)));
    }
    return this.#max;
  }

  /** Count, extremes, mean and the usual percentiles. */
  summary(): HistogramSummary {
    const empty = this.#count === 0;
    return {
      count: this.#count,
      min: empty ? 0 : this.#min,
      max: empty ? 0 : this.#max,
      mean: empty ? 0 : this.#sum / this.#count,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
    };
  }

  /** Forgets every recorded value. */
  reset(): void {
    this.#buckets.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
  }
}

function bucketOf(value: number): number {
  if (value < SUB_BUCKETS) return Math.floor(value);
  const magnitude = Math.floor(Math.log2(value)) - SUB_BUCKET_BITS + 1;
  const sub = Math.floor(value / 2 ** magnitude) - SUB_BUCKETS / 2;
  return Math.min(MAGNITUDES * SUB_BUCKETS - 1, SUB_BUCKETS + (magnitude - 1) * (SUB_BUCKETS / 2) + sub);
}

function bucketMidpoint(index: number): number {
  if (index < SUB_BUCKETS) return index + 0.5;
  const offset = index - SUB_BUCKETS;
  const magnitude = Math.floor(offset / (SUB_BUCKETS / 2)) + 1;
  const sub = (offset % (SUB_BUCKETS / 2)) + SUB_BUCKETS / 2;
  return (sub + 0.5) * 2 ** magnitude;
}
