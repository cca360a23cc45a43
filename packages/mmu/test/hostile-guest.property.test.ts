import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Paging, PhysicalMemory, guestPhys } from '../src/index.js';
import type { AccessSize, MmioHandler } from '../src/index.js';

/*
 * Guest memory and page tables are hostile input. Whatever they contain, translation and physical
 * accesses must not throw, must return values of the right shape, and the only bytes the MMU itself
 * may change in guest RAM are the accessed/dirty bits (bits 5 and 6 of an entry's low byte).
 */

const RAM = 1 << 20;
const MMIO_BASE = RAM; // right after RAM: page tables that point past RAM land in a device
const MMIO_SIZE = 0x1000;

/** An MMIO device that checks it is only ever addressed inside its window with a legal width. */
class StrictDevice implements MmioHandler {
  violations = 0;
  read(offset: number, size: AccessSize): number {
    this.check(offset, size);
    return 0x5a5a5a5a;
  }
  write(offset: number, size: AccessSize, _value: number): void {
    this.check(offset, size);
  }
  private check(offset: number, size: AccessSize): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > MMIO_SIZE || ![1, 2, 4].includes(size)) this.violations++;
  }
}

/** Deterministic filler: dwords mostly pointing into RAM (so walks go deep), some fully random. */
function fillGuestMemory(ram: Uint8Array, seed: number): void {
  let x = seed | 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let i = 0; i < ram.length; i += 4) {
    const r = next();
    const choice = next() & 7;
    const v = choice === 0 ? r : choice === 1 ? 0 : choice === 2 ? r & 0x800fffff : r & 0x001fffff;
    ram[i] = v;
    ram[i + 1] = v >>> 8;
    ram[i + 2] = v >>> 16;
    ram[i + 3] = v >>> 24;
  }
}

const accessArb = fc.record({
  linear: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0x3fffff })),
  kind: fc.constantFrom(0 as const, 1 as const, 2 as const),
  user: fc.boolean(),
  invalidate: fc.integer({ min: 0, max: 9 }),
});

const scenarioArb = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  cr0: fc.record({ wp: fc.boolean() }).map(({ wp }) => (0x80000001 | (wp ? 1 << 16 : 0)) >>> 0),
  cr3: fc.oneof(fc.integer({ min: 0, max: RAM - 1 }), fc.integer({ min: 0, max: 0xffffffff })),
  cr4: fc.integer({ min: 0, max: 7 }).map((b) => ((b & 1) << 4) | ((b & 2) << 4) | ((b & 4) << 5)), // PSE, PAE, PGE
  efer: fc.constantFrom(0, 1 << 11),
  a20: fc.boolean(),
  accesses: fc.array(accessArb, { minLength: 20, maxLength: 60 }),
});

describe('hostile guest (property)', () => {
  const memory = new PhysicalMemory({ ramSize: RAM });
  const device = new StrictDevice();
  memory.addMmio(guestPhys(MMIO_BASE), MMIO_SIZE, device, 'strict');
  memory.addRom(guestPhys(0xf0000), new Uint8Array(0x1000).fill(0xa5), 'rom');
  const paging = new Paging(memory);
  const before = new Uint8Array(RAM);

  it('random page tables and accesses never throw and only set A/D bits inside RAM', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        fillGuestMemory(memory.ram, s.seed);
        before.set(memory.ram);
        paging.setA20(s.a20);
        paging.setControl(s.cr0, s.cr3, s.cr4, s.efer);
        for (const a of s.accesses) {
          const phys = paging.translate(a.linear, a.kind, a.user);
          if (phys === -1) {
            const code = paging.faultErrorCode;
            expect(code >>> 5).toBe(0);
            expect((code & 2) !== 0).toBe(a.kind === 1);
            expect((code & 4) !== 0).toBe(a.user);
            if ((code & 16) !== 0) expect(a.kind).toBe(2);
            expect(paging.faultAddress).toBe(a.linear);
          } else {
            expect(Number.isInteger(phys) && phys >= 0 && phys < 2 ** 36).toBe(true);
            expect(phys % 4096).toBe(a.linear & 0xfff);
            const cached = paging.lookup(a.linear, a.kind, a.user);
            if (phys < 2 ** 32) expect(cached).toBe(phys);
            else expect(cached).toBe(-1);
            const value = memory.readPhys32(phys);
            expect(value >= 0 && value <= 0xffffffff).toBe(true);
          }
          if (a.invalidate === 0) paging.invalidatePage(a.linear);
          if (a.invalidate === 1) paging.writeCr3(s.cr3);
        }
        for (let i = 0; i < RAM; i++) {
          const was = before[i];
          const now = memory.ram[i];
          if (was === now) continue;
          expect({ offset: i % 4, changed: (was ^ now) & ~0x60, cleared: was & ~now }).toEqual({ offset: 0, changed: 0, cleared: 0 });
        }
        expect(device.violations).toBe(0);
        expect(memory.readPhys8(0xf0000)).toBe(0xa5);
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('random physical accesses of every width never throw and stay in range', () => {
    const addressArb = fc.oneof(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: RAM - 8, max: RAM + MMIO_SIZE + 8 }),
      fc.integer({ min: 0xefff0, max: 0xf1010 }),
      fc.constantFrom(-1, -4096, 2 ** 32, 2 ** 36 - 1, 0.5, Number.NaN, Number.POSITIVE_INFINITY),
    );
    const opArb = fc.record({ addr: addressArb, width: fc.constantFrom(1, 2, 4), write: fc.boolean(), value: fc.integer() });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 50 }), (ops) => {
        for (const op of ops) {
          if (op.write) {
            if (op.width === 1) memory.writePhys8(op.addr, op.value);
            else if (op.width === 2) memory.writePhys16(op.addr, op.value);
            else memory.writePhys32(op.addr, op.value);
          } else {
            const v = op.width === 1 ? memory.readPhys8(op.addr) : op.width === 2 ? memory.readPhys16(op.addr) : memory.readPhys32(op.addr);
            expect(Number.isInteger(v) && v >= 0 && v < 2 ** (8 * op.width)).toBe(true);
          }
          const buffer = new Uint8Array(16);
          const n = memory.readBytes(guestPhys(op.addr), buffer);
          expect(n >= 0 && n <= 16).toBe(true);
        }
        expect(device.violations).toBe(0);
        expect(memory.ram.length).toBe(RAM);
      }),
      { numRuns: 200 },
    );
  });
});
