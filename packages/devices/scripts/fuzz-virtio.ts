/**
 * Fuzzes every virtio device of @typevisor/devices with random guest programs (see
 * runVirtioFuzzInput in src/testing/virtio-fuzz.ts) and reports any host exception or invariant break.
 *
 * Run (from the repository root):
 *   npx esbuild packages/devices/scripts/fuzz-virtio.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/fuzz-virtio.mjs && node /tmp/fuzz-virtio.mjs --count 1000000 --seed 1
 */
import { runVirtioFuzzInput } from '../src/testing/index.js';

interface NodeProcess {
  argv: string[];
  exitCode?: number;
  stdout: { write(text: string): void };
}
const nodeProcess = (globalThis as unknown as { process: NodeProcess }).process;

function option(name: string, fallback: number): number {
  const index = nodeProcess.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(nodeProcess.argv[index + 1]) : fallback;
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number`);
  return value;
}

/** mulberry32: a small seeded PRNG so a failing input can be regenerated from (seed, index). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const count = option('count', 1_000_000);
const seed = option('seed', 1);
const next = prng(seed);
const started = Date.now();
const perTarget = new Map<string, { runs: number; driverOk: number; needsReset: number; notifications: number }>();
let failures = 0;
let operations = 0;

for (let run = 0; run < count; run++) {
  // Mostly short programs (fast, many states), some long ones (deep sequences).
  const length = (next() & 7) === 0 ? 256 + (next() % 1792) : 16 + (next() % 240);
  const input = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const word = next();
    input[i] = word & 0xff;
    if (i + 1 < length) input[i + 1] = (word >>> 8) & 0xff;
    if (i + 2 < length) input[i + 2] = (word >>> 16) & 0xff;
    if (i + 3 < length) input[i + 3] = word >>> 24;
  }
  try {
    const result = runVirtioFuzzInput(input);
    operations += result.operations;
    const stats = perTarget.get(result.target) ?? { runs: 0, driverOk: 0, needsReset: 0, notifications: 0 };
    stats.runs++;
    if (result.reachedDriverOk) stats.driverOk++;
    if (result.sawNeedsReset) stats.needsReset++;
    stats.notifications += result.notifications;
    perTarget.set(result.target, stats);
  } catch (error) {
    failures++;
    const hex = Array.from(input, (b) => b.toString(16).padStart(2, '0')).join('');
    nodeProcess.stdout.write(`FAILURE run ${run} (seed ${seed}): ${error instanceof Error ? error.stack ?? error.message : String(error)}\ninput ${hex}\n`);
    if (failures >= 10) break;
  }
  if ((run + 1) % 100_000 === 0) {
    nodeProcess.stdout.write(`${run + 1} inputs, ${failures} failures, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
}

nodeProcess.stdout.write(`\nvirtio fuzz: ${count} inputs (seed ${seed}), ${operations} guest operations, ${failures} failures, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
for (const [target, stats] of perTarget) {
  nodeProcess.stdout.write(
    `  ${target}: ${stats.runs} inputs, ${stats.driverOk} reached DRIVER_OK, ${stats.needsReset} reached DEVICE_NEEDS_RESET, ${stats.notifications} notifications processed\n`,
  );
}
nodeProcess.exitCode = failures === 0 ? 0 : 1;
