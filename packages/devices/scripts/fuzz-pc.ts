/**
 * Long-running fuzzer for the PC chipset: drives every device, wired as in a machine, with a
 * deterministic stream of random register reads/writes, clock advances, IRQ changes, interrupt
 * acknowledges, host input and snapshot round trips, checking after every batch that nothing threw,
 * no timer leaked and no state grew without bound.
 *
 * Run from the repository root (esbuild bundles the TypeScript; nothing else is needed):
 *   npx esbuild packages/devices/scripts/fuzz-pc.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/fuzz-pc.mjs && node /tmp/fuzz-pc.mjs [inputs=1000000] [seed=1]
 */
import { ChipsetHarness } from '../test/pc/chipset-harness.js';

declare const process: { argv: string[]; exitCode?: number };

/** xorshift32: a small deterministic generator, so a failure replays from its seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

const inputs = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
const next = generator(seed);
const started = Date.now();
let harness = new ChipsetHarness();
let machines = 1;
let acknowledged = 0;
let resets = 0;
try {
  for (let i = 0; i < inputs; i++) {
    harness.step(next(), next(), next(), next(), next());
    if (i % 1000 === 999) harness.checkInvariants();
    if (i % 20_000 === 19_999) {
      acknowledged += harness.acknowledged;
      resets += harness.resets;
      harness = new ChipsetHarness();
      machines++;
    }
  }
  harness.checkInvariants();
  acknowledged += harness.acknowledged;
  resets += harness.resets;
  const seconds = (Date.now() - started) / 1000;
  console.log(`fuzz-pc: ${inputs} inputs (seed ${seed}) on ${machines} chipsets in ${seconds.toFixed(1)} s: ` +
    `no exceptions, invariants held; ${acknowledged} interrupts acknowledged, ${resets} guest resets`);
} catch (error) {
  console.error(`fuzz-pc: failure (seed ${seed}):`, error);
  process.exitCode = 1;
}
