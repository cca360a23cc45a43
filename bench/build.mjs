// Bundles the benchmark scripts (TypeScript, workspace sources) into bench/dist/*.mjs with esbuild,
// the way packages/vm-manager/test/build-worker.ts bundles a worker. v86 stays external: it loads
// its own .wasm next to its module.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const alias = { '@typevisor/cli/bench': path.join(root, 'apps/cli/src/bench/index.ts') };
for (const name of ['mmu', 'cpu-x86', 'devices', 'perf-model', 'vm-protocol', 'vm-driver', 'vm-manager']) {
  alias[`@typevisor/${name}`] = path.join(root, 'packages', name, 'src/index.ts');
}
alias['@typevisor/vm-driver/node'] = path.join(root, 'packages/vm-driver/src/node/index.ts');

const common = {
  outdir: path.join(here, 'dist'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['v86'],
  alias,
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { run: path.join(here, 'src/run.ts'), chart: path.join(here, 'src/chart.ts'), table: path.join(here, 'src/table.ts') } });

// The VM manager's driver worker, for start latency through VmManager. When it does not build (the
// manager is being worked on), run.mjs measures start latency in-process and the report says so.
const worker = path.join(here, 'dist/driver-worker.mjs');
fs.rmSync(worker, { force: true });
try {
  await build({ ...common, entryPoints: { 'driver-worker': path.join(root, 'packages/vm-manager/src/driver-worker.ts') }, logLevel: 'silent' });
} catch (error) {
  console.warn(`bench/build.mjs: the VmManager driver worker did not build, start latency will be measured in-process:\n  ${error.message.split('\n').slice(0, 3).join('\n  ')}`);
}
