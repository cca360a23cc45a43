import { PhysicalMemory, Paging } from '@typevisor/mmu';
import { describe, expect, it } from 'vitest';
import { blockIndex, findBlock } from '../src/blocks.js';
import { CpuCore } from '../src/core.js';
import type { CpuMemory, CpuPaging } from '../src/memory-ports.js';
import { CpuStat } from '../src/stats.js';

/** A core over 1 MiB of NOPs, fetching from linear = physical addresses in 32-bit code. */
function core(): CpuCore {
  const memory = new PhysicalMemory({ ramSize: 1 << 20 });
  memory.ram.fill(0x90);
  const c = new CpuCore(memory as unknown as CpuMemory, new Paging(memory) as CpuPaging, { read: () => 0xff, write: () => {} }, null, null);
  c.fetchGenKey = 1;
  return c;
}

describe('the block cache (two-way sets)', () => {
  it('builds a block in its home entry, the one the run loop probes first, when that entry is free', () => {
    const c = core();
    const phys = 0x2000;
    const home = blockIndex(phys);
    expect(findBlock(c, home, phys, phys)).toBe(home);
    expect(c.bTag[home]).toBe(phys);
    expect(c.bTag[home ^ 1]).toBe(-1);
  });

  it('puts a second block of the same set in the other way, and replaces the colder of two', () => {
    const c = core();
    // 0x2000 and 0x12010 share the entry ((p ^ p >>> 12) & 0xffff); so does 0x22020.
    const [a, b, third] = [0x2000, 0x12010, 0x22020];
    const home = blockIndex(a);
    expect(blockIndex(b)).toBe(home);
    expect(blockIndex(third)).toBe(home);
    expect(findBlock(c, home, a, a)).toBe(home);
    expect(findBlock(c, home, b, b)).toBe(home ^ 1);
    // A finds itself again where it is; B is found in the other way without a rebuild.
    const built = c.stats[CpuStat.BlocksBuilt];
    expect(findBlock(c, home, b, b)).toBe(home ^ 1);
    expect(c.stats[CpuStat.BlocksBuilt]).toBe(built);
    // A has run more often than B: the third block replaces B.
    c.bRuns[home] = 50;
    c.bRuns[home ^ 1] = 3;
    expect(findBlock(c, home, third, third)).toBe(home ^ 1);
    expect(c.bTag[home]).toBe(a);
  });

  it('lets two blocks that take turns in one way have both ways, however hot the block in the other', () => {
    const c = core();
    const [a, b, third] = [0x2000, 0x12010, 0x22020];
    const home = blockIndex(a);
    findBlock(c, home, a, a);
    findBlock(c, home, b, b);
    // A is long-lived and hot (a loop's blocks B and C start over with each build, so never hotter).
    c.bRuns[home] = 5000;
    expect(findBlock(c, home, third, third)).toBe(home ^ 1);
    // B comes back, put out by C just before: C runs along with it, so A goes, and then B and C
    // are both found again without a rebuild.
    expect(findBlock(c, home, b, b)).toBe(home);
    const built = c.stats[CpuStat.BlocksBuilt];
    // (As the run loop looks: the home entry first, then findBlock.)
    const lookUp = (phys: number) => (c.bTag[home] === phys && c.bGen[home] === c.fetchGenKey ? home : findBlock(c, home, phys, phys));
    for (let i = 0; i < 3; i++) {
      expect(lookUp(third)).toBe(home ^ 1);
      expect(lookUp(b)).toBe(home);
    }
    expect(c.stats[CpuStat.BlocksBuilt]).toBe(built);
  });
});
