/// <reference types="node" />
import { execFileSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, test, vi } from 'vitest';
import { GUEST_ENGINE_FLAGS, tuneEngineForGuests } from '@typevisor/vm-driver/node';

vi.mock('node:v8', () => ({ setFlagsFromString: vi.fn() }));

// Calls of a function that leaves at its first return (as a compiled guest block leaves through a
// side exit) until V8 marks it for optimisation, in a fresh process with the given flags set at run
// time the way tuneEngineForGuests sets them.
const CALLS_UNTIL_TIER_UP = `
import { setFlagsFromString } from 'node:v8';
for (const flag of JSON.parse(process.argv[1])) setFlagsFromString(flag);
const body = Array.from({ length: 200 }, (_, i) => 's = (s + x * ' + i + ') | 0;').join('\\n');
const block = new Function('x', 'let s = 0; if (x > 0) return x;\\n' + body + '\\nreturn s;');
const status = new Function('f', 'return %GetOptimizationStatus(f)');
const OPTIMISED_OR_MARKED = 16 | 32 | 64 | 256 | 512 | 1024; // optimised (any tier), or marked or queued for it
let calls = 0;
while (calls < 2_000_000 && (status(block) & OPTIMISED_OR_MARKED) === 0) { block(1); calls++; }
console.log(calls);
`;

function callsUntilTierUp(flags: readonly string[]): number {
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', CALLS_UNTIL_TIER_UP, JSON.stringify(flags)]);
  return Number(out.toString().trim());
}

describe('tuning V8 for guests', () => {
  test('an early-leaving function reaches the optimising compiler several times sooner with the flags', () => {
    const plain = callsUntilTierUp([]);
    const tuned = callsUntilTierUp(GUEST_ENGINE_FLAGS);
    expect(tuned).toBeGreaterThan(0);
    expect(plain).toBeLessThan(2_000_000);
    expect(tuned * 4).toBeLessThan(plain);
  });

  test('sets each flag for the process once, and says so only the first time', () => {
    expect(tuneEngineForGuests()).toEqual(GUEST_ENGINE_FLAGS);
    expect(vi.mocked(setFlagsFromString).mock.calls.map(([flag]) => flag)).toEqual([...GUEST_ENGINE_FLAGS]);
    expect(tuneEngineForGuests()).toEqual([]);
    expect(vi.mocked(setFlagsFromString)).toHaveBeenCalledTimes(GUEST_ENGINE_FLAGS.length);
  });
});
