/**
 * Regenerates the history chart:
 *
 *   node bench/dist/chart.mjs [docs/bench-history.json] [docs/bench-history.svg]
 */
import { writeFileSync } from 'node:fs';
import { readHistory } from './history.js';
import { renderHistorySvg } from './history-chart.js';

const [input = 'docs/bench-history.json', output = 'docs/bench-history.svg'] = process.argv.slice(2);
try {
  const history = readHistory(input);
  writeFileSync(output, renderHistorySvg(history));
  process.stderr.write(`chart: ${history.length} reports from ${input} -> ${output}\n`);
} catch (error) {
  process.stderr.write(`chart: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
