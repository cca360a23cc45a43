/**
 * Turns the platforms' results into one perf-model report: every run of every benchmark, ratios
 * against typevisor, and R/P/Q per platform where they can be measured.
 */
import { Histogram, buildReport, modelFigures, summarizeRuns } from '@typevisor/perf-model';
import type { BenchmarkReport, ModelFigures, PlatformMeasurement } from '@typevisor/perf-model';
import type { PlatformResult } from './suite.js';

/** Name of the native (no VM) platform in reports. */
export const NATIVE = 'native';

/** The p50 of latency samples in seconds, through a perf-model histogram (nanosecond buckets). */
export function p50Seconds(samples: readonly number[]): number {
  const histogram = new Histogram();
  for (const seconds of samples) histogram.record(Math.round(seconds * 1e9));
  return histogram.percentile(50) / 1e9;
}

/**
 * The model inputs of one platform: C = median instructions of the CPU workloads per run, T = median
 * host seconds of those workloads, C′ = p50 start latency. `instructions` overrides C (natively there
 * is no counter: the same busybox doing the same work retires about the same instructions).
 */
export function measurementOf(result: PlatformResult, instructions?: number): PlatformMeasurement | null {
  const c = instructions ?? (result.cpuInstructions !== null && result.cpuInstructions.length > 0 ? summarizeRuns(result.cpuInstructions).median : null);
  if (c === null || result.cpuSeconds.length === 0 || result.startLatencies.length === 0) return null;
  return { instructions: c, hostSeconds: summarizeRuns(result.cpuSeconds).median, latencySeconds: p50Seconds(result.startLatencies) };
}

/** Options of {@link assembleReport}. */
export interface AssembleOptions {
  readonly results: readonly PlatformResult[];
  /** Host facts (CPU model, cores, versions); notes are added to it. */
  readonly host: Record<string, string | number>;
  readonly createdAt?: Date;
}

/**
 * Builds the report. Platforms without an instruction counter get no R/P/Q (a note says so), except
 * native, whose C is taken from the platform that counted (typevisor first) — documented in the
 * report's host notes.
 */
export function assembleReport(options: AssembleOptions): BenchmarkReport {
  const host: Record<string, string | number> = { ...options.host };
  const byName = new Map(options.results.map((r) => [r.platform, r]));
  const counted = options.results.filter((r) => r.platform !== NATIVE && r.cpuInstructions !== null && r.cpuInstructions.length > 0);
  const reference = byName.get('typevisor') ?? counted[0];
  const referenceC = reference === undefined ? null : measurementOf(reference)?.instructions ?? null;
  const nativeResult = byName.get(NATIVE);
  const native = nativeResult !== undefined && referenceC !== null ? measurementOf(nativeResult, referenceC) : null;
  if (nativeResult !== undefined && native !== null && reference !== undefined) {
    host['note.native.C'] = `native has no instruction counter here: C is ${reference.platform}'s count for the same busybox workloads`;
  }

  const model: Record<string, ModelFigures> = {};
  for (const result of options.results) {
    if (result.notes.length > 0) host[`note.${result.platform}`] = result.notes.join('; ');
    host[`platform.${result.platform}`] = result.description;
    const measurement = result.platform === NATIVE ? native : measurementOf(result);
    if (measurement === null) continue;
    model[result.platform] = result.platform === NATIVE || native === null ? modelFigures(measurement) : modelFigures(measurement, native);
  }
  return buildReport({ runs: options.results.flatMap((r) => r.runs), host, model, ...(options.createdAt ? { createdAt: options.createdAt } : {}) });
}
