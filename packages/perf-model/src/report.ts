/**
 * Benchmark reports: repeated runs of each benchmark on each platform, summarized as the median with
 * its min–max range, ratios between platforms measured in the same run, and the model figures. A
 * report is plain JSON (so a history can be kept and charted) and prints as a readable table.
 */
import type { ModelFigures, Quantity } from './model.js';

/** Format identifier written into every report. */
export const REPORT_SCHEMA = 'typevisor.bench/1';

/** Repeated measurements of one benchmark on one platform. */
export interface BenchmarkRuns {
  /** Benchmark name, e.g. `boot-to-shell` or `cpu.sha256-16MiB`. */
  readonly benchmark: string;
  /** Where it ran: `typevisor`, `v86`, `qemu-tcg`, `native`, … */
  readonly platform: string;
  /** Unit of every run value, e.g. `s` or `MiB/s`. */
  readonly unit: string;
  /** True when smaller values are better (times, latencies, memory). */
  readonly lowerIsBetter: boolean;
  /** One value per run. */
  readonly runs: readonly number[];
}

/** Median and range of a set of runs. */
export interface RunSummary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly count: number;
}

/** One benchmark on one platform, summarized. */
export interface ReportEntry extends BenchmarkRuns {
  readonly summary: RunSummary;
}

/** How much better `platform` did than `baseline` on one benchmark (> 1: better). */
export interface Ratio {
  readonly benchmark: string;
  readonly platform: string;
  readonly baseline: string;
  readonly value: number;
}

/** A whole benchmark run. */
export interface BenchmarkReport {
  readonly schema: typeof REPORT_SCHEMA;
  /** ISO 8601 time the report was made. */
  readonly createdAt: string;
  /** What the host was, for comparing reports across machines. */
  readonly host: Readonly<Record<string, string | number>>;
  readonly entries: readonly ReportEntry[];
  readonly ratios: readonly Ratio[];
  /** Model figures per platform, when measured. */
  readonly model: Readonly<Record<string, ModelFigures>>;
}

/** Raised for runs or reports that are not usable. */
export class ReportError extends Error {
  override readonly name = 'ReportError';
}

/** Median, minimum and maximum of a non-empty list of finite values. */
export function summarizeRuns(runs: readonly number[]): RunSummary {
  if (runs.length === 0) throw new ReportError('summarizeRuns: no runs to summarize');
  for (const value of runs) if (!Number.isFinite(value)) throw new ReportError(`summarizeRuns: run value ${value} is not finite`);
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], count: sorted.length };
}

/**
 * Builds a report. Ratios are computed between `primary` (default `typevisor`) and every other
 * platform that ran the same benchmark, oriented so that > 1 means `primary` did better.
 */
export function buildReport(input: {
  runs: readonly BenchmarkRuns[];
  host?: Record<string, string | number>;
  model?: Record<string, ModelFigures>;
  primary?: string;
  createdAt?: Date;
}): BenchmarkReport {
  const primary = input.primary ?? 'typevisor';
  const entries: ReportEntry[] = input.runs.map((r) => ({ ...r, runs: [...r.runs], summary: summarizeRuns(r.runs) }));
  const ratios: Ratio[] = [];
  for (const mine of entries.filter((e) => e.platform === primary)) {
    for (const other of entries.filter((e) => e.benchmark === mine.benchmark && e.platform !== primary)) {
      if (other.unit !== mine.unit) throw new ReportError(`${mine.benchmark}: ${primary} measured in ${mine.unit}, ${other.platform} in ${other.unit}`);
      const a = mine.summary.median;
      const b = other.summary.median;
      const value = mine.lowerIsBetter ? b / a : a / b;
      ratios.push({ benchmark: mine.benchmark, platform: primary, baseline: other.platform, value });
    }
  }
  return {
    schema: REPORT_SCHEMA,
    createdAt: (input.createdAt ?? new Date()).toISOString(),
    host: { ...(input.host ?? {}) },
    entries,
    ratios,
    model: { ...(input.model ?? {}) },
  };
}

function formatNumber(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.01) return value.toFixed(3);
  return value.toExponential(2);
}

function formatQuantity(q: Quantity | null): string {
  return q ? `${formatNumber(q.value)} ${q.unit}` : '—';
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

/** A readable, fixed-width rendering of a report. */
export function formatReport(report: BenchmarkReport): string {
  const out: string[] = [`typevisor benchmark report (${report.createdAt})`];
  const hostLine = Object.entries(report.host).map(([k, v]) => `${k}: ${v}`).join(', ');
  if (hostLine) out.push(`host: ${hostLine}`);
  if (report.entries.length) {
    out.push('', table([
      ['benchmark', 'platform', 'median', 'min–max', 'runs'],
      ...report.entries.map((e) => [
        e.benchmark,
        e.platform,
        `${formatNumber(e.summary.median)} ${e.unit}`,
        `${formatNumber(e.summary.min)}–${formatNumber(e.summary.max)}`,
        String(e.summary.count),
      ]),
    ]));
  }
  if (report.ratios.length) {
    out.push('', table([
      ['benchmark', 'vs', 'ratio (>1: typevisor better)'],
      ...report.ratios.map((r) => [r.benchmark, r.baseline, `${formatNumber(r.value)}×`]),
    ]));
  }
  const platforms = Object.keys(report.model);
  if (platforms.length) {
    out.push('', table([
      ['platform', 'R = C/T', 'P = R/C′', 'Q = P/P′native'],
      ...platforms.map((p) => [p, formatQuantity(report.model[p].r), formatQuantity(report.model[p].p), formatQuantity(report.model[p].q)]),
    ]));
  }
  return out.join('\n');
}

/** Checks that `value` is a report of this schema (e.g. read back from a history file). */
export function parseReport(value: unknown): BenchmarkReport {
  const r = value as Partial<BenchmarkReport> | null;
  if (!r || typeof r !== 'object') throw new ReportError('not a benchmark report: expected an object');
  if (r.schema !== REPORT_SCHEMA) throw new ReportError(`unsupported report schema ${JSON.stringify(r.schema)}; expected ${REPORT_SCHEMA}`);
  if (typeof r.createdAt !== 'string' || Number.isNaN(Date.parse(r.createdAt))) throw new ReportError('report.createdAt must be an ISO 8601 time');
  if (!Array.isArray(r.entries) || !Array.isArray(r.ratios)) throw new ReportError('report.entries and report.ratios must be arrays');
  for (const e of r.entries) {
    if (typeof e?.benchmark !== 'string' || typeof e.platform !== 'string' || !Array.isArray(e.runs)) {
      throw new ReportError('every report entry needs benchmark, platform and runs');
    }
  }
  return r as BenchmarkReport;
}
