import { describe, expect, it } from 'vitest';
import { PhysicalMemory, guestPhys } from '../src/index.js';

function setup(): { memory: PhysicalMemory; seen: number[] } {
  const memory = new PhysicalMemory({ ramSize: 1 << 20 });
  const seen: number[] = [];
  memory.onCodeWrite = (page) => seen.push(page);
  return { memory, seen };
}

describe('self-modifying code notification', () => {
  it('notifies once per marked page on a CPU write, then unmarks', () => {
    const { memory, seen } = setup();
    memory.markCodePage(5);
    memory.writePhys8(0x5000, 1);
    memory.writePhys32(0x5004, 2);
    expect(seen).toEqual([5]);
    expect(memory.isCodePage(5)).toBe(false);
    expect(memory.readPhys32(0x5004)).toBe(2);
  });

  it('does not notify for reads or for writes to unmarked pages', () => {
    const { memory, seen } = setup();
    memory.markCodePage(5);
    memory.readPhys32(0x5000);
    memory.writePhys32(0x6000, 1);
    expect(seen).toEqual([]);
    expect(memory.isCodePage(5)).toBe(true);
  });

  it('notifies for each width and for a write that crosses into a marked page', () => {
    for (const write of [
      (m: PhysicalMemory) => m.writePhys16(0x5fff, 0xffff),
      (m: PhysicalMemory) => m.writePhys32(0x5ffe, 0xffffffff),
    ]) {
      const { memory, seen } = setup();
      memory.markCodePage(6);
      write(memory);
      expect(seen).toEqual([6]);
      expect(memory.readPhys8(0x6000)).toBe(0xff);
    }
  });

  it('lets the handler mark the page again and be notified again', () => {
    const { memory, seen } = setup();
    memory.onCodeWrite = (page) => {
      seen.push(page);
      if (seen.length === 1) memory.markCodePage(page);
    };
    memory.markCodePage(7);
    memory.writePhys8(0x7000, 1);
    memory.writePhys8(0x7001, 1);
    memory.writePhys8(0x7002, 1);
    expect(seen).toEqual([7, 7]);
  });

  it('notifies for DMA writes (single values and blocks over several pages)', () => {
    const { memory, seen } = setup();
    memory.markCodePage(8);
    memory.markCodePage(10);
    memory.markCodePage(12);
    memory.write32(guestPhys(0x8000), 1);
    expect(memory.writeBytes(guestPhys(0x9ff0), new Uint8Array(0x1020))).toBe(0x1020);
    expect(seen).toEqual([8, 10]);
    expect(memory.isCodePage(12)).toBe(true);
  });

  it('notifies for writes to RAM in a page shared with MMIO, not for writes to ROM', () => {
    const { memory, seen } = setup();
    memory.addMmio(guestPhys(0x3800), 0x100, { read: () => 0, write: () => undefined }, 'dev');
    memory.addRom(guestPhys(0x4000), new Uint8Array(0x1000), 'rom');
    memory.markCodePage(3);
    memory.markCodePage(4);
    memory.writePhys32(0x3800, 1); // MMIO: memory unchanged
    memory.writePhys32(0x4000, 1); // ROM: ignored
    expect(seen).toEqual([]);
    memory.writePhys32(0x3000, 1);
    expect(seen).toEqual([3]);
  });

  it('calls the handler only after the whole write is in memory', () => {
    const { memory } = setup();
    const observed: number[] = [];
    memory.onCodeWrite = () => observed.push(memory.readPhys32(0x5ffe), memory.readPhys32(0x7000));
    memory.markCodePage(5);
    memory.markCodePage(6);
    memory.writePhys32(0x5ffe, 0x11223344); // split across pages 5 and 6
    memory.markCodePage(7);
    memory.writeBytes(guestPhys(0x7000), Uint8Array.from([1, 2, 3, 4]));
    expect(observed).toEqual([0x11223344, 0, 0x11223344, 0, 0x11223344, 0x04030201]);
  });
});
