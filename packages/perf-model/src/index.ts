/**
 * Counters, timers, latency histograms and the R/P/Q virtualization performance model, with
 * benchmark reports as JSON and tables.
 *
 * @packageDocumentation
 */
export { COUNTER_COUNT, COUNTER_NAMES, Counter, Counters, DeviceCounter, counterDelta } from './counters.js';
export type { CounterName, CounterSnapshot } from './counters.js';
export { Histogram, SUB_BUCKETS } from './histogram.js';
export type { HistogramSummary } from './histogram.js';
export { ModelInputError, Units, efficiency, modelFigures, performance, power } from './model.js';
export type { ModelFigures, PlatformMeasurement, Quantity } from './model.js';
export { REPORT_SCHEMA, ReportError, buildReport, formatReport, parseReport, summarizeRuns } from './report.js';
export type { BenchmarkReport, BenchmarkRuns, Ratio, ReportEntry, RunSummary } from './report.js';
export { Stopwatch, hostNowNs } from './stopwatch.js';
