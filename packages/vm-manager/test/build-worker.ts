import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Bundles a worker entry written in TypeScript into one ESM file a Worker can load. */
export async function buildWorker(entry: string): Promise<string> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'typevisor-worker-'));
  const outfile = path.join(outdir, 'worker.mjs');
  const alias: Record<string, string> = {};
  for (const name of ['mmu', 'cpu-x86', 'devices', 'perf-model', 'vm-protocol', 'vm-driver', 'vm-manager']) {
    alias[`@typevisor/${name}`] = path.join(root, 'packages', name, 'src/index.ts');
  }
  alias['@typevisor/vm-driver/node'] = path.join(root, 'packages/vm-driver/src/node/index.ts');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile, alias, logLevel: 'silent', target: 'node20' });
  return outfile;
}
