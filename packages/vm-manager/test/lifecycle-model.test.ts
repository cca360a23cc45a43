import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { VmManager } from '@typevisor/vm-manager';
import { buildWorker } from './build-worker.js';
import { checkLifecycleModel } from './model/lifecycle-model.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'typevisor-model-'));
let manager: VmManager;
beforeAll(async () => {
  manager = new VmManager({ workerUrl: await buildWorker(new URL('./fixtures/fake-driver-worker.ts', import.meta.url).pathname), stopTimeoutMs: 300 });
});
afterAll(async () => {
  await manager.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('lifecycle model (fast-check commands)', () => {
  // A fixed-seed sample; scripts/model-check.ts runs 10,000+ sequences.
  it('agrees with the model on random and concurrent command sequences, and no VM gets stuck', async () => {
    await checkLifecycleModel(manager, dir, { seed: 20261126, runs: 40 });
  }, 120_000);
});
