/** The benchmark history kept in docs/bench-history.json: an array of reports, one per run. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseReport } from '@typevisor/perf-model';
import type { BenchmarkReport } from '@typevisor/perf-model';
import { BenchError } from '@typevisor/cli/bench';

/** Reads the history file (an empty history when it does not exist yet). */
export function readHistory(path: string): BenchmarkReport[] {
  if (!existsSync(path)) return [];
  const data = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!Array.isArray(data)) throw new BenchError(`${path} is not a JSON array of reports`);
  return data.map((report, i) => {
    try {
      return parseReport(report);
    } catch (error) {
      throw new BenchError(`${path}[${i}]: ${(error as Error).message}`);
    }
  });
}

/** Appends `report` to the history file. */
export function appendHistory(path: string, report: BenchmarkReport): number {
  const history = [...readHistory(path), report];
  writeFileSync(path, `${JSON.stringify(history, null, 1)}\n`);
  return history.length;
}
