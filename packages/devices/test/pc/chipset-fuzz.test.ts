import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChipsetHarness } from './chipset-harness.js';

describe('PC chipset under random register traffic', () => {
  it('never throws, never leaks timers, keeps state bounded; snapshots always restore', () => {
    const input = fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.nat()), { maxLength: 120 });
    fc.assert(
      fc.property(input, (ops) => {
        const harness = new ChipsetHarness();
        for (const [op, a, b, c, d] of ops) harness.step(op, a, b, c, d);
        harness.checkInvariants();
        for (const device of harness.devices) {
          const state = JSON.parse(JSON.stringify(device.saveState()));
          device.restoreState(state);
          expect(JSON.stringify(device.saveState()).length).toBeGreaterThan(0);
        }
      }),
      { seed: 0x5eed, numRuns: 2000 },
    );
  }, 60_000);
});
