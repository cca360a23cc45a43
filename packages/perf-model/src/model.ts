/**
 * The three figures of the classic virtualization performance model, computed from measurements.
 *
 * - **Performance** R = C / T: guest work C (instructions retired) over host time T. Unit: MIPS
 *   (10^6 guest instructions per host second).
 * - **Power** P = R / C′: throughput over latency, where C′ is the latency of one operation of
 *   interest (the p50 of a virtio-blk request, the start of a VM) in seconds. Unit: MIPS/s. A
 *   platform is more powerful when it is both fast and quick to respond.
 * - **Efficiency** Q = P / P′: the platform's figure over the same figure measured natively on the
 *   host (P′ = R′ / C′native). Dimensionless; 1 means the VM is as good as bare metal.
 */

/** A number with its unit, as reports show it. */
export interface Quantity {
  readonly value: number;
  readonly unit: string;
}

/** Unit strings used by the model. */
export const Units = {
  mips: 'MIPS',
  power: 'MIPS/s',
  efficiency: '1',
  seconds: 's',
} as const;

/** Raised when a model input is not a usable measurement. */
export class ModelInputError extends RangeError {
  override readonly name = 'ModelInputError';
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new ModelInputError(`${name} must be a finite number > 0, got ${value}`);
  return value;
}

/** R = C / T in MIPS. `instructions` retired by the guest over `hostSeconds` of host time. */
export function performance(instructions: number, hostSeconds: number): Quantity {
  if (!(instructions >= 0) || !Number.isFinite(instructions)) throw new ModelInputError(`instructions must be a finite number >= 0, got ${instructions}`);
  return { value: instructions / positive('hostSeconds', hostSeconds) / 1e6, unit: Units.mips };
}

/** P = R / C′ in MIPS/s, with `latencySeconds` the per-operation latency C′. */
export function power(r: Quantity, latencySeconds: number): Quantity {
  if (r.unit !== Units.mips) throw new ModelInputError(`power() needs R in ${Units.mips}, got ${r.unit}`);
  return { value: r.value / positive('latencySeconds', latencySeconds), unit: Units.power };
}

/** Q = figure / native figure; both must have the same unit. Dimensionless. */
export function efficiency(figure: Quantity, native: Quantity): Quantity {
  if (figure.unit !== native.unit) throw new ModelInputError(`efficiency() compares like with like: ${figure.unit} vs ${native.unit}`);
  return { value: figure.value / positive('native value', native.value), unit: Units.efficiency };
}

/** The measurements one platform run provides to the model. */
export interface PlatformMeasurement {
  /** Guest instructions retired during the workload (C). */
  readonly instructions: number;
  /** Host seconds the workload took (T). */
  readonly hostSeconds: number;
  /** Latency of the reference operation in seconds (C′), e.g. p50 of a virtio-blk request. */
  readonly latencySeconds: number;
}

/** R, P and (when a native measurement is given) Q for one platform. */
export interface ModelFigures {
  readonly r: Quantity;
  readonly p: Quantity;
  readonly q: Quantity | null;
}

/** Computes R, P and Q from a platform's measurement and, optionally, the native one. */
export function modelFigures(platform: PlatformMeasurement, native?: PlatformMeasurement): ModelFigures {
  const r = performance(platform.instructions, platform.hostSeconds);
  const p = power(r, platform.latencySeconds);
  if (!native) return { r, p, q: null };
  const nativeR = performance(native.instructions, native.hostSeconds);
  return { r, p, q: efficiency(p, power(nativeR, native.latencySeconds)) };
}
