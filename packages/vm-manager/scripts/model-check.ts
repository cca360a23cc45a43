// Runs the lifecycle model check at scale: `--runs N --seed S` (default 10,000 sequences).
//   node scripts/run-ts.mjs packages/vm-manager/scripts/model-check.ts --runs 10000
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { VmManager } from '@typevisor/vm-manager';
import { buildWorker } from '../test/build-worker.js';
import { checkLifecycleModel } from '../test/model/lifecycle-model.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string', default: String(Date.now() % 2 ** 31) } } });
const runs = Number(values.runs);
const seed = Number(values.seed);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'typevisor-model-'));
const worker = await buildWorker(path.resolve('packages/vm-manager/test/fixtures/fake-driver-worker.ts'));
const manager = new VmManager({ workerUrl: worker, stopTimeoutMs: 300 });
const started = Date.now();
try {
  await checkLifecycleModel(manager, dir, { seed, runs });
  console.log(`lifecycle model: ${runs} sequences (seed ${seed}) agreed with the model in ${((Date.now() - started) / 1000).toFixed(1)} s; no VM got stuck`);
} catch (error) {
  console.error(`lifecycle model: divergence (seed ${seed}):\n${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await manager.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
}
