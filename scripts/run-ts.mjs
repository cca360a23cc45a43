#!/usr/bin/env node
// Runs a TypeScript script of this repository (a benchmark, fuzzer or long-run checker) on Node 20,
// which cannot run TypeScript itself: bundles it with esbuild, resolving workspace packages to their
// sources, into node_modules/.cache/typevisor/, then runs it with the remaining arguments.
//   node scripts/run-ts.mjs packages/vm-manager/scripts/model-check.ts --runs 10000
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PACKAGES } from './package-graph.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <script.ts> [arguments...]');
  process.exit(2);
}
const alias = {};
for (const [name, p] of Object.entries(PACKAGES)) alias[name] = path.join(root, p.dir, 'src/index.ts');
alias['@typevisor/devices/testing'] = path.join(root, 'packages/devices/src/testing/index.ts');
alias['@typevisor/vm-driver/node'] = path.join(root, 'packages/vm-driver/src/node/index.ts');
const outdir = path.join(root, 'node_modules/.cache/typevisor');
fs.mkdirSync(outdir, { recursive: true });
const outfile = path.join(outdir, `${path.basename(entry, '.ts')}.mjs`);
await build({
  entryPoints: [path.resolve(entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, alias,
  external: ['esbuild'], sourcemap: 'inline', logLevel: 'warning',
});
const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
