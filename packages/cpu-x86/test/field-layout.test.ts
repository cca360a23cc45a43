import { setFlagsFromString } from 'node:v8';
import { PhysicalMemory, Paging } from '@typevisor/mmu';
import { describe, expect, it } from 'vitest';
import { CpuCore } from '../src/core.js';
import type { CpuMemory, CpuPaging } from '../src/memory-ports.js';

// V8's own test of whether two objects have the same hidden class (map), callable once natives syntax is on.
setFlagsFromString('--allow-natives-syntax');
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b);') as (a: object, b: object) => boolean;

function core(): CpuCore {
  const memory = new PhysicalMemory({ ramSize: 1 << 16 });
  return new CpuCore(memory as unknown as CpuMemory, new Paging(memory) as CpuPaging, { read: () => 0xff, write: () => {} }, null, null);
}

describe('the core\'s field layout', () => {
  it('stays the same when the retired count outgrows 31-bit small integers (no new map, so no optimised code is thrown away)', () => {
    const fresh = core(), long = core();
    expect(sameMap(fresh, long)).toBe(true);
    // What a long run does: past 2^30 instructions the count is no longer a small integer in V8.
    long.retired = 2 ** 31 + 5;
    long.mixRetired = 2 ** 32 + 1;
    expect(sameMap(fresh, long)).toBe(true);
    expect(sameMap(fresh, core())).toBe(true);
    expect(fresh.retired).toBe(0);
    expect(Object.is(fresh.retired, 0)).toBe(true);
  });
});
