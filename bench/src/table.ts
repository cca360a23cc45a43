/**
 * Prints a report as a Markdown table (for docs/benchmarks.md):
 *
 *   node bench/dist/table.mjs report.json
 */
import { readFileSync } from 'node:fs';
import { parseReport } from '@typevisor/perf-model';
import { reportToMarkdown } from './markdown.js';

const [input] = process.argv.slice(2);
if (input === undefined) {
  process.stderr.write('usage: node bench/dist/table.mjs REPORT.json\n');
  process.exit(2);
}
try {
  process.stdout.write(reportToMarkdown(parseReport(JSON.parse(readFileSync(input, 'utf8')))));
} catch (error) {
  process.stderr.write(`table: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
